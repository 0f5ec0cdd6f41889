"""The worst mistakes of an evaluation: each wrong query beside the support images of both classes."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QWidget

from workbench.gui.inspect.class_names import display_names
from workbench.gui.inspect.confusion_view import short_name
from workbench.inspect.evaluation import Inspection, Mistake

TILE = 56

# (row, turns, path) -> pixmap of that image
ImageSource = Callable[[int, int, str], QPixmap]


class MistakesView(QScrollArea):
    """Rows of: the query (framed red), the predicted class's support images, the true class's.

    Sorted by the model's confidence in its wrong answer: the most confident mistakes first,
    since those say most about what the model confuses.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.rows: list[QWidget] = []
        self.show_empty("Evaluate a run to see its mistakes here.")

    def show_empty(self, text: str) -> None:
        label = QLabel(text)
        label.setObjectName("hint")
        label.setWordWrap(True)
        self.rows = []
        self.setWidget(label)

    def set_inspection(self, inspection: Inspection | None, images: ImageSource | None) -> None:
        if inspection is None or images is None:
            self.show_empty("Evaluate a run to see its mistakes here.")
            return
        if not inspection.mistakes:
            self.show_empty("No mistakes: every query was predicted right.")
            return
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(16)
        heads = ("Query", "Predicted as", "Predicted class: support", "True class: support")
        for column, text in enumerate(heads):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, column)
        self.rows = []
        names = display_names(list(inspection.classes))
        mistakes = once_per_query(inspection.mistakes)
        for r, mistake in enumerate(mistakes, start=1):
            self._add_row(grid, r, mistake, images, names)
        grid.setRowStretch(len(mistakes) + 1, 1)
        grid.setColumnStretch(4, 1)
        self.setWidget(body)

    def _add_row(self, grid: QGridLayout, r: int, mistake: Mistake, images: ImageSource, names: dict) -> None:
        query = _tile(images(mistake.query_row, mistake.turns_true, mistake.query_path), "#c62828")
        query.setToolTip(f"{mistake.query_path}\ntrue class: {mistake.true_class}")
        caption = QLabel(f"{short_name(mistake.predicted_class, names)}<br><span style='color:#c62828'>"
                         f"{_percent(mistake.confidence)} sure</span><br><small>true: "
                         f"{short_name(mistake.true_class, names)}</small>")
        caption.setToolTip(f"predicted {mistake.predicted_class}\ntrue {mistake.true_class}\nepisode {mistake.episode + 1}")
        grid.addWidget(query, r, 0)
        grid.addWidget(caption, r, 1)
        grid.addWidget(_strip(images, mistake.predicted_support, mistake.turns_predicted,
                              mistake.predicted_support_paths, "#e69f00"), r, 2)
        grid.addWidget(_strip(images, mistake.true_support, mistake.turns_true, mistake.true_support_paths, "#2e7d32"), r, 3)
        self.rows.append(query)


def once_per_query(mistakes: list[Mistake]) -> list[Mistake]:
    """Each wrong query once (a query image can be drawn in several episodes): its most confident mistake."""
    best: dict[str, Mistake] = {}
    for mistake in mistakes:
        kept = best.get(mistake.query_path)
        if kept is None or mistake.confidence > kept.confidence:
            best[mistake.query_path] = mistake
    return sorted(best.values(), key=lambda m: -m.confidence)


def _percent(confidence: float) -> str:
    # "100%" would read as certainty; a wrong answer is never quite that.
    return f"{100 * confidence:.0f}%" if confidence < 0.995 else f"{min(99.9, 100 * confidence):.1f}%"


def _tile(pixmap: QPixmap, color: str) -> QLabel:
    label = QLabel()
    label.setPixmap(pixmap)
    label.setFixedSize(TILE + 6, TILE + 6)
    label.setFrameShape(QFrame.Shape.Box)
    label.setStyleSheet(f"QLabel {{ border: 3px solid {color}; background: white; }}")
    return label


def _strip(images: ImageSource, rows, turns, paths, color: str) -> QWidget:
    strip = QWidget()
    layout = QHBoxLayout(strip)
    layout.setContentsMargins(0, 0, 0, 0)
    for row, path in zip(rows, paths):
        tile = _tile(images(row, turns, path), color)
        tile.setToolTip(path)
        layout.addWidget(tile)
    layout.addStretch(1)
    return strip

