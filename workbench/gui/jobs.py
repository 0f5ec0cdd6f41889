"""Running one function off the GUI thread, with progress and cancel, for jobs longer than a second."""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


class JobThread(QThread):
    """Calls `function(progress, cancelled)` on its own thread.

    `progress(done, total)` and `cancelled()` are handed to the function; the
    thread emits progressed(done, total), then exactly one of succeeded(result)
    or failed(message). A WorkbenchError's message is shown as it is; any other
    exception becomes one readable line (and is logged), never a crash.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, function: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
                 title: str = "", parent=None) -> None:
        super().__init__(parent)
        self.function = function
        self.title = title
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            result = self.function(lambda done, total: self.progressed.emit(int(done), int(total)), self._cancel.is_set)
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug ends this job, not the app
            log.exception("background job %r failed", self.title)
            self.failed.emit(f"{self.title or 'The job'} stopped unexpectedly: {type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)

    def stop_and_wait(self, timeout_ms: int = 30_000) -> None:
        self.cancel()
        self.wait(timeout_ms)
