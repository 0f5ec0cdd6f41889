"""A number field for values spanning decades (learning rates): typed as 1e-3, stepped 1-2-5."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

_MANTISSAS = (1.0, 2.0, 5.0)


class ScientificSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows and accepts numbers like 0.001 or 1e-3 inside [min, max].

    With `log_steps` the arrows walk 1, 2, 5, 10, 20, ... so a learning rate
    moves by sensible factors instead of by a fixed increment. A typed value
    outside the range is not accepted: the field goes back to the last valid value
    and `refused` says which value was refused, so the form can tell the person.
    """

    refused = Signal(str)

    def __init__(self, parent=None, log_steps: bool = True) -> None:
        super().__init__(parent)
        self._log_steps = log_steps
        # QDoubleSpinBox rounds values to `decimals`; keep enough for 1e-12.
        self.setDecimals(15)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: N802
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # A number being typed: "", "-", "1e", "1e-", "0." may still become valid.
            partial = stripped.lower().rstrip("e+-.")
            if stripped == "" or partial == "" or _is_number(partial):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        # Out of range, but typing on ("5" -> "5e-3") could bring it back in.
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        if _is_number(text.strip()):
            self.refused.emit(text.strip())
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if not self._log_steps or self.value() <= 0:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))
        self.selectAll()


class CheckedSpinBox(QSpinBox):
    """A QSpinBox that lets an out-of-range whole number be typed and then says it was refused
    (`refused`), instead of swallowing the keystroke without a word."""

    refused = Signal(str)

    def validate(self, text: str, pos: int):  # noqa: N802
        stripped = text.strip().replace(self.locale().groupSeparator(), "")
        if stripped in ("", "-", "+"):
            return QValidator.State.Intermediate, text, pos
        try:
            value = int(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def valueFromText(self, text: str) -> int:  # noqa: N802
        try:
            return int(text.strip().replace(self.locale().groupSeparator(), ""))
        except ValueError:
            return self.value()

    def fixup(self, text: str) -> str:
        stripped = text.strip().replace(self.locale().groupSeparator(), "")
        if stripped.lstrip("+-").isdigit():
            self.refused.emit(stripped)
        return self.textFromValue(self.value())


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _next_125(value: float, up: bool) -> float:
    """The next value of the 1-2-5 sequence above (or below) `value`."""
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in _MANTISSAS]
    tolerance = value * 1e-9
    if up:
        return min(c for c in candidates if c > value + tolerance)
    return max(c for c in candidates if c < value - tolerance)
