"""Clickable 2-D scatter plots: one episode's embedding, and every evaluated task."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from workbench.gui.counted import counted
from workbench.gui.inspect.colour_bar import AccuracyScale, ColourBar
from workbench.gui.inspect.confusion_view import short_name
from workbench.gui.themes import right_text_color, wrong_text_color
from workbench.inspect.embedding import PROTOTYPE, QUERY, SUPPORT, EmbeddedPoint, EpisodeEmbedding

CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C564B", "#F0E442",
                "#7F7F7F", "#17BECF")
SYMBOLS = {SUPPORT: "s", QUERY: "o", PROTOTYPE: "star"}
SIZES = {SUPPORT: 14, QUERY: 10, PROTOTYPE: 30}
# Drawn first to last: prototypes under the images (with one shot a prototype is its support image).
DRAW_ORDER = {PROTOTYPE: 0, QUERY: 1, SUPPORT: 2}


def class_color(label: int) -> QColor:
    if label < len(CLASS_COLORS):
        return QColor(CLASS_COLORS[label])
    return QColor.fromHsv((label * 47) % 360, 190, 210)


class EmbeddingView(QWidget):
    """An episode's support (squares), query (circles; red ring when mispredicted) and prototype (stars)
    features in 2-D, coloured by true class. Clicking a point shows its image beside the plot.

    `episodeRequested(index, method)` asks the page to compute an episode's embedding; `show_embedding` draws it.
    """

    episodeRequested = Signal(int, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.embedding: EpisodeEmbedding | None = None
        self.image_source = None  # (row, turns, path) -> QPixmap
        self.episode = QSpinBox()
        self.episode.setPrefix("Episode ")
        self.episode.setRange(1, 1)
        self.episode.setToolTip("Which evaluated episode to show.")
        self.method = QComboBox()
        self.method.addItem("PCA", "pca")
        self.method.addItem("t-SNE", "tsne")
        self.method.setToolTip("PCA: the two directions of largest variance (exact, instant). "
                               "t-SNE: keeps near neighbours near (van der Maaten and Hinton 2008); "
                               "distances between far clusters mean little.")
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.episode.valueChanged.connect(self._request)
        self.method.currentIndexChanged.connect(self._request)
        controls = QHBoxLayout()
        controls.addWidget(self.episode)
        controls.addWidget(self.method)
        controls.addWidget(self.status, 1)

        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=None)
        self.scatter.sigClicked.connect(self._on_clicked)
        self.plot.addItem(self.scatter)

        # The legend sits beside the plot, where it never hides a point.
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.preview = QLabel("Click a point to see its image.")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(170, 160)
        self.preview.setWordWrap(True)
        self.preview_caption = QLabel()
        self.preview_caption.setWordWrap(True)
        self.preview_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        side_panel = QWidget()
        side = QVBoxLayout(side_panel)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.legend)
        side.addSpacing(12)
        side.addWidget(self.preview)
        side.addWidget(self.preview_caption)
        side.addStretch(1)
        # Scrolls when a 20-way episode's legend and the preview are taller than the page: no line is cut.
        side_scroll = QScrollArea()
        side_scroll.setWidget(side_panel)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setFixedWidth(200)
        body = QHBoxLayout()
        body.addWidget(self.plot_widget, 1)
        body.addWidget(side_scroll)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(body, 1)
        self.selected: EmbeddedPoint | None = None

    def set_episode_count(self, count: int) -> None:
        self.episode.blockSignals(True)
        self.episode.setRange(1, max(1, count))
        self.episode.blockSignals(False)

    def show_episode(self, index: int) -> None:
        """Ask for episode `index` (0-based), as if chosen in the spin box."""
        if self.episode.value() == index + 1:
            self._request()
        else:
            self.episode.setValue(index + 1)

    def _request(self) -> None:
        self.status.setText("Computing the embedding…")
        self.episodeRequested.emit(self.episode.value() - 1, self.method.currentData())

    def show_message(self, text: str) -> None:
        self.embedding = None
        self.scatter.clear()
        self.legend.clear()
        self.status.setText(text)

    def show_embedding(self, embedding: EpisodeEmbedding) -> None:
        self.embedding = embedding
        self.scatter.clear()
        self.legend.clear()
        spots = []
        for index, point in sorted(enumerate(embedding.points), key=lambda item: DRAW_ORDER[item[1].kind]):
            color = class_color(point.label)
            wrong = point.kind == QUERY and point.predicted != point.label
            if point.kind == PROTOTYPE:  # a hollow star: the images at and around it stay visible
                pen, brush = pg.mkPen(color, width=2.5), pg.mkBrush(0, 0, 0, 0)
            else:
                pen = pg.mkPen("#c62828", width=3) if wrong else pg.mkPen("#222222", width=1)
                brush = pg.mkBrush(color)
            spots.append({"pos": (point.x, point.y), "symbol": SYMBOLS[point.kind], "size": SIZES[point.kind],
                          "brush": brush, "pen": pen, "data": index})
        self.scatter.addPoints(spots)
        # Legend: one line per class in its colour, then what each symbol is.
        classes = "".join(f"<span style='color:{class_color(label).name()}; font-size:15px'>●</span> "
                          f"{short_name(name)}<br>" for label, name in enumerate(embedding.classes))
        self.legend.setText(f"<b>Classes</b><br>{classes}<br><b>Symbols</b><br>■ support image<br>"
                            f"● query image<br><span style='color:{wrong_text_color()}'>◉</span> query predicted wrong<br>"
                            "☆ prototype (class mean)")
        self.legend.setToolTip("A prototype is the mean feature of a class's support images; ProtoNet "
                               "predicts the class of the nearest prototype.")
        self.plot.autoRange()
        counts = {k: len(embedding.of_kind(k)) for k in (SUPPORT, QUERY, PROTOTYPE)}
        wrong = sum(1 for p in embedding.of_kind(QUERY) if p.predicted != p.label)
        self.status.setText(f"{counts[SUPPORT]} support, {counts[QUERY]} query ({wrong} wrong), "
                            f"{counts[PROTOTYPE]} prototypes, by {embedding.method.upper().replace('TSNE', 't-SNE')}.")

    def point_counts(self) -> dict[str, int]:
        if self.embedding is None:
            return {SUPPORT: 0, QUERY: 0, PROTOTYPE: 0}
        return {k: len(self.embedding.of_kind(k)) for k in (SUPPORT, QUERY, PROTOTYPE)}

    def _on_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.select_point(int(points[0].data()))

    def select_point(self, index: int) -> None:
        point = self.embedding.points[index]
        self.selected = point
        name = self.embedding.classes[point.label]
        if point.kind == PROTOTYPE:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("A prototype is the mean feature of a class's support images; it has no image.")
            self.preview_caption.setText(f"prototype of {short_name(name)}")
            return
        pixmap = self.image_source(point.row, point.turns, "") if self.image_source else QPixmap()
        self.preview.setPixmap(pixmap.scaled(150, 150, Qt.AspectRatioMode.KeepAspectRatio))
        text = f"{point.kind} of <b>{short_name(name)}</b>"
        if point.kind == QUERY:
            guess = self.embedding.classes[point.predicted]
            text += (f"<br><span style='color:{right_text_color()}'>predicted right</span>" if point.predicted == point.label
                     else f"<br><span style='color:{wrong_text_color()}'>predicted {short_name(guess)}</span>")
        self.preview_caption.setText(text)


class TaskView(QWidget):
    """Every evaluated episode as a point (its mean support feature, by PCA), coloured by its accuracy
    from red (the worst shown) to green (the best), with a colour bar. Tasks with similar classes sit
    together. Clicking one opens it."""

    episodeClicked = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.accuracies: list[float] = []
        self.status = QLabel("Evaluate a run to see its tasks here.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLabel("bottom", "task PC 1")
        self.plot.setLabel("left", "task PC 2")
        for axis in ("left", "bottom"):  # plain numbers: "task PC 1 (x0.001)" reads as a unit the axis does not have
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.scatter = pg.ScatterPlotItem(hoverable=True)
        self.scatter.sigClicked.connect(lambda _i, points, _e=None: len(points) and self.episodeClicked.emit(int(points[0].data())))
        self.plot.addItem(self.scatter)
        self.colour_bar = ColourBar()
        self.colour_bar.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.colour_bar)

    def set_tasks(self, xy: list[list[float]], accuracies: list[float]) -> None:
        self.scatter.clear()
        self.accuracies = list(accuracies)
        if not xy:
            self.colour_bar.hide()
            self.status.setText("No task map: this algorithm has no embedding to place tasks by.")
            return
        scale = AccuracyScale.spanning(self.accuracies)
        self.colour_bar.set_scale(scale)
        self.colour_bar.show()
        spots = []
        for index, ((x, y), accuracy) in enumerate(zip(xy, accuracies)):
            color = scale.colour(accuracy)
            spots.append({"pos": (x, y), "size": 11, "brush": pg.mkBrush(color), "pen": pg.mkPen("#333333", width=0.5),
                          "data": index, "symbol": "o"})
        self.scatter.addPoints(spots)
        self.plot.autoRange()
        self.status.setText(f"{counted(len(xy), 'episode')}, each placed by the mean feature of its support images; "
                            f"colour = accuracy (red {100 * scale.low:.0f}% → green {100 * scale.high:.0f}%; "
                            f"mean {100 * float(np.mean(accuracies)):.1f}%). "
                            "Click one to see its embedding.")
