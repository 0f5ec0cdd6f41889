"""Widgets that never widen their window: a one-line label elided in the middle (full text in the
tooltip), and a one-row strip that scrolls sideways instead of growing."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QScrollArea, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """Shows `full_text` elided in the middle (paths keep their start and their file name)."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.full_text, self.elidable, self.kept = "", "", ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str, kept: str = "") -> None:  # noqa: N802 (Qt override)
        """`text` elided where the label is too narrow; `kept`, after it, is always shown whole (counts after a
        path: the path gives way first)."""
        self.full_text, self.elidable, self.kept = text + kept, text, kept
        self.setToolTip(self.full_text)
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = self.fontMetrics()
        room = self.width() - metrics.horizontalAdvance(self.kept)
        if room < 40:  # too narrow even for what is kept: all of it elided
            shown = metrics.elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, max(self.width(), 40))
        else:
            shown = metrics.elidedText(self.elidable, Qt.TextElideMode.ElideMiddle, room) + self.kept
        super().setText(shown)


def horizontal_scroller(row: QWidget) -> QScrollArea:
    """`row` in a frameless area as tall as the row, scrolling sideways when it is wider than the page."""
    area = QScrollArea()
    area.setWidget(row)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.viewport().setAutoFillBackground(False)  # the page's colour, not a field's, behind the row
    row.setAutoFillBackground(False)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    # Sized for a row of buttons before any is added, so the page does not jump when they come.
    button = QPushButton("Label")
    area.setFixedHeight(button.sizeHint().height() + area.horizontalScrollBar().sizeHint().height() + 6)
    return area
