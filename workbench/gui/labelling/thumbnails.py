"""Thumbnails decoded on a thread pool and kept in a small LRU cache, for grids of thousands of images."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from workbench.data.images import ImageDecodeError, load_image_file
from workbench.gui.qt_images import array_to_qimage

THUMB_PIXELS = 72
CACHE_SIZE = 1500  # ~30 MB of 72x72 pixmaps: a few screens' worth


class _Signals(QObject):
    # (generation, path, image or None, reason): queued to the GUI thread, where pixmaps may be made.
    loaded = Signal(int, str, object, str)


class _LoadThumbnail(QRunnable):
    def __init__(self, signals: _Signals, generation: int, path: str, absolute: str) -> None:
        super().__init__()
        self.signals, self.generation, self.path, self.absolute = signals, generation, path, absolute

    def run(self) -> None:
        try:
            image = array_to_qimage(load_image_file(self.absolute, THUMB_PIXELS, 3))
            reason = ""
        except ImageDecodeError as exc:
            image, reason = None, str(exc)
        self.signals.loaded.emit(self.generation, self.path, image, reason)


class ThumbnailCache(QObject):
    """Asks for a path's pixmap: returns it if cached, else None and decodes it in the background.

    Promise: each path is decoded at most once while it stays in the cache; the
    newest requests are served first (the rows just scrolled to); results from a
    previous folder are dropped. `ready(path)` fires on the GUI thread.
    """

    ready = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.signals = _Signals(self)
        self.signals.loaded.connect(self._on_loaded)
        self.pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self.failed: dict[str, str] = {}
        self.pending: set[str] = set()
        self.generation = 0
        self.requests = 0

    def reset(self) -> None:
        self.pool.clear()
        self.generation += 1
        self.pixmaps.clear()
        self.failed.clear()
        self.pending.clear()

    def get(self, path: str, absolute: str) -> QPixmap | None:
        pixmap = self.pixmaps.get(path)
        if pixmap is not None:
            self.pixmaps.move_to_end(path)
            return pixmap
        if path not in self.pending and path not in self.failed:
            self.pending.add(path)
            self.requests += 1
            # Higher priority for later requests: what the user scrolled to last shows first.
            self.pool.start(_LoadThumbnail(self.signals, self.generation, path, absolute), self.requests)
        return None

    def _on_loaded(self, generation: int, path: str, image: QImage | None, reason: str) -> None:
        if generation != self.generation:
            return
        self.pending.discard(path)
        if image is None:
            self.failed[path] = reason
        else:
            self.pixmaps[path] = QPixmap.fromImage(image)
            while len(self.pixmaps) > CACHE_SIZE:
                self.pixmaps.popitem(last=False)
        self.ready.emit(path)

    def shutdown(self) -> None:
        self.pool.clear()
        self.pool.waitForDone()
