"""The Training page: the run in progress, its live curves, episode predictions and log.

The loop itself (workbench.training.runner) knows nothing of Qt: a TrainingRun drives it on a
Worker (gui/workers.py), whose progress signal carries each immutable event to this page on the
GUI thread, where the widgets are updated. Nothing on the worker's thread touches a widget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from workbench.gui.architecture_view import ArchitectureView
from workbench.gui.curves import CurvesView
from workbench.gui.held_out_score import HeldOutScore
from workbench.gui.predictions_view import PredictionsView
from workbench.gui.run_history import show_past
from workbench.gui.training_panel import TrainingPanel
from workbench.gui.workers import PROGRESS, create_worker
from workbench.projects.activity import IDLE, PAUSED, PREPARING, STOPPING, TRAINING
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder
from workbench.training.control import RunControl
from workbench.training.events import ArchitectureUpdate, EpisodePredictions, RunFinished, RunStarted, TrainStep, Validation
from workbench.training.runner import train_run


@dataclass(frozen=True)
class EpisodeImages:
    """The run's decoded images, once: EpisodePredictions name them by row (read-only from then on)."""

    images: object


def new_run_dir(runs_root: Path, config: RunConfig) -> Path:
    """A folder name for a new run under `runs_root` that is not taken yet: time, algorithm, protocol."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{config.algorithm}-{config.ways}w{config.shots}s"
    candidate = Path(runs_root) / base
    number = 2
    while candidate.exists():
        candidate = Path(runs_root) / f"{base}-{number}"
        number += 1
    return candidate


class TrainingRun:
    """One run being trained on its own thread (`worker`). `pause()`, `resume_run()` and `stop()` are
    safe at any time; `stop()` lets the runner checkpoint before it ends."""

    def __init__(self, config: RunConfig, run_dir: str | Path, resume: bool = False,
                 parent: QObject | None = None) -> None:
        self.config = config
        self.run_dir = str(run_dir)
        self.resume = resume
        self.control = RunControl()
        self.started_training = False  # RunStarted has arrived: the data is decoded, episodes run
        self.worker = create_worker(self._events, PROGRESS, title="Training", parent=parent)

    def _events(self, report):
        return (yield from train_run(self.config, self.run_dir, self.control, resume=self.resume,
                                     on_data=lambda data: report(EpisodeImages(data.cache.images))))

    def pause(self) -> None:
        self.control.pause()

    def resume_run(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.cancel()

    def stop_and_wait(self, timeout_ms: int | None = None) -> bool:
        """Cancel and block until the thread ends (the runner checkpoints on cancel before it ends)."""
        self.control.cancel()
        return self.worker.wait() if timeout_ms is None else self.worker.wait(timeout_ms)


class TrainingPage(QWidget):
    """How the run in progress goes: status, progress, curves, the latest episode's predictions, log.

    `start(config, run_dir, resume)` trains one run at a time; `run` is it (None when none runs) and
    `last_finished` the RunFinished of the latest. Signals for the window: runStarted(RunStarted),
    runFinished(RunFinished), runFailed(message) when a run could not start or broke (no RunFinished
    follows then), runEnded() once its thread has ended, and stateChanged() when pausing changes.
    """

    runStarted = Signal(object)
    runFinished = Signal(object)
    runFailed = Signal(str)
    runEnded = Signal()
    stateChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: TrainingRun | None = None
        self.last_finished: RunFinished | None = None
        self.training_panel = TrainingPanel()
        self.curves = CurvesView()
        self.predictions = PredictionsView()
        self.test_score = HeldOutScore()  # measured once the run ends: held_out_score.py
        self.architecture = ArchitectureView()  # a tab of its own once a run reports an architecture
        self._held_out = 0  # test classes of the run, from its RunStarted

        self.episode_tabs = QTabWidget()
        self.episode_tabs.setDocumentMode(True)
        self.episode_tabs.addTab(self.predictions, "Predictions")
        self.predictions_log_split = QSplitter(Qt.Orientation.Horizontal)
        self.predictions_log_split.addWidget(self.episode_tabs)
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.training_panel)
        layout.addWidget(self.test_score)
        layout.addWidget(plots_split, 1)

    # --- the run -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.run is not None

    @property
    def training(self) -> bool:
        """Episodes are running (not decoding, not stopping): Pause and Stop mean something."""
        run = self.run
        return run is not None and run.started_training and not run.control.cancelled

    @property
    def paused(self) -> bool:
        return self.training and self.run.control.paused

    @property
    def phase(self) -> str:
        """The run's phase, as the window's Activity holds it (projects/activity.py)."""
        run = self.run
        if run is None:
            return IDLE
        if run.control.cancelled:
            return STOPPING
        if not run.started_training:
            return PREPARING
        return PAUSED if run.control.paused else TRAINING

    def start(self, config: RunConfig, run_dir: Path, resume: bool = False) -> None:
        self.curves.clear()
        self.predictions.clear()
        self.predictions.set_images(None)
        self._hide_architecture()
        self.last_finished = None
        self.test_score.clear()  # the previous run's score, or its measurement under way
        self._held_out = 0
        self.training_panel.run_requested(run_dir)
        run = TrainingRun(config, run_dir, resume=resume, parent=self)
        run.worker.progressed.connect(self.show_event)
        run.worker.failed.connect(self._on_failed)
        run.worker.finished.connect(self._on_ended)  # a bound slot: delivered before the worker's deletion
        self.run = run
        run.worker.start()

    def reset(self) -> None:
        """Show no run (a new project): no curves, predictions, test score or run status."""
        if self.running:
            return  # the run in progress stays shown; the window asks to stop it first
        self.curves.clear()
        self.predictions.clear()
        self.predictions.set_images(None)
        self._hide_architecture()
        self.last_finished = None
        self.test_score.clear()
        self._held_out = 0
        self.training_panel.reset()

    def _show_architecture(self, event: ArchitectureUpdate) -> None:
        """The first update of a run opens its Architecture tab: watching it form is the point of a search."""
        if self.episode_tabs.indexOf(self.architecture) < 0:
            self.episode_tabs.addTab(self.architecture, "Architecture")
            self.episode_tabs.setCurrentWidget(self.architecture)
        self.architecture.show_record(event.record, event.step)

    def _hide_architecture(self) -> None:
        index = self.episode_tabs.indexOf(self.architecture)
        if index >= 0:
            self.episode_tabs.removeTab(index)
        self.architecture.clear()

    def toggle_pause(self) -> None:
        run = self.run
        if run is None or not run.started_training:
            return
        if run.control.paused:
            run.resume_run()
            self.training_panel.set_paused(False)
        else:
            run.pause()
            self.training_panel.set_paused(True)
        self.stateChanged.emit()

    def stop(self) -> None:
        if self.run is not None:
            self.run.stop()
            self.training_panel.status.setText("Stopping… (saving a checkpoint)")
            self.stateChanged.emit()

    def show_event(self, event) -> None:
        """Show one thing the run reported: an event of workbench.training.events, or its images."""
        if isinstance(event, TrainStep):
            self.curves.add_train(event)
            self.training_panel.handle(event)
            return
        if isinstance(event, EpisodeImages):
            self.predictions.set_images(event.images)
            return
        if isinstance(event, Validation):
            self.curves.add_validation(event)
        elif isinstance(event, EpisodePredictions):
            self.predictions.show_predictions(event)
        elif isinstance(event, ArchitectureUpdate):
            self._show_architecture(event)
            return
        elif isinstance(event, RunStarted):
            if self.run is not None:
                self.run.started_training = True
            self._held_out = event.test_classes
            if event.start_step > 0:  # resumed: the steps before the checkpoint belong on the curves too
                show_past(self, event.run_dir, event.start_step)
            self.runStarted.emit(event)
        elif isinstance(event, RunFinished):
            self.last_finished = event
            self.curves.redraw()
            self._measure_test_score(event)
            self.runFinished.emit(event)
        self.training_panel.handle(event)

    def _measure_test_score(self, event: RunFinished) -> None:
        """A run that ended with a model (finished, or stopped after a validation saved one) is
        scored on its held-out classes in the background; a failed run is not."""
        saved = event.status == "completed" or (
            event.status == "cancelled" and bool(event.run_dir) and RunFolder(event.run_dir).model_path.exists())
        if saved and self.run is not None:
            self.test_score.measure(event.run_dir, self._held_out, self.run.config.device)

    def _on_failed(self, message: str) -> None:
        self.training_panel.run_failed(message)
        self.runFailed.emit(message)

    def _on_ended(self) -> None:
        self.run = None  # one run at a time: the one that ended is this one
        self.runEnded.emit()

    # --- closing -------------------------------------------------------------------
    def stop_before_closing(self, parent: QWidget, say=lambda _text: None) -> bool:
        """Before the window closes: a run in progress is stopped (and saved) if the person agrees,
        `say`ing so meanwhile. False: they chose to keep it running."""
        run = self.run
        if run is not None and run.worker.isRunning():
            answer = QMessageBox.question(
                parent, "Stop training?",
                "A run is in progress. Stop it and quit?\n\nThe run is saved at its current step and can be resumed.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
            say("Stopping the run and saving it…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                # The runner checks the cancel flag between episodes and checkpoints before it ends.
                run.stop_and_wait()
            finally:
                QApplication.restoreOverrideCursor()
        return True

    def shutdown(self) -> None:
        self.test_score.shutdown()
        self.curves.timer.stop()
        self.training_panel.timer.stop()
