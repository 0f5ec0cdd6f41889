"""Adapting off the GUI thread: a worker object living on its own QThread.

The page sends requests as queued signals and gets results back as signals; the
worker owns the Adapter (its decoded images and embeddings), so nothing is shared
with the GUI thread but immutable requests and results.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from workbench.errors import WorkbenchError
from workbench.labelling.adapter import Adapter


class AdaptWorker(QObject):
    """Decodes a folder for the current model and answers adapt requests, one at a time, in order."""

    loading = Signal(int, int)  # done, total
    loaded = Signal(int, dict)  # images decoded, problems (path -> reason)
    predicted = Signal(int, object)  # request id, AdaptResult
    failed = Signal(int, str)  # request id (0: while decoding, not a request), message

    def __init__(self) -> None:
        super().__init__()
        self.adapter: Adapter | None = None

    @Slot(object)
    def set_adapter(self, adapter: Adapter | None) -> None:
        self.adapter = adapter

    @Slot(str, list)
    def load(self, folder: str, paths: list) -> None:
        adapter = self.adapter
        if adapter is None:
            return
        try:
            adapter.load_images(folder, paths, progress=self.loading.emit)
            adapter.embed_all()  # once per model and folder, so the first Adapt is as quick as the rest
        except (RuntimeError, ValueError, MemoryError) as exc:  # e.g. a model that cannot take these images
            self.failed.emit(0, f"The model could not read these images: {str(exc).splitlines()[0]}")
        self.loaded.emit(len(adapter.rows), dict(adapter.problems))

    @Slot(int, dict, list, list)
    def predict(self, request: int, labels: dict, classes: list, targets: list) -> None:
        if self.adapter is None:
            self.failed.emit(request, "Choose a trained model first (Model › Choose run…).")
            return
        try:
            self.predicted.emit(request, self.adapter.predict(labels, classes, targets))
        except WorkbenchError as exc:
            self.failed.emit(request, str(exc))
        except (RuntimeError, ValueError) as exc:  # a model that cannot take these images (size, channels)
            self.failed.emit(request, f"The model could not adapt to these images: {str(exc).splitlines()[0]}")


class AdaptThread(QObject):
    """Owns the worker and its QThread: started on first use, stopped by `shutdown()` (which waits for
    the job in progress). Requests go out and results come back as signals of this object."""

    set_adapter = Signal(object)
    load = Signal(str, list)
    predict = Signal(int, dict, list, list)
    loading = Signal(int, int)
    loaded = Signal(int, dict)
    predicted = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: QThread | None = None
        self.worker: AdaptWorker | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        if self.thread is not None:
            return
        # A fresh worker each start: an object cannot be moved out of a thread that has ended.
        self.worker = AdaptWorker()
        self.thread = QThread()
        self.thread.setObjectName("label-adapt")
        self.worker.moveToThread(self.thread)
        self.set_adapter.connect(self.worker.set_adapter)
        self.load.connect(self.worker.load)
        self.predict.connect(self.worker.predict)
        self.worker.loading.connect(self.loading)
        self.worker.loaded.connect(self.loaded)
        self.worker.predicted.connect(self.predicted)
        self.worker.failed.connect(self.failed)
        self.thread.start()

    def shutdown(self) -> None:
        thread, worker = self.thread, self.worker
        self.thread = self.worker = None
        if thread is not None:
            for signal in (self.set_adapter, self.load, self.predict):
                signal.disconnect()
            thread.quit()
            thread.wait()
            worker.deleteLater()
