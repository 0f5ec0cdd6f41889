"""An inline message strip at the top of the window: errors and outcomes without modal dialogs."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout

# level -> (background, border, text colour); the strip keeps its light colours in the dark theme
# too, so its text and its close button are given dark colours explicitly (never the palette's).
COLORS = {
    "error": ("#fdecea", "#e57373", "#8e1b1b"),
    "warning": ("#fff8e1", "#ffb300", "#6d4c00"),
    "success": ("#e8f5e9", "#66bb6a", "#1b5e20"),
    "info": ("#e3f2fd", "#64b5f6", "#0d3c61"),
}
_PREFIX = {"error": "Error: ", "warning": "Warning: ", "success": "", "info": ""}
KEEP = 5  # messages remembered
EARLIER_SHOWN = 2  # earlier messages listed when expanded


class MessageBanner(QFrame):
    """Shows the newest message (error, warning, success or info) until closed or replaced.

    Errors the user can fix (a wrong path, a bad setting) land here instead of in
    a modal dialog, so they are readable next to the field they are about and
    never stop the window. A message may carry one button (e.g. Resume). Older
    messages collapse into "n earlier" below the newest: one strip, never a pile.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.level = ""
        self.history: list[tuple[str, str]] = []  # (level, text), newest first
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._earlier = QLabel()
        self._earlier.setWordWrap(True)
        self._earlier.setObjectName("earlierMessages")
        self._earlier.hide()
        self.earlier_button = QToolButton()
        self.earlier_button.setAutoRaise(True)
        self.earlier_button.setCheckable(True)
        self.earlier_button.toggled.connect(self._show_earlier)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        self._action: Callable[[], object] | None = None
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss these messages")
        self.close_button.clicked.connect(self.clear)
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.addWidget(self._label)
        text.addWidget(self._earlier)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addLayout(text, 1)
        layout.addWidget(self.earlier_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        return self._label.text()

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], object]] | None = None) -> None:
        """Show `text` on top; `action` is (button text, what it does) for one button beside it."""
        background, border, color = COLORS.get(level, COLORS["info"])
        self.level = level
        self.setStyleSheet(
            f"#messageBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel, #messageBanner QToolButton {{ color: {color}; }}"
            f"#messageBanner #earlierMessages {{ color: {color}; font-size: 90%; }}"
        )
        shown = _PREFIX.get(level, "") + text
        self.history = [(level, shown)] + [item for item in self.history if item[1] != shown][: KEEP - 1]
        self._label.setText(shown)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self._refresh_earlier()
        self.show()

    def _refresh_earlier(self) -> None:
        earlier = self.history[1:]
        self.earlier_button.setVisible(bool(earlier))
        self.earlier_button.setText(f"{len(earlier)} earlier {'▴' if self.earlier_button.isChecked() else '▾'}")
        self.earlier_button.setToolTip("Show or hide the earlier messages.")
        self._earlier.setText("\n".join(f"• {text}" for _level, text in earlier[:EARLIER_SHOWN]))
        self._earlier.setVisible(bool(earlier) and self.earlier_button.isChecked())

    def _show_earlier(self, _checked: bool) -> None:
        self._refresh_earlier()

    def _run_action(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()

    def clear(self) -> None:
        self.level = ""
        self.history = []
        self._action = None
        self._label.clear()
        self.action_button.hide()
        self.earlier_button.setChecked(False)
        self.hide()
