"""The Inspect page: evaluate a run (off the GUI thread) and look at its results from every side."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.data.images import ImageDecodeError
from workbench.data.views import orient_array
from workbench.errors import WorkbenchError
from workbench.gui.architecture_view import ArchitectureView, show_run_architecture
from workbench.gui.counted import counted
from workbench.gui.qt_images import array_to_pixmap, cache_pixmap, placeholder_pixmap
from workbench.gui.inspect.cell_view import HINT as CELL_HINT, CellView
from workbench.gui.inspect.confusion_view import (
    CONFUSION_CAPTION,
    ConfusionModel,
    PerClassModel,
    TopConfusions,
    accuracy_text,
    captioned,
    make_table,
    short_name,
)
from workbench.gui.inspect.mistakes_view import TILE, MistakesView
from workbench.gui.inspect.reliability_view import ReliabilityView
from workbench.gui.inspect.scatter_views import EmbeddingView, TaskView
from workbench.gui.themes import wrong_text_color
from workbench.gui.workers import CANCELLED, PROGRESS, Worker, create_worker
from workbench.inspect.cells import cell_queries
from workbench.inspect.embedding import embed_episode
from workbench.inspect.evaluation import EVALUATION_FILE, Inspection, calibration_of, inspect_run, load_inspection
from workbench.inspect.display_image import read_display_image
from workbench.runs.folder import RunFolder
from workbench.training.jobs import EvaluationSetup, prepare_evaluation

DECODE_SHARE = 30  # percent of the progress bar for decoding the images; the rest for the episodes


def calibration_text(inspection: Inspection) -> str:
    """Calibration in one line: the expected calibration error and the reliability of >= 90% predictions."""
    report = calibration_of(inspection)
    if not report.count:
        return ""
    accepted = (f"{report.accepted_share:.0%} of predictions are at ≥ 90% confidence and {report.accepted_precision:.1%} "
                f"of those are right" if report.accepted_share else "no prediction reaches 90% confidence")
    bins = " · ".join(f"{b[1]:.0%}→{b[2]:.0%}" for b in report.bins if b[3] >= max(5, report.count // 100))
    return (f"Confidence: expected calibration error <b>{report.ece:.1%}</b>; {accepted}. "
            f"Reliability (said → right): {bins}")


class InspectPage(QWidget):
    """Shows one run's evaluation: accuracy ± 95% CI, per-class accuracy, confusion, mistakes,
    an episode's embedding and the map of tasks.

    `open_run(run_dir)` shows the saved evaluation.json at once if there is one, else
    evaluates; `evaluate(run_dir)` always evaluates anew (and saves). The model and
    images an embedding needs are loaded in the background when first asked for.
    `busyChanged(bool)` tells the window when a job starts and ends.
    """

    busyChanged = Signal(bool)
    inspectionShown = Signal(str)  # the run folder whose evaluation is on screen (saved in its evaluation.json)

    def __init__(self, device: str = "auto", parent=None) -> None:
        super().__init__(parent)
        self.device = device
        self.run_dir: str | None = None
        self.inspection: Inspection | None = None
        self.setup: EvaluationSetup | None = None
        self.job: Worker | None = None
        self.embed_job: Worker | None = None
        self._pending_episode: tuple[int, str] | None = None
        self._pending_cell: tuple[str, str] | None = None  # shown once the images are loaded
        self._image_cache: dict[tuple[int, int, str], QPixmap] = {}
        self.why = ""  # why the run's saved evaluation could not be shown (it is being evaluated anew)

        self.title = QLabel("<h3>No run opened</h3>")
        self.hint = QLabel("Open a run on the <b>Runs</b> page and press <b>Evaluate / inspect</b> "
                           "(or Training › Evaluate run…). Its accuracy, confusions and worst mistakes appear here.")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.episodes = QSpinBox()
        self.episodes.setRange(5, 10_000)
        self.episodes.setValue(100)
        self.episodes.setSuffix(" episodes")
        self.episodes.setToolTip("How many test episodes to evaluate; more gives a narrower 95% interval.")
        self.evaluate_button = QPushButton("Evaluate again")
        self.evaluate_button.setToolTip("Evaluate the run anew on this many test episodes and save the result.")
        self.evaluate_button.clicked.connect(lambda: self.run_dir and self.evaluate(self.run_dir))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the evaluation; nothing is saved.")
        self.cancel_button.clicked.connect(self.cancel)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.episodes)
        header.addWidget(self.evaluate_button)
        header.addWidget(self.progress)
        header.addWidget(self.cancel_button)

        self.per_class_model = PerClassModel(self)
        self.per_class = make_table(self.per_class_model, sortable=True)
        self.confusion_model = ConfusionModel(self)
        self.confusion = make_table(self.confusion_model, sortable=False)
        self.confusion.setToolTip("Rows: true class; columns: predicted class. Green diagonal: right; red: confusions. "
                                  "Click a cell to see its images.")
        self.confusion.clicked.connect(self._on_confusion_clicked)
        left_tabs = QTabWidget()
        left_tabs.addTab(self.per_class, "Per class")
        left_tabs.addTab(captioned(self.confusion, CONFUSION_CAPTION), "Confusion matrix")
        self.top_confusions = TopConfusions()
        self.top_confusions.cellClicked.connect(self._on_top_confusion_clicked)
        left_tabs.addTab(self.top_confusions, "Top confusions")
        self.result_tabs = left_tabs
        self.mistakes = MistakesView()
        self.embedding = EmbeddingView()
        self.embedding.episodeRequested.connect(self._compute_embedding)
        self.tasks = TaskView()
        self.tasks.episodeClicked.connect(self.open_episode)
        self.views = QTabWidget()
        self.views.addTab(self.mistakes, "Worst mistakes")
        self.cell = CellView()
        self.views.addTab(self.cell, "Confusion cell")
        self.views.addTab(self.embedding, "Episode embedding")
        self.views.addTab(self.tasks, "Task map")
        self.reliability = ReliabilityView()
        self.views.addTab(self.reliability, "Reliability")
        self.architecture = ArchitectureView()  # a tab while the run has an architecture.json
        self.views.currentChanged.connect(self._on_view_changed)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_tabs)
        split.addWidget(self.views)
        split.setSizes([470, 760])
        self.body = split

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.hint)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._set_busy(False)
        self.evaluate_button.setEnabled(False)
        self.body.setEnabled(False)

    # --- opening and evaluating --------------------------------------------------
    def open_run(self, run_dir: str) -> None:
        """Show the run's saved evaluation, or evaluate it when it has none (or it cannot be read)."""
        if (Path(run_dir) / EVALUATION_FILE).is_file():
            try:
                inspection = load_inspection(run_dir)
            except WorkbenchError as exc:
                self.evaluate(run_dir, why=str(exc))  # the sentence stays above what the evaluation says
                return
            self._set_run(run_dir)
            self.show_inspection(inspection, None)
            return
        self.evaluate(run_dir)

    def show_saved(self, run_dir: str) -> bool:
        """Show the run's saved evaluation if it has one that reads; False (and nothing changed) otherwise."""
        try:
            inspection = load_inspection(run_dir)
        except (WorkbenchError, OSError):
            return False
        self._set_run(run_dir)
        self.show_inspection(inspection, None)
        return True

    def reset(self) -> None:
        """No run opened (a new project); an evaluation under way is cancelled and its result dropped."""
        if self.job is not None:
            self.job.cancel()
            self.job.succeeded.disconnect()  # what it finds is about the project before
            self.job.failed.disconnect()
        self.run_dir = None
        self.setup = None
        self._image_cache.clear()
        self.title.setText("<h3>No run opened</h3>")
        self.title.setToolTip("")
        show_run_architecture(self.views, self.architecture, None)
        self.summary.clear()
        self.hint.show()
        self._clear_results("No run opened.")
        self.evaluate_button.setEnabled(False)

    def evaluate(self, run_dir: str, why: str = "") -> None:
        """Evaluate the run anew in the background; `why`: the sentence saying why its saved evaluation was not shown."""
        if self.busy:
            return
        self.why = html.escape(why, quote=False)
        self._set_run(run_dir)
        episodes = self.episodes.value()
        device = self.device

        def work(progress, cancelled):
            def staged(stage, done, total):
                share = DECODE_SHARE if stage == "decoding" else 100 - DECODE_SHARE
                start = 0 if stage == "decoding" else DECODE_SHARE
                progress(start + share * done // max(1, total), 100)
            return inspect_run(run_dir, episodes=episodes, device=device, progress=staged, cancelled=cancelled)

        self.summary.setText(f"{why}<br>" * bool(why) + f"Evaluating {Path(run_dir).name} on {episodes} test episodes…")
        self._clear_results(f"Evaluating {Path(run_dir).name}…")  # never the previous run's results meanwhile
        self._start_job(work, "Evaluation", self._on_evaluated)

    def _clear_results(self, message: str) -> None:
        self.inspection = None
        self.per_class_model.set_inspection(None)
        self.confusion_model.set_inspection(None)
        self.top_confusions.setRowCount(0)
        self.mistakes.show_empty(message)
        self._pending_cell = None
        self.cell.show_message(message)
        self.reliability.set_report(None)
        self.body.setEnabled(False)

    def _set_run(self, run_dir: str) -> None:
        if run_dir != self.run_dir:
            self.setup = None
            self._image_cache.clear()
        self.run_dir = run_dir
        show_run_architecture(self.views, self.architecture, run_dir)
        self.title.setText(f"<h3>{Path(run_dir).name}</h3>")
        self.title.setToolTip(run_dir)
        self.hint.hide()
        self.evaluate_button.setEnabled(True)

    def _on_evaluated(self, result) -> None:
        inspection, setup = result
        self.show_inspection(inspection, setup)

    def show_inspection(self, inspection: Inspection, setup: EvaluationSetup | None) -> None:
        self.inspection = inspection
        self.setup = setup or self.setup
        self._image_cache.clear()
        self.body.setEnabled(True)
        source = inspection.class_source
        self.summary.setText(
            f"Accuracy <b>{accuracy_text(inspection)}%</b> (mean over {counted(len(inspection.episodes), 'episode')}, "
            f"95% interval) · {inspection.ways}-way {inspection.shots}-shot, "
            f"{counted(inspection.queries, 'query')} per class "
            f"· {counted(len(inspection.classes), 'class')} ({source}) · {counted(inspection.query_count, 'query')}, "
            f"{sum(1 for r in inspection.episodes for p, t in zip(r.predicted, r.query_labels) if p != t)} wrong "
            f"· saved in {EVALUATION_FILE}".replace("%%", "%") + f"<br>{calibration_text(inspection)}")
        self.per_class_model.set_inspection(inspection)
        self.per_class.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # the weakest classes first
        self.per_class.resizeColumnsToContents()
        self.confusion_model.set_inspection(inspection)
        self.top_confusions.show_confusions(self.confusion_model)
        self.mistakes.set_inspection(inspection, self.image)
        self._pending_cell = None
        self.cell.show_message(CELL_HINT)
        self.embedding.set_episode_count(len(inspection.episodes))
        self.embedding.image_source = self.image
        self.embedding.show_message("Choose an episode to see its support and query images in feature space.")
        self.tasks.set_tasks(inspection.task_xy, [r.accuracy for r in inspection.episodes])
        self.reliability.set_report(calibration_of(inspection))
        if self.views.currentWidget() is self.embedding:
            self.embedding.show_episode(0)
        if self.run_dir:
            self.inspectionShown.emit(self.run_dir)

    # --- images -------------------------------------------------------------
    def image(self, row: int, turns: int, path: str) -> QPixmap:
        """An evaluated image: from the decoded data when loaded, else read again from its file."""
        key = (row, turns, path)
        if key in self._image_cache:
            return self._image_cache[key]
        if self.setup is not None:
            pixmap = cache_pixmap(self.setup.cache.images, row, turns, TILE)
        else:
            try:
                config = RunFolder.open(self.run_dir).read_config()
                array = read_display_image(path, config.image_size, config.channels)
                pixmap = array_to_pixmap(orient_array(array, turns), TILE)
            except (ImageDecodeError, WorkbenchError):
                pixmap = placeholder_pixmap(TILE)
        self._image_cache[key] = pixmap
        return pixmap

    # --- a confusion cell's images --------------------------------------------------
    def _on_confusion_clicked(self, index) -> None:
        classes = self.confusion_model.classes
        if index.isValid() and self.inspection is not None:
            self.show_cell(classes[index.row()], classes[index.column()])

    def _on_top_confusion_clicked(self, row: int, _column: int) -> None:
        cells = self.confusion_model.top_confusions()
        if 0 <= row < len(cells) and self.inspection is not None:
            self.show_cell(cells[row][1], cells[row][2])

    def show_cell(self, true_class: str, predicted_class: str) -> None:
        """Show the query images of true class `true_class` predicted as `predicted_class` (a class key each),
        loading the run's images first when only the saved evaluation is open."""
        self.views.setCurrentWidget(self.cell)
        names = self.confusion_model.names
        true_name, predicted_name = short_name(true_class, names), short_name(predicted_class, names)
        right = true_class == predicted_class
        queries = cell_queries(self.inspection, true_class, predicted_class)
        if not queries:
            what = f"No query of <b>{true_name}</b> was " + ("predicted right" if right else f"predicted as <b>{predicted_name}</b>")
            self.cell.show_message("Nothing to show in this cell.", what + ".")
            return
        if self.setup is None:
            self._pending_cell = (true_class, predicted_class)
            self.cell.show_message("Loading the run's images…", f"<b>{true_name}</b> predicted as <b>{predicted_name}</b>")
            self._load_setup()
            return
        row, column = self.confusion_model.classes.index(true_class), self.confusion_model.classes.index(predicted_class)
        times = self.confusion_model.matrix[row][column]
        verdict = "predicted right" if right else f"predicted as <b>{predicted_name}</b>"
        self.cell.show_queries(f"{counted(len(queries), 'image')} of <b>{true_name}</b> {verdict} "
                               f"({counted(times, 'time')} over the episodes), the most confident first",
                               queries, self.image, self.setup.cache.image_paths, right)

    # --- embeddings -----------------------------------------------------------
    def open_episode(self, index: int) -> None:
        self.views.setCurrentWidget(self.embedding)
        self.embedding.show_episode(index)

    def _on_view_changed(self, _index: int) -> None:
        if self.views.currentWidget() is self.embedding and self.inspection and self.embedding.embedding is None:
            self.embedding.show_episode(self.embedding.episode.value() - 1)

    def _compute_embedding(self, index: int, method: str) -> None:
        if self.inspection is None:
            return
        if self.setup is None:
            self._pending_episode = (index, method)
            self._load_setup()
            return
        if self.embed_job is not None:
            self._pending_episode = (index, method)  # draw the latest request when this one ends
            return
        setup, record = self.setup, self.inspection.episodes[index]
        invert = setup.config.invert  # the run's preprocessing; the tiles shown stay as the files look
        job = create_worker(embed_episode, setup.algorithm, setup.cache, record, method, invert,
                            title="Embedding", parent=self)
        job.succeeded.connect(self.embedding.show_embedding)
        job.failed.connect(self.embedding.show_message)
        job.finished.connect(self._on_embed_finished)
        self.embed_job = job
        job.start()

    def _on_embed_finished(self) -> None:
        self.embed_job = None
        if self._pending_episode is not None:
            pending, self._pending_episode = self._pending_episode, None
            self._compute_embedding(*pending)

    def _load_setup(self) -> None:
        if self.busy:
            return
        inspection, device = self.inspection, self.device

        def work(progress, cancelled):
            return prepare_evaluation(inspection.run_dir, inspection.data, inspection.ways, inspection.shots,
                                      inspection.queries, inspection.seed, device,
                                      cache_progress=progress, cancelled=cancelled)

        self.embedding.show_message("Loading the run's model and images for the embedding…")
        self._start_job(work, "Loading the model", self._on_setup_loaded)

    def _on_setup_loaded(self, setup: EvaluationSetup) -> None:
        self.setup = setup
        self._image_cache.clear()
        if self._pending_cell is not None:
            cell, self._pending_cell = self._pending_cell, None
            self.show_cell(*cell)
        if self._pending_episode is not None:
            pending, self._pending_episode = self._pending_episode, None
            self._compute_embedding(*pending)

    # --- jobs -------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None

    def _start_job(self, work, title: str, on_success) -> None:
        job = create_worker(work, PROGRESS, CANCELLED, title=title, parent=self)
        job.progressed.connect(lambda step: self.progress.setValue(int(100 * step[0] / max(1, step[1]))))
        job.succeeded.connect(on_success)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_job_finished)
        self.job = job
        self.progress.setValue(0)
        self._set_busy(True)
        job.start()

    def _on_failed(self, message: str) -> None:
        self.summary.setText(f"{self.why}<br>" * bool(self.why) + f"<span style='color:{wrong_text_color()}'>{message}</span>")
        if self.embedding.embedding is None:
            self.embedding.show_message(message)
        if self._pending_cell is not None:
            self._pending_cell = None
            self.cell.show_message(message)

    def _on_job_finished(self) -> None:
        self.job = None
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.evaluate_button.setEnabled(not busy and self.run_dir is not None)
        self.episodes.setEnabled(not busy)
        self.busyChanged.emit(busy)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.summary.setText("Cancelling…")

    def stop_jobs(self) -> None:
        """Cancel and wait for background work (before closing the window)."""
        for job in (self.job, self.embed_job):
            if job is not None and job.isRunning():
                job.stop_and_wait()
