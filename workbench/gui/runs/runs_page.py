"""The Runs page: a sortable table of runs (filtered by tag), their accuracy or loss curves overlaid, and what
to do with them: resume, evaluate, label with one; rename, tag, note, delete, compare settings (run_actions.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.errors import WorkbenchError
from workbench.gui.architecture_view import ArchitectureView, show_run_architecture
from workbench.gui.banner import MessageBanner
from workbench.gui.runs.run_actions import RunActions
from workbench.gui.runs.run_filter import RunFilterProxy, TagFilter
from workbench.gui.runs.column_fit import ColumnFitter
from workbench.gui.runs.run_table import DATASET, KEY_SETTINGS, NAME, NOTE, SORT_ROLE, TAGS, TEST, RunTableModel
from workbench.runs.store import RunStore, RunSummary, read_curves

# Distinct colours that read on light and dark backgrounds (Okabe-Ito, colour-blind safe, plus a few).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C564B", "#7F7F7F")


X_STEP, X_TIME = "step", "wall-clock time"
ACCURACY, LOSS = "accuracy", "loss"
DEFAULT_SMOOTHING = 0.9
CURVE_TITLE = "{} of the selected runs (solid: validation, dashed: train, smoothed)"


def _measured(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points whose x and value are known (older runs have no times for some rows, some rows no loss)."""
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _smooth(values: np.ndarray, weight: float = DEFAULT_SMOOTHING) -> np.ndarray:
    out = np.empty_like(values)
    average, norm = 0.0, 0.0
    for i, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        norm = weight * norm + (1 - weight)
        out[i] = average / norm
    return out


class RunsPage(QWidget):
    """Lists the runs under a runs root; select several to compare their curves.

    Signals carry the run folder: resumeRequested, evaluateRequested and
    useForLabelling (the label page adapts that run's model to a user's images).
    """

    resumeRequested = Signal(str)
    evaluateRequested = Signal(str)
    useForLabelling = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.store: RunStore | None = None
        self.model = RunTableModel(self)
        self.proxy = RunFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setDynamicSortFilter(True)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(7, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # edits start from F2 or a double-click
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.moveSection(TEST, 5)  # test accuracy beside best validation: the columns runs are compared by
        header.moveSection(TAGS, 1)  # a run's tags beside its name, as in an experiment tracker's list
        # Every column fits the page's width: the long texts (name, settings, dataset, note) give way, elided,
        # and the full text is in each cell's tooltip.
        self.column_fit = ColumnFitter(self.table, {NAME: 150, KEY_SETTINGS: 90, DATASET: 80, NOTE: 60})
        self.table.setWordWrap(False)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self._on_double_click)
        self.model.dataChanged.connect(lambda *_args: self._after_edit())
        self.banner = MessageBanner()  # this page's outcomes: a run deleted (with Undo), a name not saved
        self.run_actions = RunActions(self)

        self.root_label = QLabel()
        self.root_label.setObjectName("hint")
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the run folders again (F5).")
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue training the selected run from its last checkpoint.")
        self.resume_button.clicked.connect(lambda: self._emit_for_current(self.resumeRequested))
        self.evaluate_button = QPushButton("Evaluate / inspect")
        self.evaluate_button.setToolTip("Evaluate the selected run on test episodes and inspect its results "
                                        "(opens a saved evaluation at once). Double-clicking a run does the same "
                                        "(on its Tags or Note, it edits them).")
        self.evaluate_button.clicked.connect(lambda: self._emit_for_current(self.evaluateRequested))
        self.label_button = QPushButton("Use for labelling")
        self.label_button.setToolTip("Use the selected run's model to label your own images.")
        self.label_button.clicked.connect(lambda: self._emit_for_current(self.useForLabelling))
        self.rename_button = self._action_button(self.run_actions.rename_action, "Rename (F2)")
        self.delete_button = self._action_button(self.run_actions.delete_action, "Delete… (Del)")
        self.compare_button = self._action_button(self.run_actions.compare_action, "Compare settings")
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.resume_button, self.evaluate_button, self.label_button):
            buttons.addWidget(button)
        buttons.addSpacing(12)
        for button in (self.rename_button, self.delete_button, self.compare_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.selection_hint = QLabel()
        self.selection_hint.setObjectName("hint")
        self.selection_hint.setWordWrap(True)
        self.tag_filter = TagFilter()
        self.tag_filter.tagChosen.connect(self._filter_by_tag)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.selection_hint, 1)
        filter_row.addWidget(QLabel("Show:"))
        filter_row.addWidget(self.tag_filter)

        self.empty_hint = QLabel("No runs yet. Train one on the Training page (Ctrl+R); each run is saved as a "
                                 "folder here, and appears in this list.")
        self.empty_hint.setObjectName("hint")
        self.empty_hint.setWordWrap(True)

        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setTitle(CURVE_TITLE.format("Accuracy"))
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "accuracy (%)")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.getViewBox().setLimits(yMin=-5, yMax=105)  # the range fits the curves shown, within 0-100 %
        self.legend = self.plot.addLegend(offset=(-10, -10))
        self.curves: dict[str, list[pg.PlotDataItem]] = {}
        self.metric = QComboBox()
        self.metric.addItems([ACCURACY, LOSS])
        self.metric.setToolTip("Overlay the runs' accuracy, or their loss (what training lowers; a validation loss "
                               "that rises while the train loss falls is overfitting).")
        self.metric.currentIndexChanged.connect(lambda _i: self._update_curves())
        # As in TensorBoard: the x axis in steps or in wall-clock time, and how much the train curve is smoothed.
        self.x_axis = QComboBox()
        self.x_axis.addItems([X_STEP, X_TIME])
        self.x_axis.setToolTip("Compare runs by training step, or by the time they took (a slow method that "
                               "learns in fewer steps can still lose on time).")
        self.x_axis.currentIndexChanged.connect(lambda _i: self._update_curves())
        self.smoothing = QDoubleSpinBox()
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.05)
        self.smoothing.setValue(DEFAULT_SMOOTHING)
        self.smoothing.setToolTip("Exponential moving average of the train curve: 0 shows every step as measured, "
                                  "0.99 smooths the most. Validation points are never smoothed.")
        self.smoothing.valueChanged.connect(lambda _v: self._update_curves())
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("Metric:"))
        controls.addWidget(self.metric)
        controls.addSpacing(12)
        controls.addWidget(QLabel("x axis:"))
        controls.addWidget(self.x_axis)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Smoothing:"))
        controls.addWidget(self.smoothing)
        controls.addStretch(1)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addLayout(controls)
        bottom_layout.addWidget(self.plot_widget, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.banner)
        top_layout.addLayout(buttons)
        top_layout.addLayout(filter_row)
        top_layout.addWidget(self.root_label)
        top_layout.addWidget(self.empty_hint)
        top_layout.addWidget(self.table, 1)
        # The selected run's cell, when it is a search or was trained on a searched cell.
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(bottom, "Curves")
        self.architecture = ArchitectureView()
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.bottom_tabs)
        split.setSizes([320, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(split)
        self._update_buttons()

    # --- data ----------------------------------------------------------------
    def set_root(self, root) -> None:
        self.store = RunStore(root)
        self.root_label.setText(f"Runs folder: {root}")
        self.banner.clear()  # what was said (a deletion and its Undo) was about the other folder's runs
        self.refresh()

    def refresh(self) -> None:
        selected = set(self.selected_paths())
        runs = self.store.scan(builtin=True) if self.store else []
        self.model.set_runs(runs)
        self.tag_filter.set_runs(runs)
        self.empty_hint.setVisible(not any(not run.builtin for run in runs))
        self.select_paths([p for p in selected if any(r.path == p for r in runs)])
        self._update_curves()
        self._update_buttons()

    def runs(self) -> list[RunSummary]:
        return list(self.model.runs)

    def selected_paths(self) -> list[str]:
        return [run.path for run in self.selected_runs()]

    def selected_runs(self) -> list[RunSummary]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.runs[r] for r in rows]

    def select_paths(self, paths: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row, run in enumerate(self.model.runs):
            if run.path in paths:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)

    # --- reacting ------------------------------------------------------------
    def _on_selection(self, *_args) -> None:
        self._update_curves()
        self._update_buttons()
        paths = self.selected_paths()
        show_run_architecture(self.bottom_tabs, self.architecture, paths[0] if len(paths) == 1 else None)

    def _on_double_click(self, index) -> None:
        """A double-click on a run's tags or note edits them; anywhere else on the row it evaluates the run (so the
        name is renamed with F2 or Rename, never by a double-click meant to open the run)."""
        if index.column() in (TAGS, NOTE) and self.proxy.flags(index) & Qt.ItemFlag.ItemIsEditable:
            self.table.edit(index)
        else:
            self._emit_for_current(self.evaluateRequested)

    def _after_edit(self) -> None:
        """A run was renamed, tagged or annotated: the tag list and the legend follow."""
        self.tag_filter.set_runs(self.model.runs)
        self._update_curves()

    def _filter_by_tag(self, tag: str) -> None:
        self.proxy.set_tag(tag)
        self._on_selection()

    def _action_button(self, action, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(action.toolTip())
        button.clicked.connect(action.trigger)
        return button

    def _update_buttons(self) -> None:
        self.run_actions.update(self.selected_runs())
        for button, action in ((self.rename_button, self.run_actions.rename_action),
                               (self.delete_button, self.run_actions.delete_action),
                               (self.compare_button, self.run_actions.compare_action)):
            button.setEnabled(action.isEnabled())
        paths = self.selected_paths()
        one = len(paths) == 1
        run = next((r for r in self.model.runs if paths and r.path == paths[0]), None)
        usable = one and run is not None and run.status != "damaged"
        self.resume_button.setEnabled(usable and run.status in ("cancelled", "failed", "running"))
        self.evaluate_button.setEnabled(usable and not run.builtin)  # evaluating writes into the run's folder
        self.label_button.setEnabled(usable)
        if not paths:
            hint = "Select a run to see its curves; Ctrl+click to compare several."
        elif len(paths) == 2:
            hint = "Comparing 2 runs: Compare settings lists their settings side by side."
        elif len(paths) > 1:
            hint = f"Comparing {len(paths)} runs. Select one alone to resume, evaluate or label with it."
        elif run is not None and run.builtin:
            hint = "Built-in and read-only: use its model for labelling, or train your own on the Training page."
        elif run is not None and run.status == "completed":
            hint = "Completed: evaluate it, or use its model for labelling."
        else:
            hint = ""
        self.selection_hint.setText(hint)

    def _emit_for_current(self, signal) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            signal.emit(paths[0])

    def resume_selected(self) -> None:
        """Ask to resume the one selected run (resumeRequested); nothing when none or several are selected."""
        self._emit_for_current(self.resumeRequested)

    def _update_curves(self) -> None:
        for items in self.curves.values():
            for item in items:
                self.plot.removeItem(item)
        self.curves.clear()
        self.legend.clear()
        by_time = self.x_axis.currentText() == X_TIME
        self.plot.setLabel("bottom", "minutes since training began" if by_time else "step")
        loss = self.metric.currentText() == LOSS
        self.plot.setTitle(CURVE_TITLE.format("Loss" if loss else "Accuracy"))
        self.plot.setLabel("left", "loss" if loss else "accuracy (%)")
        # Accuracy stays within 0-100 %; a loss has no such bounds.
        self.plot.getViewBox().setLimits(yMin=None if loss else -5, yMax=None if loss else 105)
        self.legend.setOffset((-10, 10) if loss else (-10, -10))  # in the corner the curves head away from
        scale = 1 if loss else 100
        weight = self.smoothing.value()
        for index, run in enumerate(self.selected_runs()):
            color = PALETTE[index % len(PALETTE)]
            try:
                curves = read_curves(run.path)
            except WorkbenchError:
                continue  # a damaged metrics.csv: the run's row says so, and its other runs' curves still show
            train_y, val_y = (curves.train_loss, curves.val_loss) if loss else (curves.train_accuracy, curves.val_accuracy)
            train_x, train_y = _measured(curves.train_seconds / 60 if by_time else curves.train_steps, train_y)
            val_x, val_y = _measured(curves.val_seconds / 60 if by_time else curves.val_steps, val_y)
            items = []
            if len(train_x):
                items.append(self.plot.plot(train_x, scale * _smooth(train_y, weight),
                                            pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine)))
            if len(val_x):
                items.append(self.plot.plot(val_x, scale * val_y, pen=pg.mkPen(color, width=2),
                                            symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None))
            if items:
                self.legend.addItem(items[-1], run.name)
            self.curves[run.path] = items

    def curve_count(self) -> int:
        """Runs whose curves are drawn now (one colour each)."""
        return sum(1 for items in self.curves.values() if items)
