"""The run's controls and progress: Start / Pause / Stop, progress bar, ETA, speed, run folder, log."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.counted import counted
from workbench.training.events import DataProgress, Message, RunFinished, RunStarted, TrainStep, Validation

REFRESH_MS = 50


def format_duration(seconds: float) -> str:
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunControls(QWidget):
    """Start, Pause/Resume and Stop buttons bound to the window's actions (so menu and buttons agree)."""

    def __init__(self, start: QAction, pause: QAction, stop: QAction, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.buttons = []
        for action in (start, pause, stop):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setMinimumHeight(32)
            layout.addWidget(button, 2 if action is start else 1)
            self.buttons.append(button)
        self.buttons[0].setObjectName("startButton")


class TrainingPanel(QWidget):
    """Shows how the run is going. Events update fields; labels refresh on a 20 Hz timer
    so a fast run does not spend its time setting label text."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel()  # what to do next: the window says (show_before_training)
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.eta = QLabel("ETA —")
        self.rate = QLabel("— episodes/s")
        self.best = QLabel("Best validation: —")
        # Before Start: how long the run should take, from earlier runs (see gui/run_plan.py).
        self.estimate = QLabel()
        self.estimate.setObjectName("hint")
        self.estimate.setWordWrap(True)
        self.estimate.hide()
        for label in (self.eta, self.rate, self.best):
            label.setObjectName("stat")
        self.run_dir = QLineEdit()
        self.run_dir.setReadOnly(True)
        self.run_dir.setPlaceholderText("A new folder under runs/ is made when training starts")
        self.run_dir.setToolTip("Where this run's config, metrics, checkpoints and model are saved.")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the run folder in the file manager.")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_folder)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setPlaceholderText("Messages from the run appear here.")

        stats = QHBoxLayout()
        stats.addWidget(self.eta)
        stats.addWidget(self.rate)
        stats.addWidget(self.best)
        stats.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Run folder:"))
        folder_row.addWidget(self.run_dir, 1)
        folder_row.addWidget(self.open_button)
        grid = QGridLayout()
        grid.addWidget(self.status, 0, 0, 1, 2)
        grid.addWidget(self.progress, 1, 0, 1, 2)
        grid.addLayout(stats, 2, 0, 1, 2)
        grid.addLayout(folder_row, 3, 0, 1, 2)
        grid.addWidget(self.estimate, 4, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)

        self._latest: TrainStep | None = None
        self._run_requested = False  # until then the status says what to do next (show_before_training)
        self._paused = False
        self.finished_status = ""
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    @property
    def last_step(self) -> int:
        """The latest training step reported by the run (0 before the first; decoding progress never counts)."""
        return self._latest.step if self._latest is not None else 0

    # --- run lifecycle ---------------------------------------------------------
    def show_before_training(self, text: str) -> None:
        """Say what to do next, until the first run is asked for (then the status is the run's)."""
        if not self._run_requested:
            self.status.setText(text)

    def run_requested(self, run_dir: Path) -> None:
        self._run_requested = True
        self._latest = None
        self._paused = False
        self.finished_status = ""
        self.run_dir.setText(str(run_dir))
        self.open_button.setEnabled(False)
        self.status.setText("Preparing: reading and decoding the images…")
        self.progress.setRange(0, 0)  # busy until the first count arrives
        self.progress.setFormat("")
        self.eta.setText("ETA —")
        self.rate.setText("— episodes/s")
        self.best.setText("Best validation: —")
        self.log.clear()
        self.timer.start()

    def reset(self) -> None:
        """Back to before the first run (a new project): no run folder, progress, figures or log."""
        self.timer.stop()
        self._run_requested = False
        self._latest = None
        self._paused = False
        self.finished_status = ""
        self.run_dir.clear()
        self.open_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.eta.setText("ETA —")
        self.rate.setText("— episodes/s")
        self.best.setText("Best validation: —")
        self.log.clear()

    def handle(self, event) -> None:
        if isinstance(event, TrainStep):
            self._latest = event  # shown by the timer
        elif isinstance(event, DataProgress):
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)
            self.progress.setFormat(f"Decoding images: {event.done:,} / {event.total:,}")
        elif isinstance(event, RunStarted):
            self.progress.setRange(0, event.total_steps)
            self.progress.setValue(event.start_step)
            self.progress.setFormat("Step %v / %m")
            self.run_dir.setText(event.run_dir)
            self.open_button.setEnabled(True)
            self.status.setText(
                f"Training on {event.device} ({event.precision}) with {counted(event.train_classes, 'train class')}, "
                f"{event.val_classes:,} validation and {counted(event.test_classes, 'test class')}."
            )
            self.add_log(f"Run started in {event.run_dir} on {event.device}.")
        elif isinstance(event, Validation):
            self.best.setText(
                f"Best validation: {event.best_accuracy:.1%}  (last {event.accuracy:.1%} ± {event.ci95:.1%})"
            )
        elif isinstance(event, Message):
            self.add_log(event.text, event.level)
        elif isinstance(event, RunFinished):
            self.refresh()
            self.timer.stop()
            self.finished_status = event.status
            text = event.message  # the runner's message already says finished / stopped / failed
            if event.status == "failed" and "fail" not in text.lower():
                text = f"Failed: {text}"
            self.status.setText(f"<b>{text}</b>")
            self.eta.setText("ETA —")
            if self.progress.maximum() == 0:
                self.progress.setRange(0, 1)
            self.add_log(event.message, "error" if event.status == "failed" else "info")

    def set_estimate(self, text: str) -> None:
        self.estimate.setText(text)
        self.estimate.setVisible(bool(text))

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        if paused:
            self.status.setText("<b>Paused.</b> Press Resume to go on, or Stop to end the run (it is saved).")
        elif self._latest is not None:
            self.status.setText("Training…")

    def run_failed(self, message: str) -> None:
        self._run_requested = True  # the failure stays said
        self.timer.stop()
        self.finished_status = "failed"
        self.status.setText(f"<b>Could not train.</b> {message}")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.add_log(message, "error")

    def add_log(self, text: str, level: str = "info") -> None:
        prefix = {"warning": "Warning: ", "error": "Error: "}.get(level, "")
        self.log.appendPlainText(prefix + text)

    def refresh(self) -> None:
        step = self._latest
        if step is None:
            return
        self.progress.setValue(step.step)
        self.eta.setText(f"ETA {format_duration(step.eta_s)}  (elapsed {format_duration(step.elapsed_s)})")
        self.rate.setText(f"{step.episodes_per_s:,.1f} episodes/s")

    def _open_folder(self) -> None:
        path = self.run_dir.text()
        if path and Path(path).exists():
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))
