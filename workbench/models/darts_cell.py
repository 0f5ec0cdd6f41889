"""The searchable network of MetaNAS: DARTS cells whose every edge mixes all candidate operations.

DARTS (Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019) makes the
choice of an operation continuous: an edge from state j to node i outputs
sum_o softmax(alpha_i,j / T)_o * o(x_j), so the architecture weights alpha are learned by gradient
descent together with the operations' own weights. All normal cells share one alpha, and all
reduction cells another. Here alpha is two parameters of the network (`alpha_normal`,
`alpha_reduce`, one row per edge, one column per operation), so anything that adapts the network's
weights adapts alpha with them: MetaNAS (algorithms/metanas.py) moves it in the inner loop per task.

The temperature T (a buffer, saved with the weights) sharpens the mix as it falls toward 0; at 1 it
is DARTS's softmax. `genotype()` is the discrete cell the weights point at (models/genotype.py).
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.models.cell_network import NORMAL, REDUCE, CellInputs, CellNetwork, edge_count
from workbench.models.cell_operations import NONE, OPERATIONS, Normalise
from workbench.models.genotype import Genotype, derive_genotype
from workbench.models.mixed_edge import MixedEdge

# The architecture weights among the network's parameters (MetaNAS gives them their own learning rates).
ARCHITECTURE_PARAMETERS = ("alpha_normal", "alpha_reduce")
# Small random logits, so that no operation starts ahead yet the first steps are not all tied.
ALPHA_INIT_SCALE = 1e-3


class SearchCell(nn.Module):
    """A cell of `nodes` intermediate nodes; node i sums a MixedEdge from each earlier state
    (the two inputs, then nodes 0..i-1). Edges from the inputs have stride 2 in a reduction cell."""

    def __init__(self, kind: str, operations: tuple[str, ...], nodes: int, width: int, older_channels: int,
                 previous_channels: int, older_is_larger: bool) -> None:
        super().__init__()
        self.nodes = nodes
        # Batch norm without a learned scale inside a searched cell, as in DARTS: the mixing weights
        # alone decide how much each operation counts.
        self.inputs = CellInputs(older_channels, previous_channels, width, older_is_larger, affine=False)
        self.edges = nn.ModuleList([
            MixedEdge(operations, width, 2 if kind == REDUCE and source < 2 else 1)
            for node in range(nodes) for source in range(node + 2)
        ])

    def run(self, older, previous, normalise: Normalise, mixing: torch.Tensor) -> torch.Tensor:
        states = self.inputs.run(older, previous, normalise)
        edge = 0
        for node in range(self.nodes):
            total = None
            for source in range(node + 2):
                part = self.edges[edge].run(states[source], normalise, mixing[edge])
                total = part if total is None else total + part
                edge += 1
            states.append(total)
        return torch.cat(states[2:], 1)


class SearchNetwork(CellNetwork):
    """Stem, `cells` searchable cells of `nodes` nodes, `channels` per node at first; features are
    the last cell's maps averaged (`feature_dim` = nodes x final width)."""

    def __init__(self, in_channels: int, cells: int, nodes: int, channels: int,
                 operations: tuple[str, ...] = OPERATIONS, temperature: float = 1.0) -> None:
        super().__init__()
        unknown = [name for name in operations if name not in OPERATIONS]
        if unknown or len(set(operations)) != len(operations) or len(operations) < 2 or NONE not in operations:
            raise ConfigError(f"The operations of a search must be distinct names from {', '.join(OPERATIONS)}, "
                              f"'{NONE}' among them, not {', '.join(operations)}.")
        self.operations = tuple(operations)
        self.build(in_channels, cells, nodes, channels, affine=False)
        self.channels = channels
        edges, count = edge_count(nodes), len(operations)
        self.alpha_normal = nn.Parameter(ALPHA_INIT_SCALE * torch.randn(edges, count))
        self.alpha_reduce = nn.Parameter(ALPHA_INIT_SCALE * torch.randn(edges, count))
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def make_cell(self, kind, nodes, width, older_channels, previous_channels, older_is_larger) -> nn.Module:
        return SearchCell(kind, self.operations, nodes, width, older_channels, previous_channels, older_is_larger)

    def mixing_weights(self) -> dict[str, torch.Tensor]:
        return {NORMAL: (self.alpha_normal / self.temperature).softmax(-1),
                REDUCE: (self.alpha_reduce / self.temperature).softmax(-1)}

    def genotype(self) -> Genotype:
        """The discrete cell these weights point at (the strongest operation on each node's two strongest edges)."""
        return derive_genotype(self.kinds, self.nodes, self.channels, self.operations, self._mixing_now())

    def architecture_record(self) -> dict:
        """What architecture.json holds: the derived cell and every edge's weights (models/genotype.py)."""
        mixing = self._mixing_now()
        genotype = derive_genotype(self.kinds, self.nodes, self.channels, self.operations, mixing)
        return genotype.to_record(self.operations, mixing, float(self.temperature))

    def _mixing_now(self) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return {kind: weights.float().cpu() for kind, weights in self.mixing_weights().items()}
