"""Features of many images computed once, in bounded chunks, and kept by key.

A frozen feature extractor gives an image the same features every time, so a
folder's features are computed once and each adapt afterwards only compares
rows. `compute_features` runs the network over images a chunk at a time (memory
stays bounded by the chunk, not the folder); `FeatureCache` remembers the rows by
a key the caller chooses (a path, or (path, modification time) when files may
change) and computes only the keys it has not seen.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Hashable, Sequence

import torch
from torch import nn

DEFAULT_CHUNK = 64


def compute_features(
    extractor: nn.Module,
    images: torch.Tensor | Sequence[torch.Tensor],
    chunk: int = DEFAULT_CHUNK,
    bf16: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Features (n, d) in float32 of images (n, C, S, S) (or a sequence of (C, S, S)) in [0, 1].

    `bf16`: run the network under bfloat16 autocast (on the extractor's device); the
    features come back as float32 either way. `progress(done, total)` after each chunk.
    """
    total = len(images)
    if total == 0:
        return torch.empty(0, getattr(extractor, "feature_dim", 0))
    device = next(extractor.parameters()).device
    parts = []
    with torch.no_grad(), _autocast(device, bf16):
        for start in range(0, total, chunk):
            batch = images[start:start + chunk]
            if not isinstance(batch, torch.Tensor):
                batch = torch.stack(list(batch))
            parts.append(extractor(batch.to(device, torch.float32)).float().cpu())
            if progress:
                progress(min(start + chunk, total), total)
    return torch.cat(parts)


def _autocast(device: torch.device, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


class FeatureCache:
    """Feature rows by key for one extractor: `features(keys, load)` computes only the keys not seen yet.

    `load(keys)` returns those images as (k, C, S, S) in [0, 1]; it is called a chunk of keys at a
    time, so a large folder is never held decoded in memory at once. Rows come back in the order
    of `keys`, float32, on the CPU.
    """

    def __init__(self, extractor: nn.Module, chunk: int = DEFAULT_CHUNK, bf16: bool = False) -> None:
        self.extractor = extractor
        self.chunk = chunk
        self.bf16 = bf16
        self._rows: dict[Hashable, int] = {}
        # Chunks are joined only when rows are read, so filling a folder copies each row once.
        self._parts: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._rows

    def missing(self, keys: Sequence[Hashable]) -> list[Hashable]:
        """The keys (in order, once each) that `features` would have to compute."""
        return list(dict.fromkeys(key for key in keys if key not in self._rows))

    def features(
        self,
        keys: Sequence[Hashable],
        load: Callable[[list[Hashable]], torch.Tensor],
        progress: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        todo = self.missing(keys)
        for start in range(0, len(todo), self.chunk):
            part = todo[start:start + self.chunk]
            rows = compute_features(self.extractor, load(part), self.chunk, self.bf16)
            self._add(part, rows)
            if progress:
                progress(start + len(part), len(todo))
        if len(self._parts) > 1:
            self._parts = [torch.cat(self._parts)]
        if not keys:
            return torch.empty(0, getattr(self.extractor, "feature_dim", 0))
        return self._parts[0][[self._rows[key] for key in keys]]

    def _add(self, keys: list[Hashable], rows: torch.Tensor) -> None:
        if len(rows) != len(keys):
            raise ValueError(f"load returned {len(rows)} images for {len(keys)} keys")
        start = len(self._rows)
        self._parts.append(rows)
        self._rows.update({key: start + i for i, key in enumerate(keys)})

    def clear(self) -> None:
        self._rows.clear()
        self._parts.clear()
