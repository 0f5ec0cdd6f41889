"""The `searched` backbone: a fixed network built from the architecture a MetaNAS search saved.

Pick it in any algorithm with `backbone=searched` and `backbone_architecture=RUN/architecture.json`
(the file a MetaNAS run writes beside its model.pt, models/genotype.py). The network has the
search's layout (cells, nodes, channels); each node of a cell sums its two kept inputs, each passed
through its one operation, as DARTS evaluates a found cell (Liu, Simonyan and Yang, ICLR 2019).
Its weights start afresh: the search found the architecture, this run trains the weights.

It offers `forward_with_stats`, so the gradient-based methods (MAML, ANIL, Meta-SGD, Reptile) can
run it too, and `feature_maps`, for Relation Networks.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone
from workbench.models.cell_network import REDUCE, CellInputs, CellNetwork
from workbench.models.cell_operations import Normalise, make_operation
from workbench.models.genotype import FILE_NAME, Genotype, read_architecture


class FixedCell(nn.Module):
    """A derived cell: node k sums its two chosen inputs, each through its chosen operation."""

    def __init__(self, choices, width: int, older_channels: int, previous_channels: int, older_is_larger: bool,
                 reduction: bool) -> None:
        super().__init__()
        self.sources = [[source for source, _ in node] for node in choices]
        self.inputs = CellInputs(older_channels, previous_channels, width, older_is_larger, affine=True)
        self.ops = nn.ModuleList([
            nn.ModuleList([make_operation(operation, width, 2 if reduction and source < 2 else 1, affine=True)
                           for source, operation in node])
            for node in choices
        ])

    def run(self, older, previous, normalise: Normalise, mixing=None) -> torch.Tensor:
        states = self.inputs.run(older, previous, normalise)
        for sources, ops in zip(self.sources, self.ops):
            total = None
            for source, op in zip(sources, ops):
                part = op.run(states[source], normalise)
                total = part if total is None else total + part
            states.append(total)
        return torch.cat(states[2:], 1)


class SearchedNetwork(CellNetwork):
    """Images (n, C, S, S) -> features (n, nodes x final width): the genotype's cells in its layout."""

    def __init__(self, in_channels: int, genotype: Genotype) -> None:
        super().__init__()
        self.genotype = genotype
        self.build(in_channels, len(genotype.cells), genotype.nodes, genotype.channels, affine=True)

    def make_cell(self, kind, nodes, width, older_channels, previous_channels, older_is_larger) -> nn.Module:
        return FixedCell(self.genotype.of(kind), width, older_channels, previous_channels, older_is_larger,
                         kind == REDUCE)

    def architecture_record(self) -> dict:
        """The architecture this network was built from, to save with a run that used it."""
        return self.genotype.to_record()


@register_backbone("searched")
class SearchedBackbone(SearchedNetwork):
    """The registered `searched` backbone: make_backbone hands it the backbone_architecture file."""

    takes_architecture = True  # make_backbone passes the architecture file to such a factory

    def __init__(self, in_channels: int, image_size: int, architecture_file: str = "") -> None:
        if not architecture_file:
            raise ConfigError(f"The 'searched' backbone is built from the {FILE_NAME} a MetaNAS run saves: "
                              "set backbone_architecture to that file.")
        super().__init__(in_channels, read_architecture(architecture_file))
