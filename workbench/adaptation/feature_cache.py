"""Features by image content, kept on disk: an image a slow network has seen is not encoded again.

A frozen network's features depend on the image alone, so they are keyed by a digest of the pixels
as the model sees them (after decoding, resizing and inverting), whatever file they came from. The
pretrained network takes seconds per batch on a CPU; with the cache, the second adapt of a folder,
the next episode of an evaluation and the Label page's next adapt pay only for new images.

One file per space in the user's cache folder, written atomically; an unreadable file is started
afresh (it is only a cache). Stored as computed (float32), so a cached adapt predicts exactly what an
exported model computing them afresh predicts; the least recently used go first beyond `capacity`.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import torch

from workbench.atomic import save_torch_atomic

CAPACITY = 10_000  # about 50 MB of 1,280-wide float32 features
FORMAT = "float32 by blake2b-128 of the pixels"  # a file in another format is started afresh
SAVE_EVERY_S = 10.0  # an evaluation adds images every episode: write at most this often, and at exit


def image_digest(image: torch.Tensor) -> str:
    """A digest of one image's pixels (any shape and dtype) and its shape."""
    data = image.detach().cpu().contiguous()
    digest = hashlib.blake2b(str(tuple(data.shape)).encode(), digest_size=16)
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()


class FeatureCache:
    """`encode(encoder, images)`: `encoder`'s features of `images`, computing only those not seen before."""

    def __init__(self, path: Path | None = None, capacity: int = CAPACITY) -> None:
        self.path, self.capacity = path, capacity
        self.rows: OrderedDict[str, torch.Tensor] | None = None
        self.hits = self.misses = 0
        self._saved_at, self._unsaved = 0.0, False
        self._lock = threading.Lock()  # the Label page adapts on a worker thread while a batch may run beside it

    def encode(self, encoder: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        if len(images) == 0:
            return encoder(images)
        keys = [image_digest(image) for image in images]
        with self._lock:
            rows = self._loaded()
            missing = [i for i, key in enumerate(keys) if key not in rows]
            for key in keys:
                if key in rows:
                    rows.move_to_end(key)
        if missing:
            fresh = encoder(images[missing]).float().cpu()
            with self._lock:
                for i, row in zip(missing, fresh):
                    rows[keys[i]] = row.clone()
                while len(rows) > self.capacity:
                    rows.popitem(last=False)
                self._unsaved = True
                if time.monotonic() - self._saved_at > SAVE_EVERY_S:
                    self.save()
        with self._lock:
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
            return torch.stack([rows[key] for key in keys])

    def _loaded(self) -> OrderedDict:
        if self.rows is None:
            self.rows = OrderedDict()
            if self.path is not None and self.path.is_file():
                try:
                    stored = torch.load(self.path, weights_only=True, map_location="cpu")
                    keys, values = stored["keys"], stored["features"]
                    if (stored.get("format") == FORMAT and isinstance(keys, list) and isinstance(values, torch.Tensor)
                            and values.dtype == torch.float32 and len(keys) == len(values)):
                        self.rows.update(zip(keys, values))
                except Exception:  # noqa: BLE001 - damaged or foreign: a cache is rebuilt, never trusted
                    self.rows = OrderedDict()
        return self.rows

    def save(self) -> None:
        """Write what is new to disk (the caller holds the lock, or the process is ending)."""
        if self.path is None or not self.rows or not self._unsaved:
            return
        self._saved_at, self._unsaved = time.monotonic(), False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            features = torch.stack(list(self.rows.values()))
            save_torch_atomic(self.path, {"format": FORMAT, "keys": list(self.rows), "features": features})
        except OSError:
            pass  # a full or read-only disk costs speed next time, nothing else


def cache_for_space(name: str) -> FeatureCache:
    """The on-disk cache of feature space `name`, one per process."""
    if name not in _caches:
        from workbench.catalogue.builtin_catalogue import user_cache_dir

        _caches[name] = FeatureCache(user_cache_dir() / "features" / f"{name}.pt")
        atexit.register(_caches[name].save)
    return _caches[name]


_caches: dict[str, FeatureCache] = {}
