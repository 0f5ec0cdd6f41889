"""The main window: dataset, protocol and algorithm on the left; pages (dataset, training, runs,
inspect) on the right; menus, drag and drop, themes, projects and a status bar around them."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QByteArray, Qt, QThread, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from workbench.catalogue import plugins
from workbench import catalogue
from workbench.algorithms.hyperparams import resolve_hyperparams
from workbench.data.demo import default_demo_path, make_demo_dataset, user_data_dir
from workbench.data.omniglot_download import omniglot_background
from workbench.data.sources import DatasetScan, scan_datasets
from workbench.errors import WorkbenchError
from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.banner import MessageBanner
from workbench.gui.curves import CurvesView
from workbench.gui.data_panel import ZIP_FILTER, DataPanel
from workbench.gui.dataset_view import DatasetView
from workbench.gui.image_check import ImageCheckThread
from workbench.gui.inspect.inspect_page import InspectPage
from workbench.gui.jobs import JobThread
from workbench.gui.labelling import LabelPage
from workbench.gui.page_tabs import PageTabs
from workbench.gui.plugins_dialog import PluginsDialog
from workbench.export import export_adapted, format_for_file, suggested_file_name
from workbench.gui.predictions_view import PredictionsView
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.gui.run_history import show_past
from workbench.gui.runs.runs_page import RunsPage
from workbench.gui.shortcuts import ShortcutsDialog, window_shortcuts
from workbench.gui.settings import app_settings, push_recent, string_list
from workbench.gui.themes import apply_theme, current_theme
from workbench.gui.training_panel import RunControls, TrainingPanel
from workbench.gui.too_few_classes import flat_folder, training_blocker
from workbench.gui.training_worker import TrainingThread
from workbench.gui.unsaved_guard import UnsavedGuard
from workbench.gui.window_actions import make_actions, make_menus
from workbench.projects.project import SUFFIX as PROJECT_SUFFIX
from workbench.projects.project import Project, load_project
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.device import describe_device, resolve_device
from workbench.training.events import EpisodePredictions, RunFinished, RunStarted, TrainStep, Validation

APP_TITLE = "Few-Shot Workbench"
PROJECT_FILTER = f"Workbench projects (*{PROJECT_SUFFIX});;All files (*)"
DEMO_CLASSES = 300
DEMO_IMAGES = 20


class MainWindow(QMainWindow):
    """Choose data, set the episode protocol and algorithm, then train with live curves and predictions;
    compare runs, inspect their results, and keep it all in a project.

    `runs_root` is the folder new run folders are made in (default: runs/ in the
    current directory). Training runs on a TrainingThread and every other job
    longer than a second on a JobThread; this window only reacts to their signals.
    `projectOpened(Project)` fires after a project is opened (its labelling
    sessions are for the label page).
    """

    projectOpened = Signal(object)

    def __init__(self, runs_root: str | Path | None = None, algorithms: dict[str, type] | None = None) -> None:
        super().__init__()
        self.runs_root = Path(runs_root) if runs_root is not None else Path.cwd() / "runs"
        self.scan: DatasetScan | None = None
        self.training: TrainingThread | None = None
        self.image_check: ImageCheckThread | None = None
        self.last_finished: RunFinished | None = None
        self.job: JobThread | None = None  # demo dataset or Omniglot download
        self.scan_job: JobThread | None = None  # the dataset scan in progress
        self._scan_paths: list[str] = []  # what it scans
        self._after_scan: Callable[[], None] | None = None  # runs once it is shown
        self.project = Project()
        self.project_path: str | None = None
        self.settings = app_settings()
        self.resize(1400, 880)
        self.setAcceptDrops(True)

        self.banner = MessageBanner()
        self.data_panel = DataPanel()
        self.protocol_panel = ProtocolPanel()
        self.algorithm_panel = AlgorithmPanel(algorithms)
        self.dataset_view = DatasetView()
        self.training_panel = TrainingPanel()
        self.curves = CurvesView()
        self.predictions = PredictionsView()
        self.runs_page = RunsPage()
        self.inspect_page = InspectPage()
        make_actions(self)
        self._layout()
        make_menus(self)  # after the layout: the View menu names its pages
        self._make_status_bar()

        self.guard = UnsavedGuard(self)  # Save / Discard / Cancel before unsaved work is dropped
        self.data_panel.pathsChanged.connect(self.load_datasets)
        self.protocol_panel.ways.valueChanged.connect(lambda _ways: self._update_actions())
        for signal in (self.label_page.keeper.modifiedChanged, self.data_panel.pathsChanged,
                       self.algorithm_panel.algorithmChanged, self.protocol_panel.invert.toggled):
            signal.connect(lambda *_args: self.guard.update_title())
        self.runs_page.resumeRequested.connect(self.resume_run)
        self.runs_page.evaluateRequested.connect(self.inspect_run)
        self.runs_page.useForLabelling.connect(self.use_for_labelling)
        self.inspect_page.busyChanged.connect(lambda _busy: self._update_actions())
        self.dataset_view.hint.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.dataset_view.hint.linkActivated.connect(self._on_hint_link)
        self.runs_page.set_root(self.runs_root)
        if algorithms is None:
            self._report_plugin_failures()
        self._restore_settings()
        self._update_title()
        self._update_actions()
        # A full garbage collection holds the GIL while it walks every object: with torch,
        # Qt and a 100 000-image scan loaded that froze the window for 0.2-0.3 s. Objects
        # that live as long as the window (and each scan, below) are left out of those walks.
        gc.freeze()
        self.statusBar().showMessage("Choose a dataset folder (Ctrl+O) or zip (Ctrl+Shift+O), or drop one on the "
                                     "window, to begin. No data? File › Create demo dataset.")

    # --- building ------------------------------------------------------------
    def _layout(self) -> None:
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        data_box = QGroupBox("Dataset")
        QVBoxLayout(data_box).addWidget(self.data_panel)
        algorithm_box = QGroupBox("Algorithm")
        QVBoxLayout(algorithm_box).addWidget(self.algorithm_panel)
        settings_layout.addWidget(data_box)
        settings_layout.addWidget(self.protocol_panel)
        settings_layout.addWidget(algorithm_box)
        settings_layout.addStretch(1)
        self.settings_widget = settings
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(max(settings.sizeHint().width() + 24, 400))
        self.run_controls = RunControls(self.start_action, self.pause_action, self.stop_action)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.run_controls)

        self.predictions_log_split = QSplitter(Qt.Orientation.Horizontal)
        self.predictions_log_split.addWidget(self.predictions)
        log_box = QWidget()
        log_layout = QVBoxLayout(log_box)
        log_layout.setContentsMargins(0, 0, 0, 0)
        log_title = QLabel("Log")
        log_title.setObjectName("sectionTitle")
        log_layout.addWidget(log_title)
        log_layout.addWidget(self.training_panel.log)
        self.predictions_log_split.addWidget(log_box)
        self.predictions_log_split.setSizes([700, 260])
        plots_split = QSplitter(Qt.Orientation.Vertical)
        plots_split.addWidget(self.curves)
        plots_split.addWidget(self.predictions_log_split)
        plots_split.setSizes([300, 420])
        training_page = QWidget()
        training_layout = QVBoxLayout(training_page)
        training_layout.setContentsMargins(8, 8, 8, 8)
        training_layout.addWidget(self.training_panel)
        training_layout.addWidget(plots_split, 1)

        self.tabs = PageTabs()
        self.label_page = LabelPage()  # label a folder with a trained model: workbench/gui/labelling
        self.training_page = training_page
        for title, page in self._pages():
            self.tabs.addTab(page, title)
        # Settings live with the pages they configure; Label, Runs and Inspect use the whole width.
        self.tabs.currentChanged.connect(lambda _index: self.settings_side.setVisible(
            self.tabs.currentWidget() in (self.dataset_view, self.training_page)))

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        self.settings_side = left
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([scroll.minimumWidth(), 1000])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)
        self.setCentralWidget(central)

    def _pages(self) -> list[tuple[str, QWidget]]:
        return [("Dataset", self.dataset_view), ("Training", self.training_page), ("Label", self.label_page),
                ("Runs", self.runs_page), ("Inspect", self.inspect_page)]

    def _make_status_bar(self) -> None:
        try:
            device = describe_device(resolve_device("auto"))
        except Exception:  # the status bar must not stop the app from opening
            device = "unknown"
        self.device_label = QLabel(f"Device: {device}")
        self.device_label.setToolTip("Where 'Auto' trains. Change it under Training › Device.")
        self.job_progress = QProgressBar()
        self.job_progress.setMaximumWidth(220)
        self.job_progress.setMaximumHeight(18)
        self.job_cancel = QPushButton("Cancel")
        self.job_cancel.setToolTip("Stop this job.")
        self.job_cancel.clicked.connect(lambda: self.job is not None and self.job.cancel())
        self.job_progress.hide()
        self.job_cancel.hide()
        self.statusBar().addPermanentWidget(self.job_progress)
        self.statusBar().addPermanentWidget(self.job_cancel)
        self.statusBar().addPermanentWidget(self.device_label)

    def _report_plugin_failures(self) -> None:
        failed = [status for status in plugins.statuses() if not status.loaded]
        if failed:
            details = "; ".join(f"{status.name}: {status.error}" for status in failed)
            self.banner.show_message(f"{len(failed)} algorithm plugin(s) could not be loaded and are left out "
                                     f"({details}). The other algorithms work.", "warning")

    # --- data ----------------------------------------------------------------
    def open_dataset_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a dataset folder", self._dialog_start())
        if path:
            self.tabs.setCurrentWidget(self.dataset_view)
            self.data_panel.set_paths([path])

    def open_dataset_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset zip", self._dialog_start(), ZIP_FILTER)
        if path:
            self.tabs.setCurrentWidget(self.dataset_view)
            self.data_panel.set_paths([path])

    def add_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a dataset zip (or cancel to type a folder)",
                                              self._dialog_start(), ZIP_FILTER)
        if path:
            self.data_panel.add_path(path)
        else:
            self.data_panel.add_row().edit.setFocus()

    def _dialog_start(self) -> str:
        paths = self.data_panel.paths()
        return str(Path(paths[0]).parent) if paths else self._last_folder("data")

    def load_datasets(self, paths: list[str], then: Callable[[], None] | None = None) -> None:
        """Scan `paths` on a background thread, then show their classes and problems.

        A scan of a hundred thousand files takes seconds, so the window keeps
        answering meanwhile; a newer request cancels an older one. `then` runs
        once this scan has been shown. A bad path is reported, not raised.
        """
        self._stop_image_check()
        self._cancel_scan()
        if not paths:
            self.scan = None
            self.dataset_view.show_hint()
            self.data_panel.summary.setText("No dataset chosen yet.")
            self._update_actions()
            return
        paths = list(paths)
        job = JobThread(lambda progress, cancelled: scan_datasets(paths, progress, cancelled), "Scanning the dataset", self)
        job.progressed.connect(lambda found, _total, j=job: self._on_scan_progress(j, found))
        job.succeeded.connect(lambda scan, j=job: self._on_scan_done(j, scan))
        job.failed.connect(lambda message, j=job: self._on_scan_failed(j, message))
        job.finished.connect(job.deleteLater)
        self.scan_job, self._scan_paths, self._after_scan = job, paths, then
        self.data_panel.summary.setText("Scanning…")
        self.statusBar().showMessage(f"Scanning {', '.join(Path(p).name for p in paths)}…")
        self._update_actions()
        job.start()

    @property
    def scan_running(self) -> bool:
        return self.scan_job is not None

    def _cancel_scan(self) -> None:
        job, self.scan_job = self.scan_job, None
        if job is not None:
            job.cancel()  # it ends at its next folder; its result is ignored

    def _on_scan_progress(self, job: JobThread, found: int) -> None:
        if job is self.scan_job:
            self.data_panel.summary.setText(f"Scanning… {found:,} images found so far.")

    def _on_scan_failed(self, job: JobThread, message: str) -> None:
        if job is not self.scan_job:
            return  # a scan that a newer one replaced
        self.scan_job, self._after_scan = None, None
        self.scan = None
        self.dataset_view.show_hint()
        self.data_panel.summary.setText("Could not read the dataset.")
        self.banner.show_message(message, "error")
        self.statusBar().showMessage("Could not read the dataset.", 8000)
        self._update_actions()

    def _on_scan_done(self, job: JobThread, scan: DatasetScan) -> None:
        if job is not self.scan_job:
            return
        self.scan_job = None
        self.scan = scan
        gc.freeze()  # the scan lives until the next one (and frees by reference count then)
        self.dataset_view.show_scan(scan)
        self.protocol_panel.set_groups([g for g in scan.groups if g])
        # No page change here: the person may be on another page (a resumed run's, say) by now.
        summary = self._update_data_summary()
        blocker = training_blocker(scan, self.protocol_panel.ways.value())
        if not scan.classes:
            self.banner.show_message("No usable classes found: a class is a folder holding images. "
                                     "See the problems list for what was found instead.", "error")
        elif blocker:
            folder = flat_folder(scan)
            self.banner.show_message(blocker, "warning", folder and ("Open on the Label page", lambda: self.label_folder(folder)))
        elif self.banner.level == "error" or "-way episodes need" in self.banner.text:
            self.banner.clear()  # about the dataset this scan replaced
        self.statusBar().showMessage(f"Loaded {summary}.", 8000)
        self._update_actions()
        self._start_image_check(scan)
        then, self._after_scan = self._after_scan, None
        if then is not None:
            then()

    def _update_data_summary(self) -> str:
        scan = self.scan
        summary = f"{len(scan.classes):,} classes, {scan.image_count:,} images"
        count = len(self.dataset_view.problems)
        if count:
            summary += f", {count} problem{'s' if count != 1 else ''} (see the Dataset tab)"
        self.data_panel.summary.setText(summary + ".")
        return summary

    def _start_image_check(self, scan: DatasetScan) -> None:
        if not scan.classes:
            return
        check = ImageCheckThread(scan, self)
        check.progress.connect(lambda done, total, c=check: self._on_check_progress(c, done, total))
        check.found.connect(lambda problems, c=check: self._on_check_found(c, problems))
        check.finished.connect(check.deleteLater)
        self.image_check = check
        self.dataset_view.set_check_progress(0, scan.image_count)
        check.start(QThread.Priority.LowPriority)  # training and the UI come first

    def _on_check_progress(self, check: ImageCheckThread, done: int, total: int) -> None:
        if check is self.image_check:
            self.dataset_view.set_check_progress(done, total)

    def _on_check_found(self, check: ImageCheckThread, problems: list) -> None:
        if check is not self.image_check:
            return  # a check of a dataset no longer shown
        self.dataset_view.add_problems(problems)
        self.dataset_view.set_check_progress(check.scan.image_count, check.scan.image_count, finished=True)
        self.image_check = None
        self._update_data_summary()

    def _stop_image_check(self) -> None:
        check, self.image_check = self.image_check, None
        if check is not None and check.isRunning():
            check.cancel()
            check.wait()

    @property
    def image_check_running(self) -> bool:
        return self.image_check is not None

    # --- training ------------------------------------------------------------
    def build_config(self) -> RunConfig:
        """The RunConfig the form describes; raises WorkbenchError with a readable message."""
        paths = self.data_panel.paths()
        if not paths:
            raise WorkbenchError("Choose a dataset first: File › Open dataset folder… or zip….")
        if self.scan is None or not self.scan.classes:
            raise WorkbenchError("The chosen dataset has no usable classes; see the Dataset tab for its problems.")
        blocker = training_blocker(self.scan, self.protocol_panel.ways.value())
        if blocker and len(self.scan.classes) < 2:
            raise WorkbenchError(blocker)
        name = self.algorithm_panel.name
        hparams = self.algorithm_panel.hyperparams()
        resolve_hyperparams(catalogue.get(name).hyperparams, hparams, name)
        return RunConfig(data=paths, algorithm=name, hparams=hparams, **self.protocol_panel.config_kwargs())

    def new_run_dir(self, config: RunConfig) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{config.algorithm}-{config.ways}w{config.shots}s"
        candidate = self.runs_root / base
        number = 2
        while candidate.exists():
            candidate = self.runs_root / f"{base}-{number}"
            number += 1
        return candidate

    def start_training(self) -> None:
        if self.training is not None:
            return
        paths = self.data_panel.paths()
        if self.scan_running and self._scan_paths == paths:
            self._after_scan = self.start_training  # starts once the scan under way is shown
            return
        if paths and (self.scan is None or self.scan.roots != paths):
            # A path typed but not yet scanned: show what will be trained on, then start;
            # a path that cannot be read is explained in the banner instead.
            self.load_datasets(paths, then=self.start_training)
            return
        try:
            config = self.build_config()
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.banner.clear()
        self._start_thread(config, self.new_run_dir(config), resume=False)

    def resume_run(self, run_dir: str) -> None:
        """Continue a stopped run from its checkpoint, with its own settings, on the Training page."""
        if self.training is not None:
            self.banner.show_message("A run is already training; stop it before resuming another.", "warning")
            return
        try:
            folder = RunFolder.open(run_dir)
            config = folder.read_config()
            if not folder.checkpoint_path.exists():
                raise WorkbenchError(f"{run_dir} has no checkpoint to resume from; train a new run instead.")
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.data_panel.set_paths(list(config.data))
        self.algorithm_panel.set_algorithm(config.algorithm)
        self.banner.clear()
        self._start_thread(config, Path(run_dir), resume=True)

    def _start_thread(self, config: RunConfig, run_dir: Path, resume: bool) -> None:
        self.curves.clear()
        self.predictions.clear()
        self.predictions.set_images(None)
        self.last_finished = None
        self.training_panel.run_requested(run_dir)
        thread = TrainingThread(config, run_dir, resume=resume, parent=self)
        thread.event.connect(self._on_event)
        thread.dataReady.connect(self._on_data_ready)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self.training = thread
        self.tabs.setCurrentWidget(self.training_page)
        verb = "Resuming" if resume else "Training"
        self.statusBar().showMessage(f"{verb} {config.algorithm}, {config.ways}-way {config.shots}-shot…")
        self._update_actions()
        thread.start()

    def toggle_pause(self) -> None:
        thread = self.training
        if thread is None or not thread.started_training:
            return
        if thread.control.paused:
            thread.resume_run()
            self.training_panel.set_paused(False)
        else:
            thread.pause()
            self.training_panel.set_paused(True)
        self._update_actions()

    def stop_training(self) -> None:
        if self.training is not None:
            self.training.stop()
            self.training_panel.status.setText("Stopping… (saving a checkpoint)")
            self._update_actions()

    def _on_data_ready(self, cache) -> None:
        self.predictions.set_images(cache.images)

    def _on_event(self, event) -> None:
        if isinstance(event, TrainStep):
            self.curves.add_train(event)
            self.training_panel.handle(event)
            return
        if isinstance(event, Validation):
            self.curves.add_validation(event)
        elif isinstance(event, EpisodePredictions):
            self.predictions.show_predictions(event)
        elif isinstance(event, RunStarted):
            self.device_label.setText(f"Device: {event.device}")
            if event.start_step > 0:  # resumed: the steps before the checkpoint belong on the curves too
                show_past(self, event.run_dir, event.start_step)
            self._update_actions()
        elif isinstance(event, RunFinished):
            self.last_finished = event
            self.curves.redraw()
            self._report_finished(event)
        self.training_panel.handle(event)

    def _report_finished(self, event: RunFinished) -> None:
        if event.status == "completed":
            self.banner.show_message(f"{event.message} Saved in {event.run_dir}.", "success")
            self.label_page.offer_run(event.run_dir)  # "Use this model for labelling" on the Label tab
        elif event.status == "failed":
            self.banner.show_message(event.message, "error")
        elif event.status == "cancelled" and event.run_dir and RunFolder(event.run_dir).checkpoint_path.exists():
            self.banner.show_message(event.message, "info", ("Resume", lambda d=event.run_dir: self.resume_run(d)))
        else:
            self.banner.show_message(event.message, "info")
        self.statusBar().showMessage(event.message, 10000)

    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")
        self.statusBar().showMessage("Could not train; the banner says why.", 10000)  # not "Training…" any more
        self.training_panel.run_failed(message)

    def _on_thread_finished(self) -> None:
        thread, self.training = self.training, None
        if thread is not None:
            thread.deleteLater()
        self.runs_page.refresh()
        self._update_actions()

    def _update_actions(self) -> None:
        thread = self.training
        running = thread is not None
        # One class can never make an episode: Start is off. With fewer classes than N ways the
        # banner says so, and Start stays on (the run then explains which split falls short).
        blocker = training_blocker(self.scan, self.protocol_panel.ways.value())
        has_data = self.scan is not None and len(self.scan.classes) >= 2
        # While a scan runs, Start waits for it and then trains on what it found.
        self.start_action.setEnabled(not running and (has_data or self.scan_running))
        self.start_action.setToolTip("Start training (Ctrl+R)" if has_data or self.scan_running
                                     else blocker or "Choose a dataset first.")
        training = running and thread.started_training and not thread.control.cancelled
        self.pause_action.setEnabled(training)
        paused = training and thread.control.paused
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.stop_action.setEnabled(running and not thread.control.cancelled)
        # Settings describe the run in progress; editing them mid-run would mislead.
        self.settings_widget.setEnabled(not running)
        busy = self.job is not None
        for action in (self.open_folder_action, self.open_zip_action, self.add_dataset_action, self.runs_root_action,
                       self.new_project_action, self.open_project_action, self.recent_menu.menuAction()):
            action.setEnabled(not running)
        self.demo_action.setEnabled(not running and not busy)
        self.omniglot_action.setEnabled(not running and not busy)
        self.resume_action.setEnabled(not running)
        self.evaluate_action.setEnabled(not self.inspect_page.busy)

    def choose_runs_root(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save new runs in", str(self.runs_root))
        if path:
            self.set_runs_root(path)
            self.statusBar().showMessage(f"New runs are saved in {path}.", 8000)

    def set_runs_root(self, path: str | Path) -> None:
        self.runs_root = Path(path)
        self.runs_page.set_root(self.runs_root)

    # --- runs and inspection --------------------------------------------------
    def inspect_run(self, run_dir: str) -> None:
        """Show the run on the Inspect page: its saved evaluation, or a new one computed in the background."""
        self.tabs.setCurrentWidget(self.inspect_page)
        self.inspect_page.open_run(run_dir)
        self._update_actions()

    def label_folder(self, folder: str) -> None:
        """Open `folder` on the Label page (a folder of images without classes is one to label)."""
        self.tabs.setCurrentWidget(self.label_page)
        self.label_page.open_folder(folder)

    def use_for_labelling(self, run_dir: str) -> None:
        """Open the Label page with the run's model, ready to adapt to the user's images."""
        self.tabs.setCurrentWidget(self.label_page)
        self.label_page.load_run(run_dir)

    def evaluate_selected_or_last(self) -> None:
        paths = self.runs_page.selected_paths()
        if len(paths) == 1:
            self.inspect_run(paths[0])
        elif self.last_finished is not None:
            self.inspect_run(self.last_finished.run_dir)
        else:
            self.tabs.setCurrentWidget(self.runs_page)
            self.statusBar().showMessage("Select one run in the list, then Evaluate (Ctrl+E).", 8000)

    # --- projects --------------------------------------------------------------
    def current_project(self) -> Project:
        """The project as the window shows it now (datasets, runs folder, algorithm, whether its images are inverted)."""
        project = self.project
        # Inverting describes the project's images (dark on light or not), so it is kept with them.
        settings = {**project.settings, "algorithm": self.algorithm_panel.name,
                    "invert": self.protocol_panel.invert.value()}
        return Project(name=project.name, datasets=self.data_panel.paths(), runs_root=str(self.runs_root),
                       labelling_sessions=list(project.labelling_sessions), settings=settings)

    def new_project(self) -> None:
        if not self.guard.confirm("starting a new project"):
            return
        self.project, self.project_path = Project(), None
        self.data_panel.set_paths([])
        self._update_title()
        self.statusBar().showMessage("New project: choose a dataset to begin.", 8000)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a project", self._last_folder("projects"), PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> bool:
        """Open a project file; a missing or invalid one is explained in the banner (returns False)."""
        if not self.guard.confirm("opening another project"):
            return False
        try:
            project = load_project(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.project, self.project_path = project, str(Path(path).resolve())
        if project.runs_root:
            self.set_runs_root(project.runs_root)
        algorithm = project.settings.get("algorithm")
        if isinstance(algorithm, str) and algorithm in catalogue.available():
            self.algorithm_panel.set_algorithm(algorithm)
        invert = project.settings.get("invert")
        if isinstance(invert, bool) or invert == "auto":  # projects saved before the setting existed leave it as it is
            self.protocol_panel.invert.set_value(invert)
        self.data_panel.set_paths(project.datasets)
        self.guard.mark_project_saved()
        self._remember_recent(self.project_path)
        self._update_title()
        self.statusBar().showMessage(f"Opened project {project.name}.", 8000)
        self.projectOpened.emit(project)
        return True

    def save_current(self) -> bool:
        """Ctrl+S: the labelling session on the Label page, the project on every other page."""
        if self.tabs.currentWidget() is self.label_page:
            return self.label_page.save_session()
        return self.save_project()

    def save_project(self, ask: bool = False, path: str | None = None) -> bool:
        path = path or (None if ask else self.project_path)
        if path is None:
            start = str(Path(self._last_folder("projects")) / f"{self.project.name}{PROJECT_SUFFIX}")
            path, _ = QFileDialog.getSaveFileName(self, "Save the project", start, PROJECT_FILTER)
            if not path:
                return False
            if not path.endswith(PROJECT_SUFFIX):
                path += PROJECT_SUFFIX
        project = self.current_project()
        if project.name == "Untitled":
            project.name = Path(path).stem
        try:
            project.save(path)
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.project, self.project_path = project, str(Path(path).resolve())
        self.guard.mark_project_saved()
        self._remember_recent(self.project_path)
        self._update_title()
        self.statusBar().showMessage(f"Saved project {project.name} in {path}.", 8000)
        return True

    def _update_title(self) -> None:
        # [*] is where Qt shows the unsaved-changes marker while the window is modified.
        self.setWindowTitle(f"{self.project.name}[*] — {APP_TITLE}" if self.project_path else f"{APP_TITLE}[*]")
        self.guard.update_title()

    def _remember_recent(self, path: str) -> None:
        push_recent(self.settings, "recent_projects", path)
        self.settings.setValue("last_folders/projects", str(Path(path).parent))
        self._update_recent_menu()

    def recent_projects(self) -> list[str]:
        return string_list(self.settings, "recent_projects")

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_projects()
        for number, path in enumerate(recent, start=1):
            action = self.recent_menu.addAction(f"&{number} {Path(path).name}", lambda p=path: self.open_project(p))
            action.setToolTip(path)
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    # --- data the app makes or fetches ------------------------------------------
    def create_demo_dataset(self) -> None:
        """Draw the demo glyph dataset (a few seconds, in the background) and load it."""
        classes, images, root = self.demo_classes, self.demo_images, default_demo_path()
        self._run_job(lambda progress, cancelled: make_demo_dataset(
            root, classes=classes, images_per_class=images, progress=progress, cancelled=cancelled),
            f"Drawing the demo dataset ({classes} classes)…", self._on_demo_ready)

    demo_classes = DEMO_CLASSES
    demo_images = DEMO_IMAGES

    def _on_demo_ready(self, root) -> None:
        def announce() -> None:
            if self.scan is not None and self.scan.classes:
                self.banner.show_message(
                    f"Demo dataset ready: {len(self.scan.classes)} drawn glyph classes in {len(self.scan.groups)} "
                    f"'alphabets', saved in {root}. Press Start training (Ctrl+R) to train on it.", "success")

        self.data_panel.set_paths([str(root)])
        self._after_scan = announce  # the scan just started reports back through the event loop

    def get_omniglot(self) -> None:
        root = user_data_dir() / "omniglot"
        self._run_job(lambda _progress, _cancelled: omniglot_background(root),
                      "Downloading Omniglot (background set)…", lambda folder: self.data_panel.set_paths([str(folder)]))

    def show_plugins(self) -> None:
        """Which plugins are loaded (or failed, with their error) and from which enabled folders."""
        PluginsDialog(self).exec()

    def export_adapted_model(self) -> None:
        """Adapt a run to labelled folders and save that classifier as ONNX or TorchScript, off the GUI thread."""
        run = QFileDialog.getExistingDirectory(self, "Run folder to export", str(self.runs_root))
        support = run and QFileDialog.getExistingDirectory(self, "Labelled images: one subfolder per class")
        out = support and QFileDialog.getSaveFileName(self, "Save the adapted classifier", suggested_file_name(run, "onnx"),
                                                      "ONNX (*.onnx);;TorchScript (*.pt)")[0]
        if out:
            self._run_job(lambda _progress, _cancelled: export_adapted(run, support, format_for_file(out), out),
                          "Exporting the adapted classifier…", self._report_export)

    def _report_export(self, result) -> None:
        self.banner.show_message(f"Exported {len(result.classes)} classes to {result.path} "
                                 f"(class names in {result.classes_path}).", "success")

    def _run_job(self, work, message: str, on_success) -> None:
        if self.job is not None:
            return
        job = JobThread(work, message.rstrip("…"), self)
        job.progressed.connect(self._on_job_progress)
        job.succeeded.connect(on_success)
        job.failed.connect(lambda text: self.banner.show_message(text, "error"))
        job.finished.connect(self._on_job_finished)
        self.job = job
        self.job_progress.setRange(0, 0)  # busy until the first progress report
        self.job_progress.show()
        self.job_cancel.show()
        self.statusBar().showMessage(message)
        self._update_actions()
        job.start()

    def _on_job_progress(self, done: int, total: int) -> None:
        self.job_progress.setRange(0, max(1, total))
        self.job_progress.setValue(done)

    def _on_job_finished(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.deleteLater()
        self.job_progress.hide()
        self.job_cancel.hide()
        self.statusBar().clearMessage()
        self._update_actions()

    @property
    def job_running(self) -> bool:
        return self.job is not None

    # --- drag and drop -----------------------------------------------------------
    @staticmethod
    def _dropped_paths(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        usable = [p for p in paths if Path(p).is_dir() or p.lower().endswith((".zip", PROJECT_SUFFIX))]
        return usable if usable and len(usable) == len(paths) else []

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._dropped_paths(event.mimeData()) and self.training is None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = self._dropped_paths(event.mimeData())
        if not paths or self.training is not None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.drop_paths(paths)

    def drop_paths(self, paths: list[str]) -> None:
        """Load dropped dataset folders/zips (or open a dropped project file)."""
        projects = [p for p in paths if p.endswith(PROJECT_SUFFIX)]
        if projects:
            self.open_project(projects[0])
            return
        self.tabs.setCurrentWidget(self.dataset_view)
        self.data_panel.set_paths(paths)
        self.settings.setValue("last_folders/data", str(Path(paths[0]).parent))

    # --- themes and settings -------------------------------------------------------
    def set_theme(self, name: str) -> None:
        name = apply_theme(name, root=self)
        self.theme_actions[name].setChecked(True)
        # Rich text takes its link colour when laid out: lay the first-screen text out again.
        hint = self.dataset_view.hint
        text = hint.text()
        hint.clear()
        hint.setText(text)
        self.settings.setValue("theme", name)

    @property
    def theme(self) -> str:
        return current_theme()

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        self.set_theme(str(self.settings.value("theme", "light")))

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self.data_panel.paths():
            self.settings.setValue("last_folders/data", str(Path(self.data_panel.paths()[0]).parent))
        self.settings.sync()

    def _last_folder(self, kind: str) -> str:
        return str(self.settings.value(f"last_folders/{kind}", str(Path.cwd())))

    def _on_hint_link(self, link: str) -> None:
        actions = {"demo": self.create_demo_dataset, "open-folder": self.open_dataset_folder,
                   "open-zip": self.open_dataset_zip, "omniglot": self.get_omniglot, "open-project": self.open_project_dialog}
        if link in actions:
            actions[link]()

    # --- help ----------------------------------------------------------------
    def show_shortcuts(self) -> None:
        """Every shortcut of the window, grouped by the page it works on."""
        self.shortcuts_dialog = ShortcutsDialog(window_shortcuts(self, self._pages()), self)
        self.shortcuts_dialog.open()

    def show_getting_started(self) -> None:
        self.tabs.setCurrentWidget(self.dataset_view)
        if self.scan is None:
            self.dataset_view.show_hint()
        else:
            self.banner.show_message(
                "Set N ways, K shots and Q queries on the left, pick an algorithm, then press Start training "
                "(Ctrl+R). Curves and predictions appear on the Training tab.", "info")

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<b>{APP_TITLE}</b><p>Train and compare few-shot learning algorithms on your own "
                          "image folders, with live curves and adapted predictions.</p>")

    # --- closing -------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.guard.confirm("quitting"):
            event.ignore()
            return
        thread = self.training
        if thread is not None and thread.isRunning():
            answer = QMessageBox.question(
                self, "Stop training?",
                "A run is in progress. Stop it and quit?\n\nThe run is saved at its current step and can be resumed.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.statusBar().showMessage("Stopping the run and saving it…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                # The runner checks the cancel flag between episodes and checkpoints before it ends.
                thread.stop_and_wait()
            finally:
                QApplication.restoreOverrideCursor()
        self._stop_image_check()
        scan_job = self.scan_job
        self._cancel_scan()
        if scan_job is not None:
            scan_job.wait(30_000)  # the walk checks the cancel flag at every folder
        self.inspect_page.stop_jobs()
        self.label_page.shutdown()
        if self.job is not None:
            self.job.stop_and_wait()
        self._save_settings()
        self.curves.timer.stop()
        self.training_panel.timer.stop()
        gc.unfreeze()  # let shutdown collect everything again, as without the freeze
        event.accept()
