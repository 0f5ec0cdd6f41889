"""MetaNAS: meta-learning of the architecture and its weights together (Elsken, Staffler, Metzen and
Hutter, "Meta-Learning of Neural Architectures for Few-Shot Learning", CVPR 2020).

Promise: instead of meta-learning only the weights of a fixed network, MetaNAS meta-learns a
network whose architecture is itself a set of continuous weights, the DARTS search space (Liu,
Simonyan and Yang, ICLR 2019): every edge of a cell mixes all candidate operations, weighted by a
softmax over architecture weights alpha. Weights and alpha are meta-learned together by a
gradient-based meta-learner, and each task adapts both in its inner loop, so the architecture too
is tuned to the task. The cell the meta-learned alpha points at (each node's two strongest
incoming edges, each with its strongest operation) is the product: every time the run saves
model.pt it writes that cell as architecture.json, and `backbone=searched` with
`backbone_architecture=RUN/architecture.json` trains any algorithm on it (models/searched.py).

Here: first-order MAML through the workbench's own inner loop (`_inner_loop.InnerLoop`, as MAML
with `first_order=true`): the inner SGD steps move the weights at `inner_lr` and alpha at
`arch_inner_lr`; the meta-update is Adam on the query-loss gradients at the adapted weights, at
`meta_lr` for the weights and `arch_meta_lr` for alpha. As in MAML here, the per-task head starts
from the class prototypes, so any number of ways and shots works, and batch norm uses the support
set's statistics for the queries too. MetaNAS drives the mix toward a discrete choice during the
search, so that keeping one operation per edge afterwards loses little; here a softmax temperature
that falls from `temperature` to `final_temperature` over `temperature_steps` meta-updates
does that (geometrically; the temperature is saved with the weights, so a resumed run goes on
from it).

The network is small on purpose (models/darts_cell.py): 3 cells (reduction, normal, reduction) of
3 nodes, 8 channels per node at first, the seven DARTS operations made light, so that a search of
the default length (1000 meta-updates) took 12 minutes on a 2-core CPU (docs/benchmarks.md,
"Architecture search"), reaching 77.9% on its validation episodes (Omniglot small1, 5-way 1-shot).
The paper searches larger networks for longer.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.algorithms import _inner_loop as inner
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.maml import first_order_grads
from workbench.algorithms.registry import register
from workbench.models.cell_operations import OPERATION_SETS
from workbench.models.darts_cell import ARCHITECTURE_PARAMETERS, SearchNetwork
from workbench.models.genotype import MAX_CELLS, MAX_NODES


def architecture_step(weight_lr: float, architecture_lr: float):
    """MetaNAS's inner update: SGD on the weights and the head at one rate, on alpha at its own."""

    def step(params, head, g_params, g_head):
        params = {n: p - (architecture_lr if n in ARCHITECTURE_PARAMETERS else weight_lr) * g_params[n]
                  for n, p in params.items()}
        head = (head[0] - weight_lr * g_head[0], head[1] - weight_lr * g_head[1])
        return params, head

    return step


@register
class MetaNAS(inner.GradientMetaLearner):
    name = "metanas"
    title = "MetaNAS"
    summary = ("Meta-learn a cell architecture (DARTS) together with its weights; saves the cell it finds "
               "for any algorithm's backbone=searched (Elsken et al. 2020).")
    hyperparams = (
        HyperParam("meta_lr", "float", 1e-3, "Adam learning rate of the outer (meta) update of the weights.", 1e-6, 1.0,
                   log_scale=True),
        HyperParam("inner_lr", "float", 0.1, "Learning rate of the inner-loop SGD steps on the weights.", 1e-5, 10.0,
                   log_scale=True),
        HyperParam("arch_meta_lr", "float", 3e-3, "Adam learning rate of the outer update of the architecture "
                   "weights (alpha).", 1e-6, 1.0, log_scale=True),
        HyperParam("arch_inner_lr", "float", 1.0, "Learning rate of the inner-loop SGD steps on the architecture "
                   "weights (alpha): how far one task moves the architecture.", 0.0, 100.0, log_scale=True),
        HyperParam("inner_steps", "int", 1, "Inner-loop steps during meta-training.", 1, 50),
        HyperParam("eval_inner_steps", "int", 3, "Inner-loop steps when adapting for evaluation and prediction.", 0, 200,
                   after_training=True),
        HyperParam("head_init", "choice", "prototype", "How the per-task linear head starts: from class prototypes "
                   "(Proto-MAML) or zeros.", choices=("prototype", "zero")),
        HyperParam("cells", "int", 3, "Cells in the searched network: reduction first, then normal and reduction "
                   "in turn.", 1, MAX_CELLS),
        HyperParam("nodes", "int", 3, "Intermediate nodes per cell; each keeps its two strongest inputs.", 1, MAX_NODES),
        HyperParam("channels", "int", 8, "Channels per node in the first cells (doubled at each later reduction).", 2, 64),
        HyperParam("operations", "choice", "darts", "The candidate operations on every edge: darts (separable 3x3 "
                   "and 5x5, dilated 3x3, max and average pooling, skip, none), separable (no pooling) or pooling "
                   "(no convolutions).", choices=tuple(OPERATION_SETS)),
        HyperParam("temperature", "float", 1.0, "Softmax temperature of the mix of operations at the start.", 0.01, 100.0,
                   log_scale=True),
        HyperParam("final_temperature", "float", 0.2, "Temperature reached after temperature_steps meta-updates: lower "
                   "drives each edge toward one operation.", 0.01, 100.0, log_scale=True),
        HyperParam("temperature_steps", "int", 1000, "Meta-updates over which the temperature falls (0: it stays).",
                   0, 10**8),
        *inner.BATCHING_PARAMS,
    )
    # A search of this length took 12 minutes on a 2-core CPU, validation included (docs/benchmarks.md).
    default_steps = 1000

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        hp = self.hparams
        self.backbone = SearchNetwork(in_channels, hp["cells"], hp["nodes"], hp["channels"],
                                      OPERATION_SETS[hp["operations"]], hp["temperature"]).to(self.device)
        named = dict(self.backbone.named_parameters())
        weights = [p for n, p in named.items() if n not in ARCHITECTURE_PARAMETERS]
        alphas = [named[n] for n in ARCHITECTURE_PARAMETERS]
        self.optimizer = torch.optim.Adam([{"params": weights, "lr": hp["meta_lr"]},
                                           {"params": alphas, "lr": hp["arch_meta_lr"]}])
        self.functional = inner.FunctionalBackbone(self.backbone, self.autocast)

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def make_loop(self, meta, ways: int, steps: int) -> inner.InnerLoop:
        return inner.InnerLoop(self.functional, ways, steps, self.hparams["head_init"],
                               architecture_step(self.hparams["inner_lr"], self.hparams["arch_inner_lr"]))

    def chunk_grads(self, meta, chunk: inner.TaskBatch, batched: bool = True):
        # First order, as MetaNAS: second-order terms through every mixed edge would cost several times more.
        return first_order_grads(self, meta, chunk, batched)

    def meta_train(self, episodes):
        stats = super().meta_train(episodes)
        self._cool_down()
        return stats

    def _cool_down(self) -> None:
        """One meta-update's step of the temperature's geometric fall toward final_temperature."""
        hp = self.hparams
        start, final, steps = hp["temperature"], hp["final_temperature"], hp["temperature_steps"]
        if steps <= 0 or start == final:
            return
        ratio = (final / start) ** (1.0 / steps)
        current = float(self.backbone.temperature)
        nearer = max(final, current * ratio) if final < start else min(final, current * ratio)
        self.backbone.temperature.fill_(nearer)
