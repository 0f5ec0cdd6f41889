"""Running one plugin's import so that it can neither end the program nor hold it up for ever.

The plugin's module-level code runs in a thread of its own, which the loader waits for:

- whatever it raises stays in that thread and comes back as the plugin's failure, SystemExit and
  KeyboardInterrupt included (raised in the loader's thread, `SystemExit(0)` would end the command
  silently, with exit status 0);
- code that stops making progress (`while True: pass`, a long sleep, a lock never released) is given
  up on. Python cannot stop a thread, so it is left running as a daemon, which the program's exit ends,
  and the loader has the registries refuse whatever that thread registers later.

Progress is modules being imported, not time alone: a plugin importing torch from a cold disk may
take many seconds yet keeps adding modules, while a hang adds none. WORKBENCH_PLUGIN_TIMEOUT sets
how many seconds without progress are given (tests use a short wait).
"""

from __future__ import annotations

import os
import sys
import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Callable

PATIENCE_VARIABLE = "WORKBENCH_PLUGIN_TIMEOUT"
# Long enough for the slowest single module (torch's C extension takes seconds on a busy machine or a
# cold disk), short enough that a person waiting for a command hears about a hung plugin soon.
DEFAULT_PATIENCE_S = 10.0
_POLL_S = 0.05


@dataclass(frozen=True)
class ImportOutcome:
    """How a plugin's import ended: finished (raising `error`, or not), or given up after `stalled_s`
    while still running in `thread`."""

    error: BaseException | None = None
    stalled_s: float = 0.0
    thread: threading.Thread | None = None

    @property
    def gave_up(self) -> bool:
        return self.stalled_s > 0


def patience_s() -> float:
    """Seconds a plugin may go without importing anything before it is given up on."""
    try:
        value = float(os.environ.get(PATIENCE_VARIABLE, ""))
    except ValueError:
        return DEFAULT_PATIENCE_S
    return value if 0 < value < float("inf") else DEFAULT_PATIENCE_S


def run_bounded(name: str, load: Callable[[], None]) -> ImportOutcome:
    """Run `load` in a daemon thread and wait while it makes progress."""
    result: dict[str, object] = {}
    decided = threading.Lock()  # finishing and giving up exclude each other

    def target() -> None:
        try:
            load()
        except BaseException as exc:  # noqa: BLE001 - a plugin's SystemExit is its failure, not ours
            result["error"] = exc
        with decided:
            result["finished"] = True

    thread = threading.Thread(target=target, name=f"plugin import: {name}", daemon=True)
    # What a plugin prints while importing goes to stderr: stdout is the command's answer (`--json`).
    with contextlib.redirect_stdout(sys.stderr):
        thread.start()
        return _wait(thread, result, decided)


def _wait(thread: threading.Thread, result: dict, decided: threading.Lock) -> ImportOutcome:
    limit = patience_s()
    modules, last_progress = len(sys.modules), time.monotonic()
    while thread.is_alive():
        thread.join(_POLL_S)
        if len(sys.modules) != modules:
            modules, last_progress = len(sys.modules), time.monotonic()
        elif time.monotonic() - last_progress >= limit:
            with decided:
                if not result.get("finished"):
                    return ImportOutcome(stalled_s=limit, thread=thread)
    thread.join()
    return ImportOutcome(error=result.get("error"))
