"""Pause and cancel, shared between the thread that trains and the one that asks."""

from __future__ import annotations

import threading


class RunCancelled(Exception):
    """Raised inside a run when the user cancelled; the run ends cleanly."""


class RunControl:
    """Thread-safe pause/cancel flags. `checkpoint()` is called often by the training loop
    (between episodes, so a slow meta-batch still answers within a second)."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused loop so it can see the cancel

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self) -> None:
        """Block while paused; raise RunCancelled once cancelled."""
        while not self._running.wait(0.1):
            pass
        if self._cancel.is_set():
            raise RunCancelled()
