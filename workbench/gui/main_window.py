"""The main window: dataset, protocol and algorithm on the left; data, curves and predictions on the right."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QThread
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench import plugins
from workbench.algorithms import registry
from workbench.algorithms.hyperparams import resolve_hyperparams
from workbench.data.sources import DatasetScan, scan_datasets
from workbench.errors import WorkbenchError
from workbench.gui.algorithm_panel import AlgorithmPanel
from workbench.gui.banner import MessageBanner
from workbench.gui.curves import CurvesView
from workbench.gui.data_panel import ZIP_FILTER, DataPanel
from workbench.gui.dataset_view import DatasetView
from workbench.gui.image_check import ImageCheckThread
from workbench.gui.labelling import LabelPage
from workbench.gui.predictions_view import PredictionsView
from workbench.gui.protocol_panel import ProtocolPanel
from workbench.gui.training_panel import RunControls, TrainingPanel
from workbench.gui.training_worker import TrainingThread
from workbench.training.config import RunConfig
from workbench.training.device import describe_device, resolve_device
from workbench.training.events import EpisodePredictions, RunFinished, RunStarted, TrainStep, Validation

APP_TITLE = "Few-Shot Workbench"


class MainWindow(QMainWindow):
    """Choose data, set the episode protocol and algorithm, then train with live curves and predictions.

    `runs_root` is the folder new run folders are made in (default: runs/ in the
    current directory). Training runs on a TrainingThread; this window only
    reacts to its signals.
    """

    def __init__(self, runs_root: str | Path | None = None, algorithms: dict[str, type] | None = None) -> None:
        super().__init__()
        self.runs_root = Path(runs_root) if runs_root is not None else Path.cwd() / "runs"
        self.scan: DatasetScan | None = None
        self.training: TrainingThread | None = None
        self.image_check: ImageCheckThread | None = None
        self.last_finished: RunFinished | None = None
        self.setWindowTitle(APP_TITLE)
        self.resize(1400, 880)

        self.banner = MessageBanner()
        self.data_panel = DataPanel()
        self.protocol_panel = ProtocolPanel()
        self.algorithm_panel = AlgorithmPanel(algorithms)
        self.dataset_view = DatasetView()
        self.training_panel = TrainingPanel()
        self.curves = CurvesView()
        self.predictions = PredictionsView()
        self._make_actions()
        self._make_menus()
        self._layout()
        self._make_status_bar()

        self.data_panel.pathsChanged.connect(self.load_datasets)
        if algorithms is None:
            self._report_plugin_failures()
        self._update_actions()
        self.statusBar().showMessage("Choose a dataset folder (Ctrl+O) or zip (Ctrl+Shift+O) to begin.")

    # --- building ------------------------------------------------------------
    def _make_actions(self) -> None:
        style = self.style()
        self.open_folder_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon),
                                          "Open dataset &folder…", self)
        self.open_folder_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_folder_action.triggered.connect(self.open_dataset_folder)
        self.open_zip_action = QAction("Open dataset &zip…", self)
        self.open_zip_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_zip_action.triggered.connect(self.open_dataset_zip)
        self.add_dataset_action = QAction("&Add another dataset…", self)
        self.add_dataset_action.triggered.connect(self.add_dataset)
        self.runs_root_action = QAction("Choose &runs folder…", self)
        self.runs_root_action.triggered.connect(self.choose_runs_root)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)

        self.start_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "&Start training", self)
        self.start_action.setShortcut(QKeySequence("Ctrl+R"))
        self.start_action.triggered.connect(self.start_training)
        self.pause_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause), "&Pause", self)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_action.triggered.connect(self.toggle_pause)
        self.stop_action = QAction(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "S&top", self)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.triggered.connect(self.stop_training)
        self.stop_action.setToolTip("Stop the run; it is saved and can be resumed.")

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_folder_action)
        file_menu.addAction(self.open_zip_action)
        file_menu.addAction(self.add_dataset_action)
        file_menu.addSeparator()
        file_menu.addAction(self.runs_root_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        training_menu = self.menuBar().addMenu("&Training")
        training_menu.addAction(self.start_action)
        training_menu.addAction(self.pause_action)
        training_menu.addAction(self.stop_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Getting started", self.show_getting_started)
        help_menu.addAction("&About", self.show_about)

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

        self.tabs = QTabWidget()
        self.tabs.addTab(self.dataset_view, "Dataset")
        self.tabs.addTab(training_page, "Training")
        self.label_page = LabelPage()  # label a folder with a trained model: workbench/gui/labelling
        self.tabs.addTab(self.label_page, "Label")
        self.training_page = training_page

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
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

    def _make_status_bar(self) -> None:
        try:
            device = describe_device(resolve_device("auto"))
        except Exception:  # the status bar must not stop the app from opening
            device = "unknown"
        self.device_label = QLabel(f"Device: {device}")
        self.device_label.setToolTip("Where 'Auto' trains. Change it under Training › Device.")
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
            self.data_panel.set_paths([path])

    def open_dataset_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset zip", self._dialog_start(), ZIP_FILTER)
        if path:
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
        return str(Path(paths[0]).parent) if paths else str(Path.cwd())

    def load_datasets(self, paths: list[str]) -> None:
        """Scan `paths` and show their classes and problems; a bad path is reported, not raised."""
        self._stop_image_check()
        if not paths:
            self.scan = None
            self.dataset_view.show_hint()
            self.data_panel.summary.setText("No dataset chosen yet.")
            self._update_actions()
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            scan = scan_datasets(paths)
        except WorkbenchError as exc:
            self.scan = None
            self.dataset_view.show_hint()
            self.data_panel.summary.setText("Could not read the dataset.")
            self.banner.show_message(str(exc), "error")
            self.statusBar().showMessage("Could not read the dataset.", 8000)
            self._update_actions()
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.scan = scan
        self.dataset_view.show_scan(scan)
        self.protocol_panel.set_groups([g for g in scan.groups if g])
        self.tabs.setCurrentWidget(self.dataset_view)
        summary = self._update_data_summary()
        if not scan.classes:
            self.banner.show_message("No usable classes found: a class is a folder holding images. "
                                     "See the problems list for what was found instead.", "error")
        elif self.banner.level == "error":
            self.banner.clear()
        self.statusBar().showMessage(f"Loaded {summary}.", 8000)
        self._update_actions()
        self._start_image_check(scan)

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
        name = self.algorithm_panel.name
        hparams = self.algorithm_panel.hyperparams()
        resolve_hyperparams(registry.get(name).hyperparams, hparams, name)
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
        if paths and (self.scan is None or self.scan.roots != paths):
            self.load_datasets(paths)  # a path typed but not yet loaded: show what will be trained on
            if self.scan is None:
                return  # the banner says why the path cannot be read
        try:
            config = self.build_config()
        except WorkbenchError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.banner.clear()
        run_dir = self.new_run_dir(config)
        self.curves.clear()
        self.predictions.clear()
        self.predictions.set_images(None)
        self.last_finished = None
        self.training_panel.run_requested(run_dir)
        thread = TrainingThread(config, run_dir, parent=self)
        thread.event.connect(self._on_event)
        thread.dataReady.connect(self._on_data_ready)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self.training = thread
        self.tabs.setCurrentWidget(self.training_page)
        self.statusBar().showMessage(f"Training {config.algorithm}, {config.ways}-way {config.shots}-shot…")
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
        else:
            self.banner.show_message(event.message, "info")
        self.statusBar().showMessage(event.message, 10000)

    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message, "error")
        self.training_panel.run_failed(message)

    def _on_thread_finished(self) -> None:
        thread, self.training = self.training, None
        if thread is not None:
            thread.deleteLater()
        self._update_actions()

    def _update_actions(self) -> None:
        thread = self.training
        running = thread is not None
        has_data = self.scan is not None and bool(self.scan.classes)
        self.start_action.setEnabled(not running and has_data)
        self.start_action.setToolTip("Start training (Ctrl+R)" if has_data else "Choose a dataset first.")
        training = running and thread.started_training and not thread.control.cancelled
        self.pause_action.setEnabled(training)
        paused = training and thread.control.paused
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.stop_action.setEnabled(running and not thread.control.cancelled)
        # Settings describe the run in progress; editing them mid-run would mislead.
        self.settings_widget.setEnabled(not running)
        for action in (self.open_folder_action, self.open_zip_action, self.add_dataset_action, self.runs_root_action):
            action.setEnabled(not running)

    def choose_runs_root(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Save new runs in", str(self.runs_root))
        if path:
            self.runs_root = Path(path)
            self.statusBar().showMessage(f"New runs are saved in {path}.", 8000)

    # --- help ----------------------------------------------------------------
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
        self.label_page.shutdown()
        self.curves.timer.stop()
        self.training_panel.timer.stop()
        event.accept()
