"""The worst mistakes of an evaluation: each wrong query beside the support images of both classes,
all of them or those of one true class."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from workbench.gui.inspect.class_names import display_names
from workbench.gui.inspect.confusion_view import short_name
from workbench.gui.themes import wrong_text_color
from workbench.inspect.evaluation import Inspection, Mistake

TILE = 56
# Support images shown beside a mistake: enough to compare with; a 100-shot evaluation made 200 tiles a row.
STRIP_TILES = 12
ALL_CLASSES = "All classes"

# (row, turns, path) -> pixmap of that image
ImageSource = Callable[[int, int, str], QPixmap]


class MistakesView(QWidget):
    """Rows of: the query (framed red), the predicted class's support images, the true class's.

    Sorted by the model's confidence in its wrong answer: the most confident mistakes first,
    since those say most about what the model confuses. `class_filter` keeps one true class's.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[QWidget] = []
        self.shown: list[Mistake] = []
        self._inspection: Inspection | None = None
        self._images: ImageSource | None = None
        self._names: dict[str, str] = {}
        self.class_filter = QComboBox()
        self.class_filter.setToolTip("Show the mistakes of one true class only (the number listed of each).")
        self.class_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.class_filter.currentIndexChanged.connect(lambda _index: self._show_rows())
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("True class:"))
        bar.addWidget(self.class_filter)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        self.show_empty("Evaluate a run to see its mistakes here.")

    def show_empty(self, text: str) -> None:
        self._inspection = self._images = None
        self._fill_filter([])
        self._show_message(text)

    def _show_message(self, text: str) -> None:
        label = QLabel(text)
        label.setObjectName("hint")
        label.setWordWrap(True)
        self.rows, self.shown = [], []
        self.scroll.setWidget(label)

    def set_inspection(self, inspection: Inspection | None, images: ImageSource | None) -> None:
        if inspection is None or images is None:
            self.show_empty("Evaluate a run to see its mistakes here.")
            return
        if not inspection.mistakes:
            self.show_empty("No mistakes: every query was predicted right.")
            return
        self._inspection, self._images = inspection, images
        self._names = display_names(list(inspection.classes))
        self._fill_filter(once_per_query(inspection.mistakes))  # shows the rows of "All classes"

    def _fill_filter(self, mistakes: list[Mistake]) -> None:
        """"All classes", then each true class among the mistakes by its unique name, with its count."""
        counts = Counter(m.true_class for m in mistakes)
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem(ALL_CLASSES, None)
        for key in sorted(counts, key=lambda k: self._names.get(k, k).lower()):
            self.class_filter.addItem(f"{short_name(key, self._names)} ({counts[key]})", key)
            self.class_filter.setItemData(self.class_filter.count() - 1, key, Qt.ItemDataRole.ToolTipRole)
        self.class_filter.setCurrentIndex(0)
        self.class_filter.blockSignals(False)
        self.class_filter.setEnabled(bool(counts))
        if mistakes:
            self._show_rows()

    def select_class(self, key: str | None) -> None:
        """Show the mistakes of true class `key` (None: all)."""
        index = self.class_filter.findData(key)
        self.class_filter.setCurrentIndex(max(0, index))

    def _show_rows(self) -> None:
        inspection, images = self._inspection, self._images
        if inspection is None or images is None:
            return
        chosen = self.class_filter.currentData()
        mistakes = [m for m in once_per_query(inspection.mistakes) if chosen is None or m.true_class == chosen]
        body = QWidget()
        grid = QGridLayout(body)
        grid.setHorizontalSpacing(16)
        heads = ("Query", "Predicted as", "Predicted class: support", "True class: support")
        for column, text in enumerate(heads):
            head = QLabel(f"<b>{text}</b>")
            grid.addWidget(head, 0, column)
        self.rows, self.shown = [], mistakes
        for r, mistake in enumerate(mistakes, start=1):
            self._add_row(grid, r, mistake, images, self._names)
        grid.setRowStretch(len(mistakes) + 1, 1)
        grid.setColumnStretch(4, 1)
        self.scroll.setWidget(body)

    def _add_row(self, grid: QGridLayout, r: int, mistake: Mistake, images: ImageSource, names: dict) -> None:
        query = tile(images(mistake.query_row, mistake.turns_true, mistake.query_path), "#c62828")
        query.setToolTip(f"{mistake.query_path}\ntrue class: {mistake.true_class}")
        caption = QLabel(f"{short_name(mistake.predicted_class, names)}<br><span style='color:{wrong_text_color()}'>"
                         f"{percent(mistake.confidence)} sure</span><br><small>true: "
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


def percent(confidence: float) -> str:
    # "100%" would read as certainty; a wrong answer is never quite that.
    return f"{100 * confidence:.0f}%" if confidence < 0.995 else f"{min(99.9, 100 * confidence):.1f}%"


def tile(pixmap: QPixmap, color: str) -> QLabel:
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
    pairs = list(zip(rows, paths))
    for row, path in pairs[:STRIP_TILES]:
        image = tile(images(row, turns, path), color)
        image.setToolTip(path)
        layout.addWidget(image)
    if len(pairs) > STRIP_TILES:
        layout.addWidget(QLabel(f"+{len(pairs) - STRIP_TILES:,} more"))
    layout.addStretch(1)
    return strip

