"""An inline message strip at the top of the window or a page: errors and outcomes without modal dialogs."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

# level -> (background, border, text colour); the strip keeps its light colours in the dark theme
# too, so its text, its close button and its button are given dark-on-light colours explicitly
# (never the palette's, whose dark-theme text is near white).
COLORS = {
    "error": ("#fdecea", "#e57373", "#8e1b1b"),
    "warning": ("#fff8e1", "#ffb300", "#6d4c00"),
    "success": ("#e8f5e9", "#66bb6a", "#1b5e20"),
    "info": ("#e3f2fd", "#64b5f6", "#0d3c61"),
}
BUTTON_BACKGROUND = "#ffffff"
_PREFIX = {"error": "Error: ", "warning": "Warning: ", "success": "", "info": ""}


class MessageBanner(QFrame):
    """Shows one message (error, warning, success or info) until it is closed or a newer one replaces it.

    Errors the user can fix (a wrong path, a bad setting) land here instead of in
    a modal dialog, so they are readable next to the field they are about and
    never stop the window. A message may carry one button (e.g. Resume) and say
    what it is `about`, so that it can be taken back when that is gone
    (`clear(about=...)`). `shown` fires with each new message.
    """

    shown = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.level = ""
        self.about = ""
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        self._action: Callable[[], object] | None = None
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss this message")
        self.close_button.clicked.connect(lambda: self.clear())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self._label, 1)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        return self._label.text()

    @property
    def label(self) -> QLabel:
        return self._label

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], object]] | None = None, about: str = "") -> None:
        """Show `text` instead of the message before; `action` is (button text, what it does) for one
        button beside it."""
        background, border, color = COLORS.get(level, COLORS["info"])
        self.level = level if level in COLORS else "info"
        self.about = about
        self.setStyleSheet(
            f"#messageBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel, #messageBanner QToolButton {{ color: {color}; }}"
            f"#messageBanner QPushButton {{ color: {color}; background: {BUTTON_BACKGROUND}; "
            f"border: 1px solid {border}; border-radius: 3px; padding: 3px 10px; }}"
            f"#messageBanner QPushButton:hover {{ background: {background}; }}"
        )
        self._label.setText(_PREFIX.get(self.level, "") + text)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.show()
        self.shown.emit()

    def _run_action(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()

    def clear(self, about: str | None = None) -> None:
        """Take the message away (only if it is `about` that, when given)."""
        if about is not None and about != self.about:
            return
        self.level = ""
        self.about = ""
        self._action = None
        self._label.clear()
        self.action_button.hide()
        self.hide()
