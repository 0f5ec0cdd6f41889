"""Accuracy colours that span the data, and the colour bar that says what they mean.

Episodes of a good model all sit between, say, 80% and 100%: a red-to-green scale over 0–100%
would paint them one green. The scale spans the accuracies shown (at least a few points wide).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

RED_HUE, GREEN_HUE = 0, 120
MIN_SPAN = 0.05  # a scale narrower than 5 points would make noise look like a difference


@dataclass(frozen=True)
class AccuracyScale:
    low: float
    high: float

    @classmethod
    def spanning(cls, accuracies: list[float]) -> "AccuracyScale":
        if not accuracies:
            return cls(0.0, 1.0)
        low, high = min(accuracies), max(accuracies)
        if high - low < MIN_SPAN:
            middle = (low + high) / 2
            low, high = middle - MIN_SPAN / 2, middle + MIN_SPAN / 2
            if low < 0:
                low, high = 0.0, MIN_SPAN
            elif high > 1:
                low, high = 1.0 - MIN_SPAN, 1.0
        return cls(low, high)

    def fraction(self, accuracy: float) -> float:
        return min(1.0, max(0.0, (accuracy - self.low) / (self.high - self.low)))

    def colour(self, accuracy: float) -> QColor:
        return QColor.fromHsv(int(RED_HUE + (GREEN_HUE - RED_HUE) * self.fraction(accuracy)), 210, 210)


class ColourBar(QWidget):
    """"80%  [red … green]  100%": the colours of the points and the accuracies they stand for."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.low_label = QLabel()
        self.high_label = QLabel()
        self.bar = QLabel()
        self.bar.setFixedHeight(12)
        self.bar.setMinimumWidth(120)
        self.caption = QLabel("episode accuracy")
        self.caption.setObjectName("hint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.low_label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.high_label)
        self.set_scale(AccuracyScale(0.0, 1.0))

    def set_scale(self, scale: AccuracyScale) -> None:
        self.scale = scale
        self.low_label.setText(f"{100 * scale.low:.0f}%")
        self.high_label.setText(f"{100 * scale.high:.0f}%")
        stops = ", ".join(f"stop:{t:.2f} {scale.colour(scale.low + t * (scale.high - scale.low)).name()}"
                          for t in (0.0, 0.25, 0.5, 0.75, 1.0))
        self.bar.setStyleSheet(f"background: qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); "
                               "border: 1px solid #777; border-radius: 2px;")
