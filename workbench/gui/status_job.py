"""One job at a time in the status bar (the demo dataset, a download, an export): a progress bar and
a Cancel button beside the window's other status, while a Worker does the work."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QStatusBar

from workbench.gui.workers import Worker, create_worker


class StatusJob(QObject):
    """Runs `function(*args, **kwargs)` on a Worker with its progress in `status_bar`; one at a time.

    `run(...)` returns False (and does nothing) while a job runs. A failure is handed to `on_error`;
    `changed()` fires when a job starts or ends.
    """

    changed = Signal()

    def __init__(self, status_bar: QStatusBar, on_error: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status_bar, self.on_error = status_bar, on_error
        self.worker: Worker | None = None
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setMaximumHeight(18)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job.")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress.hide()
        self.cancel_button.hide()
        status_bar.addPermanentWidget(self.progress)
        status_bar.addPermanentWidget(self.cancel_button)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def run(self, message: str, on_success: Callable[[object], None], function, *args, **kwargs) -> bool:
        if self.worker is not None:
            return False
        worker = create_worker(function, *args, title=message.rstrip("…"), parent=self, **kwargs)
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(on_success)
        worker.failed.connect(self.on_error)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.show()
        self.cancel_button.show()
        self.status_bar.showMessage(message)
        self.changed.emit()
        worker.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _on_progress(self, step) -> None:
        done, total = step
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_finished(self) -> None:
        self.worker = None
        self.progress.hide()
        self.cancel_button.hide()
        self.status_bar.clearMessage()
        self.changed.emit()

    def stop_and_wait(self) -> None:
        if self.worker is not None:
            self.worker.stop_and_wait()
