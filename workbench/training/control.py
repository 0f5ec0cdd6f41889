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
        self._signalled = False  # set by a signal handler: a plain flag, no lock

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused loop so it can see the cancel

    def cancel_from_signal(self) -> None:
        """`cancel` for a signal handler. It takes no lock: the handler runs in the thread it interrupts,
        which may hold the very lock an Event takes (a second Ctrl-C during the first one's handler)."""
        self._signalled = True

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._signalled or self._cancel.is_set()

    @property
    def signalled(self) -> bool:
        """Cancelled by a signal (`cancel_from_signal`)."""
        return self._signalled

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self) -> None:
        """Block while paused; raise RunCancelled once cancelled."""
        while not self._signalled and not self._running.wait(0.1):
            pass
        if self.cancelled:
            raise RunCancelled()
