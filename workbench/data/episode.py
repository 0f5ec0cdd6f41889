"""The Episode: one N-way K-shot task with its queries."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Episode:
    """A few-shot task. Images are float tensors in [0, 1], shape (n, C, S, S).

    Labels are 0..ways-1 and index `class_names`. Support and query are class-major.
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    class_names: tuple[str, ...]
    # Where the images came from, for display: cache rows and each class's quarter turns.
    support_rows: tuple[int, ...] = ()
    query_rows: tuple[int, ...] = ()
    class_turns: tuple[int, ...] = ()

    @property
    def ways(self) -> int:
        return len(self.class_names)

    def to(self, device: torch.device | str) -> "Episode":
        return Episode(
            self.support_x.to(device, non_blocking=True),
            self.support_y.to(device, non_blocking=True),
            self.query_x.to(device, non_blocking=True),
            self.query_y.to(device, non_blocking=True),
            self.class_names,
            self.support_rows,
            self.query_rows,
            self.class_turns,
        )
