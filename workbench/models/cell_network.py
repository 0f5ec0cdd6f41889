"""The frame both cell networks share: a stem, a row of cells, global average pooling.

`SearchNetwork` (darts_cell.py, every edge a weighted mix of operations) and `SearchedNetwork`
(searched.py, the cell derived from a search) differ only in their cells, so the frame, the
layout of normal and reduction cells and the two ways of running batch norm live here once.

Layout: a strided 3 x 3 convolution (the stem) halves the side, cell 0 is a reduction cell and
reduction and normal cells alternate after it; 3 cells on 28 px images give 7, 7 and 4 px maps
(Conv4 ends at 1 px). Few-shot images are small, and every cell on a 28 px map cost four times
as much as on a 14 px one for little gain. A cell takes the outputs of the two cells before it (the stem stands in for both at first),
brings them to its width with a 1 x 1 convolution (strided when the older one is twice the side),
and outputs its intermediate nodes side by side. The width is `channels` per node in the first
two cells and doubles at each later reduction cell, as in DARTS.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.models.cell_operations import BN_EPS, ModuleNorm, Normalise, ReluConvNorm, Stats, StatsNorm

NORMAL, REDUCE = "normal", "reduce"


def cell_kinds(cells: int) -> tuple[str, ...]:
    """The kind of each cell: reduction first, then normal and reduction in turn."""
    return tuple(REDUCE if i % 2 == 0 else NORMAL for i in range(cells))


def edge_count(nodes: int) -> int:
    """Edges of a cell whose node i (0-based) takes every earlier state: the two inputs and nodes 0..i-1."""
    return sum(node + 2 for node in range(nodes))


class CellInputs(nn.Module):
    """The two earlier outputs a cell reads, each brought to the cell's width by ReLU, 1 x 1 conv, batch norm."""

    def __init__(self, older_channels: int, previous_channels: int, channels: int, older_is_larger: bool,
                 affine: bool) -> None:
        super().__init__()
        self.older = ReluConvNorm(older_channels, channels, 2 if older_is_larger else 1, affine)
        self.previous = ReluConvNorm(previous_channels, channels, 1, affine)

    def run(self, older: torch.Tensor, previous: torch.Tensor, normalise: Normalise) -> list[torch.Tensor]:
        return [self.older.run(older, normalise), self.previous.run(previous, normalise)]


class CellNetwork(nn.Module):
    """Images (n, C, S, S) -> features (n, feature_dim), the mean of the last cell's maps.

    A subclass gives `make_cell(kind, nodes, width, older_channels, previous_channels, older_is_larger)`
    (a module with `run(older, previous, normalise, mixing)`) and, if its edges mix operations,
    `mixing_weights()`. `forward` runs batch norm as modules do; `forward_with_stats` normalises with
    the statistics given (or each batch's own) and returns those it used, for the inner loop.
    """

    def build(self, in_channels: int, cells: int, nodes: int, channels: int, affine: bool) -> None:
        self.kinds = cell_kinds(cells)
        self.nodes = nodes
        self.stem = nn.Conv2d(in_channels, channels, 3, stride=2, padding=1, bias=False)
        self.stem_norm = nn.BatchNorm2d(channels, eps=BN_EPS)
        older, previous, width = channels, channels, channels
        older_is_larger = False
        built = []
        for index, kind in enumerate(self.kinds):
            if kind == REDUCE and index > 0:
                width *= 2
            built.append(self.make_cell(kind, nodes, width, older, previous, older_is_larger))
            older, previous = previous, nodes * width
            older_is_larger = kind == REDUCE
        self.cells = nn.ModuleList(built)
        self.feature_dim = previous

    def make_cell(self, kind: str, nodes: int, width: int, older_channels: int, previous_channels: int,
                  older_is_larger: bool) -> nn.Module:
        raise NotImplementedError

    def mixing_weights(self) -> dict[str, torch.Tensor]:
        """Per cell kind, the weight of each operation on each edge (edges, operations); none for a fixed cell."""
        return {}

    def run(self, x: torch.Tensor, normalise: Normalise) -> torch.Tensor:
        """The last cell's maps (n, feature_dim, h, w)."""
        mixing = self.mixing_weights()
        older = previous = normalise(self.stem_norm, self.stem(x))
        for kind, cell in zip(self.kinds, self.cells):
            older, previous = previous, cell.run(older, previous, normalise, mixing.get(kind))
        return previous

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, ModuleNorm()).mean((2, 3))

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, ModuleNorm())

    def forward_with_stats(self, x: torch.Tensor, stats: Stats | None = None) -> tuple[torch.Tensor, Stats]:
        """Features with batch norm on `stats` (as the last call returned them) or, with None, on x's own."""
        normalise = StatsNorm(stats)
        features = self.run(x, normalise).mean((2, 3))
        return features, normalise.used
