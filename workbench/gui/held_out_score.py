"""A run's test score, measured in the background as soon as training ends.

It is the Inspect page's evaluation (workbench.inspect.evaluation.inspect_run) on the classes the
run held out, saved as the run's evaluation.json, so the Runs table's "Test acc." column and
the Inspect page show the same numbers without computing them again.
"""

from __future__ import annotations

import math

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from workbench.gui.counted import counted
from workbench.gui.workers import CANCELLED, Worker, create_worker
from workbench.inspect.evaluation import Inspection, inspect_run

# The Inspect page's default: a 95% interval of a few points, and seconds on a CPU. The published
# protocol's 600 episodes (`main.py evaluate`) is for numbers to compare, not a first look.
AFTER_TRAINING_EPISODES = 100
NO_TEST_CLASSES = "No classes were held out, so there is no test score (the run trained on every class)."
MEASURING = "Measuring on held-out classes…"


def measure(run_dir: str, episodes: int, device: str, cancelled) -> Inspection:
    """Evaluate and save; only the summary comes back (the model and decoded images stay behind)."""
    inspection, _setup = inspect_run(run_dir, episodes=episodes, device=device, cancelled=cancelled)
    return inspection


def score_text(inspection: Inspection, held_out: int) -> str:
    ci = "" if math.isnan(inspection.ci95) else f" ± {inspection.ci95:.1%}"
    classes = held_out or len(inspection.classes)
    return (f"<b>Test accuracy {inspection.accuracy:.1%}{ci}</b> on {counted(classes, 'held-out class')}, "
            f"{counted(len(inspection.episodes), 'episode')}")


class HeldOutScore(QLabel):
    """Says the run's test score once measured (`measure`); `scored(run_dir)` once it is saved.

    One measurement at a time: a new one, `clear()` or `shutdown()` cancels the one under way, whose
    late result is then dropped; `shutdown()` also waits for every thread it started.
    """

    scored = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("heldOutScore")
        self.setWordWrap(True)
        self.episodes = AFTER_TRAINING_EPISODES
        self.job: Worker | None = None
        self.inspection: Inspection | None = None
        self._ending: set[Worker] = set()  # cancelled, still running: waited for at shutdown
        self._closed = False  # after shutdown: a RunFinished still queued starts nothing
        self.hide()

    @property
    def measuring(self) -> bool:
        return self.job is not None

    def measure(self, run_dir: str, held_out: int, device: str) -> None:
        """Evaluate the run on its `held_out` test classes (none: say there is no test score)."""
        self.clear()
        if self._closed:
            return
        if held_out <= 0:
            self._say(NO_TEST_CLASSES)
            return
        job = create_worker(measure, run_dir, self.episodes, device, CANCELLED, title="Measuring the test score",
                            parent=self)
        job.succeeded.connect(lambda inspection: self._on_scored(job, inspection, held_out))
        job.failed.connect(lambda message: self._on_failed(job, message))
        job.finished.connect(self._on_job_finished)  # a bound slot: delivered before the worker's deletion
        self.job = job
        self._say(MEASURING)
        job.start()

    def clear(self) -> None:
        """Forget the score shown and cancel a measurement under way (a new run is starting)."""
        self.inspection = None
        if self.job is not None:
            self.job.cancel()
            self._ending.add(self.job)
            self.job = None
        self.setText("")
        self.hide()

    def shutdown(self) -> None:
        self._closed = True
        self.clear()
        for job in list(self._ending):
            if shiboken6.isValid(job):
                job.stop_and_wait(None)
        self._ending.clear()

    def _say(self, text: str) -> None:
        self.setText(text)
        self.show()

    def _on_scored(self, job: Worker, inspection: Inspection, held_out: int) -> None:
        if job is not self.job:
            return  # cancelled: a newer run owns the page now
        self.inspection = inspection
        self._say(score_text(inspection, held_out))
        self.scored.emit(inspection.run_dir)

    def _on_failed(self, job: Worker, message: str) -> None:
        if job is self.job:
            self._say(f"No test score: {message}")

    def _on_job_finished(self) -> None:
        job = self.sender()
        self._ending.discard(job)
        if job is self.job:
            self.job = None
