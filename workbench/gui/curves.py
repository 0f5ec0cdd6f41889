"""Live loss and accuracy curves, redrawn at about 10 Hz each however fast the events arrive."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from workbench.training.events import TrainStep, Validation

REDRAW_MS = 50  # one of the two plots per tick: each is redrawn ten times a second
SMOOTHING = 0.95  # exponential moving average of the noisy per-episode train values

TRAIN_RAW = (120, 160, 220, 90)
TRAIN = "#1f63b5"
VALIDATION = "#d9480f"


def legend_html() -> str:
    """One legend for both plots (they draw the same three series), in a row under them: no curve runs
    beneath it, and it never runs out of room beside a narrow plot."""
    raw = "#{:02x}{:02x}{:02x}".format(*TRAIN_RAW[:3])
    return (f"<span style='color:{raw}'>━</span> train (each step) &nbsp;&nbsp; "
            f"<span style='color:{TRAIN}'><b>━━</b></span> smoothed &nbsp;&nbsp; "
            f"<span style='color:{VALIDATION}'><b>━●━</b></span> validation")


class _Series:
    """A growable x/y buffer; appends are O(1) amortised and reading is a numpy view."""

    def __init__(self) -> None:
        self.x = np.empty(1024)
        self.y = np.empty(1024)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], self.y[: self.n]


class _Smoother:
    """Exponential moving average with bias correction, so the first points are not pulled
    towards the very first value."""

    def __init__(self) -> None:
        self.average = 0.0
        self.weight = 0.0

    def add(self, value: float) -> float:
        self.average = SMOOTHING * self.average + (1 - SMOOTHING) * value
        self.weight = SMOOTHING * self.weight + (1 - SMOOTHING)
        return self.average / self.weight


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (and at least 10)."""
    scale = 10.0
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


class CurvesView(QWidget):
    """Two plots (loss, accuracy), each with train (raw and smoothed) and validation curves.

    Events only append to buffers; a timer pushes the buffers to one
    PlotDataItem per curve, so thousands of steps per second cost one redraw
    per tick. Accuracy is plotted in percent.

    A redraw holds the GUI thread, and training competes with it for the
    interpreter, so each tick redraws one plot only, and the step axis grows in
    round jumps (to 1, 2 or 5 times a power of ten) instead of at every step:
    its ticks are laid out again only when it grows.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.loss_plot = self._plot("Loss", "loss")
        self.accuracy_plot = self._plot("Accuracy", "accuracy (%)")
        self.accuracy_plot.enableAutoRange(y=True)  # fits the data: 85-95% is not a flat line at the top
        self.accuracy_plot.getViewBox().setLimits(yMin=-5, yMax=105)
        self.series = {name: _Series() for name in ("train_loss", "train_acc", "train_loss_smooth",
                                                    "train_acc_smooth", "val_loss", "val_acc")}
        raw_pen = pg.mkPen(TRAIN_RAW, width=1)
        self.items = {
            "train_loss": self.loss_plot.plot(pen=raw_pen, name="train"),
            "train_loss_smooth": self.loss_plot.plot(pen=pg.mkPen(TRAIN, width=2), name="smoothed"),
            "val_loss": self.loss_plot.plot(pen=pg.mkPen(VALIDATION, width=2), symbol="o", symbolSize=6,
                                            symbolBrush=VALIDATION, symbolPen=None, name="validation"),
            "train_acc": self.accuracy_plot.plot(pen=raw_pen, name="train"),
            "train_acc_smooth": self.accuracy_plot.plot(pen=pg.mkPen(TRAIN, width=2), name="smoothed"),
            "val_acc": self.accuracy_plot.plot(pen=pg.mkPen(VALIDATION, width=2), symbol="o", symbolSize=6,
                                               symbolBrush=VALIDATION, symbolPen=None, name="validation"),
        }
        self._smooth = _Smoother(), _Smoother()
        self._plots = {"loss": (self.loss_plot, ("train_loss", "train_loss_smooth", "val_loss")),
                       "accuracy": (self.accuracy_plot, ("train_acc", "train_acc_smooth", "val_acc"))}
        self._dirty = set()
        self._x_limit = {name: 0.0 for name in self._plots}
        self._turn = 0
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_widget)
        plots.addWidget(self.accuracy_widget)
        self.legend = QLabel(legend_html())
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.legend.setToolTip("train: each step's episode; smoothed: their exponential moving average; "
                               "validation: the validation episodes, the same ones each time.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)

    def _plot(self, title: str, y_label: str) -> pg.PlotItem:
        widget = pg.PlotWidget()
        widget.setMinimumHeight(180)
        plot = widget.getPlotItem()
        plot.setTitle(title)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", y_label)
        # "loss (x0.001)" with ticks up to 500 reads as a loss of 500: plain numbers only.
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        # No grid: pyqtgraph draws it through the axes at every repaint, 17 of the 20 ms a
        # redraw of both plots took on the development machine (GUI thread, software raster).
        # Long runs: draw only what is visible, at most about one point per pixel.
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        if title == "Loss":
            self.loss_widget = widget
        else:
            self.accuracy_widget = widget
        return plot

    # --- data ----------------------------------------------------------------
    def clear(self) -> None:
        for series in self.series.values():
            series.n = 0
        self._smooth = _Smoother(), _Smoother()
        self._x_limit = {name: 0.0 for name in self._plots}
        for plot, _names in self._plots.values():
            plot.enableAutoRange(x=True)
        self._dirty = set(self._plots)
        self.redraw()

    def add_train(self, event: TrainStep) -> None:
        accuracy = 100.0 * event.accuracy
        self.series["train_loss"].append(event.step, event.loss)
        self.series["train_acc"].append(event.step, accuracy)
        loss_smoother, acc_smoother = self._smooth
        if np.isfinite(event.loss):
            self.series["train_loss_smooth"].append(event.step, loss_smoother.add(event.loss))
        self.series["train_acc_smooth"].append(event.step, acc_smoother.add(accuracy))
        self._dirty = set(self._plots)

    def add_validation(self, event: Validation) -> None:
        self.series["val_loss"].append(event.step, event.loss)
        self.series["val_acc"].append(event.step, 100.0 * event.accuracy)
        self._dirty = set(self._plots)

    def point_count(self, name: str) -> int:
        """Points currently drawn by curve `name` (e.g. 'train_loss', 'val_acc')."""
        x, _ = self.items[name].getOriginalDataset()
        return 0 if x is None else len(x)

    def redraw(self) -> None:
        """Draw every plot that has new points (the timer draws one plot per tick)."""
        for name in list(self._dirty):
            self._draw(name)

    def _tick(self) -> None:
        order = list(self._plots)
        for offset in range(len(order)):
            name = order[(self._turn + offset) % len(order)]
            if name in self._dirty:
                self._turn = (order.index(name) + 1) % len(order)
                self._draw(name)
                return

    def _draw(self, name: str) -> None:
        self._dirty.discard(name)
        plot, curve_names = self._plots[name]
        last_step = 0.0
        for curve in curve_names:
            x, y = self.series[curve].data()
            # Copies: the buffers keep growing while pyqtgraph holds the arrays.
            self.items[curve].setData(x.copy(), y.copy())
            if len(x):
                last_step = max(last_step, float(x[-1]))
        if last_step > self._x_limit[name]:
            self._x_limit[name] = nice_ceiling(last_step * 1.05)
            plot.setXRange(0, self._x_limit[name], padding=0.02)
