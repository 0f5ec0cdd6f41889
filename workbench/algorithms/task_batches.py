"""Meta-batches of the gradient-based family: episodes of one shape stacked along a task dimension,
cut into passes that answer pause and cancel, and their gradients added into the meta-parameters."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import nn

from workbench.data.episode import Episode

Params = dict[str, torch.Tensor]


def same_shape_groups(episodes: list[Episode], size: Callable[[Episode, int], int]) -> Iterator[list[Episode]]:
    """Consecutive episodes of one shape, cut into groups of `size(first episode, episodes left in the run)`."""
    start = 0
    while start < len(episodes):
        first = episodes[start]
        stop = start + 1
        while stop < len(episodes) and _shape(episodes[stop]) == _shape(first):
            stop += 1
        while start < stop:
            count = max(1, size(first, stop - start))
            yield episodes[start:start + count]
            start += count


def _shape(e: Episode):
    return e.ways, tuple(e.support_x.shape), tuple(e.query_x.shape)


@dataclass(frozen=True)
class TaskBatch:
    """Episodes of one shape stacked along a leading task dimension."""

    support_x: torch.Tensor  # (T, n_support, C, S, S)
    support_y: torch.Tensor  # (T, n_support)
    query_x: torch.Tensor
    query_y: torch.Tensor
    ways: int

    def __len__(self) -> int:
        return len(self.support_x)

    def part(self, start: int, stop: int) -> "TaskBatch":
        p = slice(start, stop)
        return TaskBatch(self.support_x[p], self.support_y[p], self.query_x[p], self.query_y[p], self.ways)


class PassPlanner:
    """Splits a meta-batch into vectorised passes, between which pause and cancel are answered.

    A fixed `tasks_per_pass` bounds memory. With 0 (auto), each pass is sized
    from the measured time per task to take about TARGET_S, so pause and cancel
    answer within about a second even on a slow CPU, while a GPU (fast per task)
    gets the whole meta-batch in one pass. The first pass of a run holds one task.
    """

    TARGET_S = 0.5

    def __init__(self) -> None:
        self.seconds_per_task: float | None = None

    def _auto_size(self, remaining: int) -> int:
        if self.seconds_per_task is None:
            return 1
        fit = max(1, int(self.TARGET_S / max(self.seconds_per_task, 1e-9)))
        return min(remaining, 1 << (fit.bit_length() - 1))  # a power of two: few distinct shapes

    def passes(self, batch: TaskBatch, tasks_per_pass: int) -> Iterator[TaskBatch]:
        """Yields the passes; the time the caller spends on each (until it asks for the next) is measured."""
        start = 0
        while start < len(batch):
            size = tasks_per_pass if tasks_per_pass > 0 else self._auto_size(len(batch) - start)
            chunk = batch.part(start, min(start + size, len(batch)))
            began = time.perf_counter()
            yield chunk
            per_task = (time.perf_counter() - began) / len(chunk)
            self.seconds_per_task = per_task if self.seconds_per_task is None else 0.5 * (self.seconds_per_task + per_task)
            start += len(chunk)


def stack_episodes(episodes: list[Episode], prepare: Callable) -> TaskBatch | None:
    """The episodes as one TaskBatch, or None when their shapes differ (then the caller loops)."""
    first = episodes[0]
    if any(_shape(e) != _shape(first) for e in episodes):
        return None
    return TaskBatch(
        torch.stack([prepare(e.support_x) for e in episodes]),
        torch.stack([e.support_y for e in episodes]).to(first.support_x.device),
        torch.stack([prepare(e.query_x) for e in episodes]),
        torch.stack([e.query_y for e in episodes]).to(first.query_x.device),
        first.ways,
    )


def accumulate_grads(parameters: dict[str, nn.Parameter], grads: Params, weight: float) -> None:
    """Add weight * grads into each parameter's .grad (chunks of a meta-batch add up)."""
    for name, p in parameters.items():
        g = (grads[name] * weight).to(p.dtype)
        if p.grad is None:
            p.grad = g.contiguous(memory_format=_format_of(p))
        else:
            p.grad.add_(g)


def _format_of(p: torch.Tensor) -> torch.memory_format:
    if p.dim() == 4 and p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format
