"""An inline message strip at the top of the window: errors and outcomes without modal dialogs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

# level -> (background, border, text colour)
_COLORS = {
    "error": ("#fdecea", "#e57373", "#8e1b1b"),
    "warning": ("#fff8e1", "#ffb300", "#6d4c00"),
    "success": ("#e8f5e9", "#66bb6a", "#1b5e20"),
    "info": ("#e3f2fd", "#64b5f6", "#0d3c61"),
}
_PREFIX = {"error": "Error: ", "warning": "Warning: ", "success": "", "info": ""}


class MessageBanner(QFrame):
    """Shows one message (error, warning, success or info) until closed or replaced.

    Errors the user can fix (a wrong path, a bad setting) land here instead of in
    a modal dialog, so they are readable next to the field they are about and
    never stop the window.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.level = ""
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self._label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        return self._label.text()

    def show_message(self, text: str, level: str = "error") -> None:
        background, border, color = _COLORS.get(level, _COLORS["info"])
        self.level = level
        self.setStyleSheet(
            f"#messageBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel {{ color: {color}; }}"
        )
        self._label.setText(_PREFIX.get(level, "") + text)
        self.show()

    def clear(self) -> None:
        self.level = ""
        self._label.clear()
        self.hide()
