"""Decoding a scanned dataset once into a compact in-memory cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from workbench.data import problems as P
from workbench.data.images import ImageDecodeError, decode_image
from workbench.data.problems import Problem
from workbench.data.sources import DatasetScan, read_many

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class CacheCancelled(Exception):
    """Decoding was cancelled by the user."""


@dataclass
class ImageCache:
    """Every usable image at one size and channel count, as one uint8 tensor.

    `images[i]` has shape (channels, size, size); `class_images[c]` lists the
    rows of class c. Classes whose images all failed to decode are dropped.
    """

    size: int
    channels: int
    images: torch.Tensor
    class_keys: list[str]
    class_groups: list[str]
    class_images: list[np.ndarray]
    image_paths: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_keys)

    def nbytes(self) -> int:
        return self.images.numel() * self.images.element_size()


def build_cache(
    scan: DatasetScan,
    size: int,
    channels: int,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> ImageCache:
    """Decode every image of `scan`; unreadable ones become problems, not errors."""
    steps = decode_steps(scan, size, channels)
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


def decode_steps(scan: DatasetScan, size: int, channels: int):
    """Generator form of build_cache: yields (done, total) now and then, returns the ImageCache."""
    if channels not in (1, 3):
        raise ValueError("channels must be 1 or 3")
    refs = [(ci, ref) for ci, entry in enumerate(scan.classes) for ref in entry.images]
    total = len(refs)
    buffer = np.empty((total, channels, size, size), dtype=np.uint8)
    owner = np.empty(total, dtype=np.int64)
    paths: list[str] = []
    problems = list(scan.problems)
    count = 0
    for done, (ref, payload) in enumerate(read_many(ref for _, ref in refs), start=1):
        class_index = refs[done - 1][0]
        try:
            if isinstance(payload, BaseException):
                raise ImageDecodeError(f"cannot read file ({payload})")
            buffer[count] = decode_image(payload, size, channels)
        except ImageDecodeError as exc:
            problems.append(Problem(P.UNREADABLE, ref.display_path, f"{exc}; skipped"))
        else:
            owner[count] = class_index
            paths.append(ref.display_path)
            count += 1
        if done % 64 == 0 or done == total:
            yield done, total
    owner = owner[:count]
    keys, groups, members = [], [], []
    for ci, entry in enumerate(scan.classes):
        rows = np.flatnonzero(owner == ci)
        if len(rows) == 0:
            problems.append(Problem(P.EMPTY_CLASS, entry.key, "no image of this class could be read; class skipped"))
            continue
        keys.append(entry.key)
        groups.append(entry.group)
        members.append(rows)
    return ImageCache(
        size=size,
        channels=channels,
        images=torch.from_numpy(buffer[:count].copy()),
        class_keys=keys,
        class_groups=groups,
        class_images=members,
        image_paths=paths,
        problems=problems,
    )
