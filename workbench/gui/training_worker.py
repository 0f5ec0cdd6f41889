"""The one bridge between the training loop and Qt: runs train_run on a QThread, re-emits its events.

The loop itself (workbench.training.runner) knows nothing of Qt. This thread
iterates it and emits each immutable event as a signal; Qt queues the signal
to the GUI thread, where widgets are updated. Nothing here touches a widget.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from workbench.errors import WorkbenchError
from workbench.runs.config import RunConfig
from workbench.training.control import RunControl
from workbench.training.events import RunStarted
from workbench.training.runner import train_run

log = logging.getLogger(__name__)


class TrainingThread(QThread):
    """Trains one run on its own thread.

    Signals (all delivered on the GUI thread):
      event(object)      every event train_run yields, in order (the last is RunFinished);
      dataReady(object)  the run's ImageCache once decoded, so the GUI can draw the images
                         that EpisodePredictions names by row (read-only from then on);
      failed(str)        a readable message when the run could not start (bad data or
                         settings) or broke unexpectedly; no RunFinished follows then.
    `pause()`, `resume()` and `stop()` are safe to call from the GUI thread at any time.
    """

    event = Signal(object)
    dataReady = Signal(object)
    failed = Signal(str)

    def __init__(self, config: RunConfig, run_dir: str | Path, resume: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.config = config
        self.run_dir = str(run_dir)
        self.resume = resume
        self.control = RunControl()
        self.started_training = False

    def pause(self) -> None:
        self.control.pause()

    def resume_run(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.cancel()

    def stop_and_wait(self, timeout_ms: int | None = None) -> bool:
        """Cancel and block until the thread ends (the runner checkpoints on cancel before it ends)."""
        self.control.cancel()
        return self.wait() if timeout_ms is None else self.wait(timeout_ms)

    def run(self) -> None:
        events = train_run(self.config, self.run_dir, self.control, resume=self.resume,
                           on_data=lambda data: self.dataReady.emit(data.cache))
        try:
            for event in events:
                if isinstance(event, RunStarted):
                    self.started_training = True
                self.event.emit(event)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug must end this run, not the app; the user sees one line
            log.exception("training thread failed")
            self.failed.emit(f"Training stopped unexpectedly: {type(exc).__name__}: {exc}")
