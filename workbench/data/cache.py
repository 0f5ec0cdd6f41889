"""Decoding a scanned dataset once into a compact in-memory cache, optionally capped in size.

Without a cap every usable image is kept decoded in one uint8 tensor. With a
cap (`max_bytes`), decoded classes are kept up to that many bytes and the
least recently used class is evicted first; an evicted class is decoded again
from its files when an episode needs it. Either way every image is decoded
once up front, so broken images are found (and reported) before training.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from workbench.data import problems as P
from workbench.data.images import ImageDecodeError, decode_image
from workbench.data.problems import Problem
from workbench.data.sources import DatasetScan, ImageRef, read_many
from workbench.errors import DataError

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
MIB = 2**20


class CacheCancelled(Exception):
    """Decoding was cancelled by the user."""


class ClassStore:
    """Decoded classes kept within `max_bytes`, least recently used evicted first.

    A class that is asked for and not held is decoded again from its files.
    One class larger than the whole budget is still decoded (an episode needs
    it) but not kept. Thread-safe: the GUI draws images while training samples.
    """

    def __init__(self, refs: list[tuple[ImageRef, ...]], size: int, channels: int, max_bytes: int) -> None:
        self.refs = refs
        self.size, self.channels = size, channels
        self.max_bytes = max_bytes
        self.held_bytes = 0
        self.peak_bytes = 0
        self.reloads = 0  # classes decoded again after eviction (how often the cap costs time)
        self._classes: OrderedDict[int, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, index: int, images: torch.Tensor) -> None:
        with self._lock:
            self._keep(index, images)

    def get(self, index: int) -> torch.Tensor:
        with self._lock:
            held = self._classes.get(index)
            if held is not None:
                self._classes.move_to_end(index)
                return held
        images = self._decode_again(index)
        with self._lock:
            self.reloads += 1
            self._keep(index, images)
        return images

    def _keep(self, index: int, images: torch.Tensor) -> None:
        nbytes = images.numel() * images.element_size()
        if index in self._classes:
            return
        while self._classes and self.held_bytes + nbytes > self.max_bytes:
            _, evicted = self._classes.popitem(last=False)
            self.held_bytes -= evicted.numel() * evicted.element_size()
        if nbytes <= self.max_bytes:
            self._classes[index] = images
            self.held_bytes += nbytes
            self.peak_bytes = max(self.peak_bytes, self.held_bytes)

    def _decode_again(self, index: int) -> torch.Tensor:
        refs = self.refs[index]
        out = np.empty((len(refs), self.channels, self.size, self.size), dtype=np.uint8)
        for i, (ref, payload) in enumerate(read_many(refs)):
            try:
                if isinstance(payload, BaseException):
                    raise ImageDecodeError(f"cannot read file ({payload})")
                out[i] = decode_image(payload, self.size, self.channels)
            except ImageDecodeError as exc:
                raise DataError(
                    f"{ref.display_path} could not be read again ({exc}): it changed or disappeared after the "
                    "data was loaded. Reload the dataset, or raise the cache limit so images stay in memory."
                ) from None
        return torch.from_numpy(out)


class _RowView:
    """`cache.images[row]` for a capped cache: one image, decoded again if its class was evicted."""

    def __init__(self, cache: "ImageCache") -> None:
        self.cache = cache

    def __getitem__(self, row: int) -> torch.Tensor:
        return self.cache.gather(np.asarray([int(row)]))[0]

    def __len__(self) -> int:
        return self.cache.image_count


@dataclass
class ImageCache:
    """Every usable image at one size and channel count, addressed by row.

    `class_images[c]` lists the rows of class c (contiguous); `gather(rows)`
    returns those images as a uint8 tensor (n, channels, size, size). Classes
    whose images all failed to decode are dropped. Without a cap `images` is
    one tensor of every row; with a cap (`store` set) at most `store.max_bytes`
    of decoded classes are held (plus, briefly, the one class being decoded).
    """

    size: int
    channels: int
    class_keys: list[str]
    class_groups: list[str]
    class_images: list[np.ndarray]
    image_paths: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tensor: torch.Tensor | None = None  # every row, when uncapped
    store: ClassStore | None = None  # decoded classes within a budget, when capped
    row_class: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def num_classes(self) -> int:
        return len(self.class_keys)

    @property
    def image_count(self) -> int:
        return len(self.row_class)

    @property
    def images(self):
        """Index by row: a tensor when uncapped; a view that decodes on demand when capped."""
        return self.tensor if self.tensor is not None else _RowView(self)

    @property
    def capped(self) -> bool:
        return self.store is not None

    def gather(self, rows: np.ndarray | Sequence[int]) -> torch.Tensor:
        rows = np.asarray(rows, dtype=np.int64)
        if self.tensor is not None:
            return self.tensor[torch.from_numpy(rows)]
        out = torch.empty((len(rows), self.channels, self.size, self.size), dtype=torch.uint8)
        classes = self.row_class[rows]
        for c in np.unique(classes):
            where = np.flatnonzero(classes == c)
            held = self.store.get(int(c))
            out[torch.from_numpy(where)] = held[torch.from_numpy(rows[where] - self.class_images[c][0])]
        return out

    def nbytes(self) -> int:
        """Bytes of decoded images held now."""
        if self.tensor is not None:
            return self.tensor.numel() * self.tensor.element_size()
        return self.store.held_bytes


def build_cache(
    scan: DatasetScan,
    size: int,
    channels: int,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    max_bytes: int | None = None,
) -> ImageCache:
    """Decode every image of `scan`; unreadable ones become problems, not errors."""
    steps = decode_steps(scan, size, channels, max_bytes)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        if progress:
            progress(done, total)
        if cancelled and cancelled():
            steps.close()
            raise CacheCancelled()


def decode_steps(scan: DatasetScan, size: int, channels: int, max_bytes: int | None = None):
    """Generator form of build_cache: yields (done, total) now and then, returns the ImageCache.

    `max_bytes` (None or 0: no cap) bounds the decoded images held in memory.
    """
    if channels not in (1, 3):
        raise ValueError("channels must be 1 or 3")
    total = scan.image_count
    capped = bool(max_bytes)
    # Uncapped: one buffer for every image, filled in order (rows of a class stay contiguous).
    buffer = None if capped else np.empty((total, channels, size, size), dtype=np.uint8)
    store_refs: list[tuple[ImageRef, ...]] = []
    store = ClassStore(store_refs, size, channels, int(max_bytes)) if capped else None
    paths: list[str] = []
    problems = list(scan.problems)
    keys, groups, members, owners = [], [], [], []
    count = done = 0
    for entry in scan.classes:
        class_buffer = np.empty((len(entry.images), channels, size, size), dtype=np.uint8) if capped else None
        good: list[ImageRef] = []
        for ref, payload in read_many(entry.images):
            done += 1
            try:
                if isinstance(payload, BaseException):
                    raise ImageDecodeError(f"cannot read file ({_describe(payload)})")
                target = class_buffer if capped else buffer
                target[len(good) if capped else count] = decode_image(payload, size, channels)
            except ImageDecodeError as exc:
                problems.append(Problem(P.UNREADABLE, ref.display_path, f"{exc}; skipped"))
            else:
                good.append(ref)
                paths.append(ref.display_path)
                count += 1
            if done % 64 == 0 or done == total:
                yield done, total
        if not good:
            problems.append(Problem(P.EMPTY_CLASS, entry.key, "no image of this class could be read; class skipped"))
            continue
        index = len(keys)
        keys.append(entry.key)
        groups.append(entry.group)
        members.append(np.arange(count - len(good), count))
        owners.append(np.full(len(good), index, dtype=np.int64))
        if capped:
            store_refs.append(tuple(good))
            store.put(index, torch.from_numpy(class_buffer[: len(good)].copy()))
    return ImageCache(
        size=size,
        channels=channels,
        class_keys=keys,
        class_groups=groups,
        class_images=members,
        image_paths=paths,
        problems=problems,
        tensor=None if capped else torch.from_numpy(buffer[:count].copy() if count < total else buffer),
        store=store,
        row_class=np.concatenate(owners) if owners else np.empty(0, dtype=np.int64),
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "it disappeared"
    if isinstance(exc, IsADirectoryError):
        return "it is now a folder"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
