"""The Label page's model, off the GUI thread: decoding a folder's images for it and adapting to the
labels, as Workers (gui/workers.py) run one at a time in order, since they share the Adapter (its
decoded images and embeddings). When to adapt is decided by workbench.labelling.adapt_requests."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from workbench.errors import WorkbenchError
from workbench.gui.workers import PROGRESS, Worker, WorkQueue, create_worker
from workbench.labelling.adapt_requests import AdaptRequests
from workbench.labelling.adapter import Adapter, AdaptResult


def decode_for_model(adapter: Adapter, folder: str, paths: list, progress) -> tuple[dict, str]:
    """Decode `paths` for the model and embed them all (once per model and folder, so the first
    adapt is as quick as the rest). The problems (path -> reason) and an error message, or ''."""
    try:
        adapter.load_images(folder, paths, progress=progress)
        adapter.embed_all(progress=progress)  # the bar starts again for the features
    except (RuntimeError, ValueError, MemoryError) as exc:  # e.g. a model that cannot take these images
        return dict(adapter.problems), f"The model could not read these images: {str(exc).splitlines()[0]}"
    return dict(adapter.problems), ""


def adapt_and_predict(adapter: Adapter, labels: dict, classes: list, targets: list) -> AdaptResult:
    try:
        return adapter.predict(labels, classes, targets)
    except (RuntimeError, ValueError) as exc:  # a model that cannot take these images (size, channels)
        raise WorkbenchError(f"The model could not adapt to these images: {str(exc).splitlines()[0]}") from exc


class ModelJobs(QObject):
    """Decodes images for the model (`load`) and adapts it to labels (`adapt`), in the background.

    Signals, on the GUI thread: loading(done, total) while decoding; loaded(problems, error) once the
    last decode asked for has ended (error is '' or why the model could not read the images; the page
    stays usable for labelling either way); predicted(AdaptResult, latency_ms) and failed(message)
    for the adapt in progress only: a superseded one (a new model or folder) is dropped.
    After each, `requests.take_waiting()` says whether an adapt asked for meanwhile should start.
    """

    loading = Signal(int, int)
    loaded = Signal(dict, str)
    predicted = Signal(object, float)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.adapter: Adapter | None = None
        self.requests = AdaptRequests()
        self.queue = WorkQueue(self)
        self._started = 0.0
        self._request_of: dict[Worker, int] = {}  # the adapt workers not finished, and their request ids

    def set_adapter(self, adapter: Adapter) -> None:
        """Use `adapter` from now on; what the previous one was still doing no longer counts."""
        self.adapter = adapter
        self.requests.supersede()

    def load(self, folder: str, paths: list) -> None:
        """Decode `paths` of `folder` for the model (a new model or folder supersedes the adapt in progress)."""
        self.requests.supersede()
        self.requests.loading()
        worker = create_worker(decode_for_model, self.adapter, folder, list(paths), PROGRESS,
                               title="Reading the images for the model", parent=self)
        worker.progressed.connect(self._on_decoding)
        worker.succeeded.connect(self._on_decoded)
        worker.failed.connect(self._on_decode_failed)
        self.queue.submit(worker)

    def _on_decoding(self, step) -> None:
        self.loading.emit(*step)

    def _on_decoded(self, found) -> None:
        self._on_loaded(*found)

    def _on_decode_failed(self, message: str) -> None:
        self._on_loaded({}, message)

    def _on_loaded(self, problems: dict, error: str) -> None:
        if self.requests.loaded():
            self.loaded.emit(problems, error)

    def adapt(self, labels: dict, classes: list, targets: list) -> bool:
        """Adapt to `labels` and predict `targets`; False when it waits (for the images or the adapt in
        progress: one follow-up then comes through `requests.take_waiting()`)."""
        request = self.requests.request()
        if request is None:
            return False
        self._started = time.perf_counter()
        worker = create_worker(adapt_and_predict, self.adapter, labels, classes, targets, title="Adapting",
                               parent=self)
        self._request_of[worker] = request
        worker.succeeded.connect(self._on_predicted)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_adapt_finished)
        self.queue.submit(worker)
        return True

    def _finished_request(self) -> bool:
        """Whether the adapt that sent the signal being handled is the one running (and now ended)."""
        request = self._request_of.get(self.sender())
        return request is not None and self.requests.finished(request)

    def _on_predicted(self, result: AdaptResult) -> None:
        if self._finished_request():
            self.predicted.emit(result, (time.perf_counter() - self._started) * 1000)

    def _on_failed(self, message: str) -> None:
        if self._finished_request():
            self.failed.emit(message)

    def _on_adapt_finished(self) -> None:
        self._request_of.pop(self.sender(), None)

    @property
    def busy(self) -> bool:
        return self.requests.busy

    def shutdown(self) -> None:
        """Drop the jobs not started and wait for the one in progress."""
        self.queue.shutdown()
        self.requests.clear()
        self._request_of.clear()
