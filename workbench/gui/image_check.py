"""Decoding every image of a scan in the background, to list broken images before training."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread, Signal

from workbench.data.cache import decode_steps
from workbench.data.sources import DatasetScan

# Small and gray: the check only needs to know whether each image decodes.
CHECK_SIZE = 16


class ImageCheckThread(QThread):
    """Runs the core's decoder over a scan on its own thread.

    Scanning only looks at names; a zero-byte or mislabelled file shows up only
    when decoded. This finds those before the user starts a run. Emits
    `progress(done, total)` and, when done, `found(problems)` with the problems
    the scan did not already list. `cancel()` stops it at the next batch.
    """

    progress = Signal(int, int)
    found = Signal(list)

    def __init__(self, scan: DatasetScan, parent=None) -> None:
        super().__init__(parent)
        self.scan = scan
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        steps = decode_steps(self.scan, CHECK_SIZE, 1)
        known = len(self.scan.problems)
        try:
            while True:
                done, total = next(steps)
                self.progress.emit(done, total)
                if self._cancel.is_set():
                    steps.close()
                    return
        except StopIteration as finished:
            cache = finished.value
        except Exception as exc:  # the check is advisory: report, never crash the app
            from workbench.data.problems import Problem

            self.found.emit([Problem("check-failed", "", f"Could not check the images: {exc}")])
            return
        self.found.emit(list(cache.problems[known:]))
