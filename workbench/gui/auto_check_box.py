"""A check box with a third state, "auto": the setting is decided from the training images when the run starts.

Shown as Qt's partially-checked dash. The first click makes it a plain on/off box (the
person decided); `set_value("auto")` brings the dash back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

AUTO = "auto"
AUTO_HINT = " A dash means auto: decided from the training images when the run starts (the run's log says how)."


class AutoCheckBox(QCheckBox):
    """on / off / auto, read with `value()` (True, False or "auto")."""

    def __init__(self, text: str, tooltip: str, parent=None) -> None:
        super().__init__(text, parent)
        self.plain_text = text
        self.setToolTip(tooltip + AUTO_HINT)
        self.set_value(AUTO)

    def value(self) -> bool | str:
        state = self.checkState()
        return AUTO if state == Qt.CheckState.PartiallyChecked else state == Qt.CheckState.Checked

    def set_value(self, value: bool | str) -> None:
        if value == AUTO:
            self.setTristate(True)
            self.setCheckState(Qt.CheckState.PartiallyChecked)
            self.setText(f"{self.plain_text}: auto")  # the dash alone does not say what it means
        else:
            self.setTristate(False)
            self.setCheckState(Qt.CheckState.Checked if value else Qt.CheckState.Unchecked)
            self.setText(self.plain_text)

    def nextCheckState(self) -> None:
        # From auto a click says "on"; after that the box toggles like any other.
        if self.checkState() == Qt.CheckState.PartiallyChecked:
            self.set_value(True)
        else:
            super().nextCheckState()
