"""Background work for the GUI: one helper that runs a function or a generator off the GUI thread.

Every job longer than a blink (the dataset scan, the image check, training, adapting, export,
the demo dataset, the Inspect page's evaluations) runs on a `Worker`, made by `create_worker`:

    worker = create_worker(decode_steps, scan, 16, 1, title="Checking the images", parent=self)
    worker.progressed.connect(lambda step: bar.setValue(step[0]))
    worker.succeeded.connect(show_cache)
    worker.failed.connect(banner.show_error)
    worker.start()

A generator's `yield`s are its progress (`progressed(value)`, in order) and its return value is
the result (`succeeded(result)`); a plain function's return value is the result. A core function
that reports through callbacks gets the worker's own in place of the `PROGRESS` and `CANCELLED`
placeholders among its arguments. The loop that drives a generator is written here, once.
"""

from __future__ import annotations

import atexit
import inspect
import logging
import threading
import weakref
from collections import deque
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)


class _Placeholder:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


PROGRESS = _Placeholder("PROGRESS")  # becomes worker.report: progress(done, total) -> progressed((done, total))
CANCELLED = _Placeholder("CANCELLED")  # becomes worker.is_cancelled: a callable, true once cancel() was called


# Every Worker made, to wait for at exit: a thread still ending (after `finished`, before it is gone) that
# touches Python while the interpreter shuts down aborts the whole process.
_MADE: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _wait_for_workers() -> None:
    for worker in list(_MADE):
        if shiboken6.isValid(worker):
            worker.stop_and_wait(10_000)


class Worker(QThread):
    """Runs `function(*args, **kwargs)` on its own thread; all signals arrive on the GUI thread.

    progressed(value)  each value a generator yields, or what `report` is given (a tuple for several);
    succeeded(result)  the function's return value (a generator's: what it returns), once;
    failed(message)    instead of succeeded: a WorkbenchError's message as it is, any other exception
                       as one readable line (and logged), never a crash.
    `cancel()` may be called from any thread at any time: a generator is closed at its next `yield`
    and then emits neither succeeded nor failed; a plain function sees it through CANCELLED.
    `finished` (QThread's) comes last in every case.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, function: Callable[..., Any], *args, title: str = "", parent: QObject | None = None,
                 **kwargs) -> None:
        super().__init__(parent)
        self.title = title
        self._cancel = threading.Event()
        self.function = function
        self.args = tuple(self._fill(a) for a in args)
        self.kwargs = {key: self._fill(value) for key, value in kwargs.items()}
        _MADE.add(self)

    def _fill(self, value):
        if value is PROGRESS:
            return self.report
        if value is CANCELLED:
            return self.is_cancelled
        return value

    def report(self, *value) -> None:
        """Progress from inside the function (any thread): emitted as progressed."""
        self.progressed.emit(value[0] if len(value) == 1 else tuple(value))

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def stop_and_wait(self, timeout_ms: int | None = 30_000) -> bool:
        """Cancel and block until the thread ends (None: however long that takes)."""
        self.cancel()
        return self.wait() if timeout_ms is None else self.wait(timeout_ms)

    def run(self) -> None:
        try:
            result = self.function(*self.args, **self.kwargs)
            if inspect.isgenerator(result):
                result = self._drive(result)
                if self.is_cancelled():
                    return
        except WorkbenchError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug ends this job, not the app
            log.exception("background job %r failed", self.title)
            self.failed.emit(f"{self.title or 'The job'} stopped unexpectedly: {type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)

    def _drive(self, steps):
        """Every `next()` of the generator until its return value (StopIteration.value), or a cancel."""
        while True:
            if self.is_cancelled():
                steps.close()
                return None
            try:
                value = next(steps)
            except StopIteration as finished:
                return finished.value
            self.progressed.emit(value)


def create_worker(function: Callable[..., Any], *args, title: str = "", parent: QObject | None = None,
                  **kwargs) -> Worker:
    """A Worker for `function(*args, **kwargs)`, not started yet (connect its signals, then `start()`).
    It deletes itself once it has finished."""
    worker = Worker(function, *args, title=title, parent=parent, **kwargs)
    worker.finished.connect(worker.deleteLater)
    return worker


class WorkQueue(QObject):
    """Runs workers one at a time in the order they were given: for jobs that share one thing (a
    model and its decoded images) and must not run side by side. `shutdown()` drops the waiting
    ones and waits for the one in progress."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.waiting: deque[Worker] = deque()
        self.current: Worker | None = None

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self.waiting)

    def submit(self, worker: Worker) -> Worker:
        # A bound slot (not a lambda): Qt delivers it on this object's thread, before the worker's deletion.
        worker.finished.connect(self._on_worker_finished)
        self.waiting.append(worker)
        if self.current is None:
            self._start_next()
        return worker

    def _start_next(self) -> None:
        if self.waiting:
            self.current = self.waiting.popleft()
            self.current.start()

    def _on_worker_finished(self) -> None:
        # Only the current worker runs, and shutdown() disconnects the one it waits for.
        worker = self.sender()
        if worker is None or worker is self.current:
            self.current = None
            self._start_next()

    def shutdown(self) -> None:
        waiting, self.waiting = list(self.waiting), deque()
        for worker in waiting:
            worker.deleteLater()  # never started
        current, self.current = self.current, None
        if current is not None and shiboken6.isValid(current):
            current.finished.disconnect(self._on_worker_finished)
            current.stop_and_wait(None)
