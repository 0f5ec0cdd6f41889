"""The dataset the window trains on: the scan of the chosen paths, then a check that every image
decodes, both in the background, shown on the Dataset page and in the data panel's summary."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from workbench.data.cache import decode_steps
from workbench.data.problems import Problem
from workbench.data.sources import DatasetScan, scan_datasets
from workbench.gui.counted import counted
from workbench.gui.data_panel import DataPanel
from workbench.gui.dataset_view import DatasetView
from workbench.gui.readable_counts import describe_counts
from workbench.gui.workers import CANCELLED, PROGRESS, Worker, create_worker

# Small and gray: the check only needs to know whether each image decodes.
CHECK_SIZE = 16


def check_images(scan: DatasetScan):
    """Decode every image of `scan`: yields (done, total), returns the problems the scan did not list.

    Scanning only looks at names; a zero-byte or mislabelled file shows up only when decoded.
    The check is advisory: if it breaks, that is one problem in the list, never an error.
    """
    known = len(scan.problems)
    try:
        cache = yield from decode_steps(scan, CHECK_SIZE, 1)
    except Exception as exc:
        return [Problem("check-failed", "", f"Could not check the images: {exc}")]
    return list(cache.problems[known:])


class DatasetController(QObject):
    """Scans dataset paths off the GUI thread and shows the result; then checks the images.

    A newer `load` cancels the scan (and the check) of an older one, whose late result is ignored.
    Signals: scanStarted(paths), scanned(DatasetScan) once the scan is shown (the image check starts
    after it), scanFailed(message), and changed() whenever `scan` or `scanning` changes or the check ends.
    `stop()` cancels both jobs and waits for them (before the window closes).
    """

    scanStarted = Signal(list)
    scanned = Signal(object)
    scanFailed = Signal(str)
    changed = Signal()

    def __init__(self, view: DatasetView, panel: DataPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view, self.panel = view, panel
        self.scan: DatasetScan | None = None
        self.scan_worker: Worker | None = None  # the scan in progress
        self.scan_paths: list[str] = []  # what it scans
        self.check_worker: Worker | None = None  # the image check in progress
        self._after_scan: Callable[[], None] | None = None  # runs once the scan is shown

    @property
    def scanning(self) -> bool:
        return self.scan_worker is not None

    @property
    def checking(self) -> bool:
        return self.check_worker is not None

    def load(self, paths: list[str], then: Callable[[], None] | None = None) -> None:
        """Scan `paths`, then show their classes and problems; `then` runs once this scan is shown."""
        self.stop_image_check()
        self.cancel_scan()
        if not paths:
            self.scan = None
            self.view.show_hint()
            self.panel.summary.setText("No dataset chosen yet.")
            self.changed.emit()
            return
        paths = list(paths)
        worker = create_worker(scan_datasets, paths, PROGRESS, CANCELLED, title="Scanning the dataset", parent=self)
        worker.progressed.connect(lambda step, w=worker: self._on_scan_progress(w, step[0]))
        worker.succeeded.connect(lambda scan, w=worker: self._on_scanned(w, scan))
        worker.failed.connect(lambda message, w=worker: self._on_scan_failed(w, message))
        self.scan_worker, self.scan_paths, self._after_scan = worker, paths, then
        self.panel.summary.setText("Scanning…")
        self.scanStarted.emit(paths)
        self.changed.emit()
        worker.start()

    def after_scan(self, then: Callable[[], None]) -> None:
        """Run `then` once the scan under way (or the next one started from the event loop) is shown."""
        self._after_scan = then

    def cancel_scan(self) -> None:
        worker, self.scan_worker = self.scan_worker, None
        if worker is not None:
            worker.cancel()  # it ends at its next folder; its result is ignored

    def _on_scan_progress(self, worker: Worker, found: int) -> None:
        if worker is self.scan_worker:
            self.panel.summary.setText(f"Scanning… {counted(found, 'image')} found so far.")

    def _on_scan_failed(self, worker: Worker, message: str) -> None:
        if worker is not self.scan_worker:
            return  # a scan that a newer one replaced
        self.scan_worker, self._after_scan = None, None
        self.scan = None
        self.view.show_hint()
        self.panel.summary.setText("Could not read the dataset.")
        self.scanFailed.emit(message)
        self.changed.emit()

    def _on_scanned(self, worker: Worker, scan: DatasetScan) -> None:
        if worker is not self.scan_worker:
            return
        self.scan_worker = None
        self.scan = scan
        gc.freeze()  # the scan lives until the next one (and frees by reference count then)
        self.view.show_scan(scan)
        self.update_summary()
        self.scanned.emit(scan)
        self.changed.emit()
        self._start_image_check(scan)
        then, self._after_scan = self._after_scan, None
        if then is not None:
            then()

    def summary(self) -> str:
        """'N classes, M images' (those that decode, once checked) and the problems found so far."""
        text = ", ".join(describe_counts(self.scan, self.view.counts))
        count = len(self.view.problems)
        if count:
            text += f", {counted(count, 'problem')} (see the Dataset tab)"
        return text

    def update_summary(self) -> None:
        self.panel.summary.setText(self.summary() + ".")

    def describe_paths(self) -> str:
        return ", ".join(Path(p).name for p in self.scan_paths)

    # --- the image check ---------------------------------------------------------
    def _start_image_check(self, scan: DatasetScan) -> None:
        if not scan.classes:
            return
        worker = create_worker(check_images, scan, title="Checking the images", parent=self)
        worker.progressed.connect(lambda step, w=worker: w is self.check_worker and self.view.set_check_progress(*step))
        worker.succeeded.connect(lambda problems, w=worker: self._on_checked(w, scan, problems))
        self.check_worker = worker
        self.view.set_check_progress(0, scan.image_count)
        worker.start(QThread.Priority.LowPriority)  # training and the UI come first

    def _on_checked(self, worker: Worker, scan: DatasetScan, problems: list) -> None:
        if worker is not self.check_worker:
            return  # a check of a dataset no longer shown
        self.view.show_check_result(problems)
        self.view.set_check_progress(scan.image_count, scan.image_count, finished=True)
        self.check_worker = None
        self.update_summary()
        self.changed.emit()  # the counts now say what decodes

    def stop_image_check(self) -> None:
        worker, self.check_worker = self.check_worker, None
        if worker is not None and worker.isRunning():
            worker.stop_and_wait(None)

    def stop(self, timeout_ms: int = 30_000) -> None:
        """Cancel the image check and the scan and wait for both (the walk checks at every folder)."""
        self.stop_image_check()
        worker = self.scan_worker
        self.cancel_scan()
        if worker is not None:
            worker.wait(timeout_ms)
