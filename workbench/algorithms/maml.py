"""Model-Agnostic Meta-Learning (Finn, Abbeel and Levine, ICML 2017), with a first-order switch.

Promise: meta-learns an initialisation from which a few gradient steps on the
support set give a good classifier. Second order by default (gradients flow
through the inner updates); `first_order` drops those terms (FOMAML).

Head: the paper's head has a fixed N outputs, which cannot serve a support set
with another number of classes. Here the linear head is built for each task
from the class prototypes of the support set (W = 2p, b = -|p|^2, as in
Proto-MAML, Triantafillou et al. 2020), or from zeros with `head_init=zero`;
then the inner loop adapts backbone and head together. So adapt works for any
number of ways and shots.

Batch norm uses the support set's statistics for the support and the query
passes alike (inner loop and prediction), so a query's prediction never
depends on which other queries are predicted with it.

Speed: a meta-batch whose episodes share one shape (ways, shots, queries) is
meta-trained in one vectorised pass: the per-task inner loop and query loss are
written with torch.func (functional_call + grad) and mapped over the tasks with
vmap, and the meta-gradient is one torch.func.grad of the mean query loss.
`tasks_per_pass` splits the meta-batch into passes whose gradients add up, to
bound memory; pause and cancel are answered between passes, and its default
(auto) sizes passes to about half a second each so that they answer quickly. Episodes of
different shapes, or `vectorise=false`, take the per-task loop.
Paper, Omniglot 5-way 1-shot: 98.7% (Conv4, 28x28, 60k meta-updates of 32 tasks).
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from workbench.algorithms import _inner_loop as inner
from workbench.algorithms.base import Predictor, SoftmaxPredictor, StepStats
from workbench.algorithms._backbone import backbone_choice
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.protonet import class_means
from workbench.algorithms.registry import register
from workbench.models.backbones import make_backbone
from workbench.models.conv4 import Conv4


@register
class MAML(inner.GradientMetaLearner):
    name = "maml"
    title = "MAML"
    summary = "Meta-learn an initialisation that adapts in a few gradient steps (Finn et al. 2017)."
    hyperparams = (
        HyperParam("meta_lr", "float", 1e-3, "Adam learning rate of the outer (meta) update.", 1e-6, 1.0, log_scale=True),
        HyperParam("inner_lr", "float", 0.1, "Learning rate of the inner-loop SGD steps on the support set.", 1e-5, 10.0, log_scale=True),
        HyperParam("inner_steps", "int", 1, "Inner-loop steps during meta-training.", 1, 50),
        HyperParam("eval_inner_steps", "int", 3, "Inner-loop steps when adapting for evaluation and prediction.", 0, 200, after_training=True),
        HyperParam("first_order", "bool", False, "Ignore second-order terms (first-order MAML): faster, less memory."),
        HyperParam("head_init", "choice", "prototype", "How the per-task linear head starts: from class prototypes (Proto-MAML) or zeros.", choices=("prototype", "zero")),
        backbone_choice("conv4", "Feature network.", functional=True),
        *inner.BATCHING_PARAMS,
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone: Conv4 = make_backbone(self.hparams["backbone"], in_channels, image_size).to(self.device)
        self.optimizer = torch.optim.Adam(self.backbone.parameters(), lr=self.hparams["meta_lr"])
        self._stats_forward = _StatsForward(self.backbone)
        self.functional = inner.FunctionalBackbone(self.backbone, self.autocast)

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    # --- the inner loop --------------------------------------------------
    def _features(self, params: dict, x: torch.Tensor, stats=None):
        """Backbone features under the weights `params`, normalised with `stats` (or x's own)."""
        renamed = {f"net.{name}": value for name, value in params.items()}
        with self.autocast():
            features, used = functional_call(self._stats_forward, renamed, (x, stats), strict=False)
        return features.float(), used

    def _initial_head(self, features: torch.Tensor, labels: torch.Tensor, ways: int):
        if self.hparams["head_init"] == "zero":
            weight = features.new_zeros(ways, features.shape[1], requires_grad=True)
            bias = features.new_zeros(ways, requires_grad=True)
            return weight, bias
        prototypes = class_means(features, labels, ways)
        return 2.0 * prototypes, -(prototypes**2).sum(1)

    def _adapt_params(self, support_x, support_y, ways, steps: int, create_graph: bool):
        """Run the inner loop; returns fast weights (backbone dict, head) and the support BN stats."""
        params = dict(self.backbone.named_parameters())
        features, stats = self._features(params, support_x)
        weight, bias = self._initial_head(features, support_y, ways)
        for _ in range(steps):
            self.between_steps()  # a long inner loop answers pause and cancel too
            logits = features @ weight.T + bias
            loss = F.cross_entropy(logits, support_y)
            names = list(params)
            grads = torch.autograd.grad(loss, [*params.values(), weight, bias], create_graph=create_graph)
            params = {n: p - self.hparams["inner_lr"] * g for n, p, g in zip(names, params.values(), grads)}
            weight = weight - self.hparams["inner_lr"] * grads[-2]
            bias = bias - self.hparams["inner_lr"] * grads[-1]
            features, stats = self._features(params, support_x)
        return params, (weight, bias), stats

    # --- the interface ---------------------------------------------------
    def make_loop(self, meta, ways: int, steps: int) -> inner.InnerLoop:
        return inner.InnerLoop(self.functional, ways, steps, self.hparams["head_init"], inner.sgd_step(self.hparams["inner_lr"]))

    def chunk_grads(self, meta, chunk: inner.TaskBatch, batched: bool = True):
        if self.hparams["first_order"] and batched:
            return _first_order_grads(self, meta, chunk)
        return super().chunk_grads(meta, chunk, batched)

    def _meta_train_loop(self, episodes) -> StepStats:
        """One task at a time with plain autograd (episodes of different shapes, or vectorise=false).

        This is the reference the vectorised path is tested against."""
        second_order = not self.hparams["first_order"]
        total_loss, correct, count = 0.0, 0, 0
        for episode in episodes:
            self.between_episodes()
            support_x, query_x = self.prepare(episode.support_x), self.prepare(episode.query_x)
            params, (weight, bias), stats = self._adapt_params(
                support_x, episode.support_y, episode.ways, self.hparams["inner_steps"], create_graph=second_order
            )
            if not second_order:
                # First-order MAML: the outer gradient is taken at the adapted weights as if they were leaves.
                params = {n: p.detach().requires_grad_() for n, p in params.items()}
            query_features, _ = self._features(params, query_x, [(m.detach(), v.detach()) for m, v in stats] if not second_order else stats)
            logits = query_features @ weight.T + bias
            loss = F.cross_entropy(logits, episode.query_y)
            self.check_finite(loss)
            if second_order:
                (loss / len(episodes)).backward()
            else:
                fast = list(params.values())
                grads = torch.autograd.grad(loss / len(episodes), fast)
                for p, g in zip(self.backbone.parameters(), grads):
                    p.grad = g if p.grad is None else p.grad + g
            total_loss += loss.item()
            correct += (logits.argmax(1) == episode.query_y).sum().item()
            count += len(episode.query_y)
        return StepStats(total_loss / len(episodes), correct / count)

    def adapt(self, support_x, support_y, ways) -> Predictor:
        self.backbone.train()  # batch norm runs on the support statistics, never the running ones
        support_y = support_y.to(self.device)
        with torch.enable_grad():
            params, (weight, bias), stats = self._adapt_params(
                self.prepare(support_x), support_y, ways, self.hparams["eval_inner_steps"], create_graph=False
            )
        params = {n: p.detach() for n, p in params.items()}
        weight, bias = weight.detach(), bias.detach()
        stats = [(m.detach(), v.detach()) for m, v in stats]

        def logits(query_x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                features, _ = self._features(params, self.prepare(query_x), stats)
                return features @ weight.T + bias

        return SoftmaxPredictor(logits)


def _first_order_grads(maml: MAML, meta, chunk: inner.TaskBatch):
    """First-order MAML: the query-loss gradient at each task's adapted weights, averaged over tasks.

    The inner loop runs without an outer graph; head and statistics are constants, as in the loop.
    """
    loop = replace(maml.make_loop(meta, chunk.ways, maml.hparams["inner_steps"]), on_step=maml.between_steps)
    with torch.no_grad():  # torch.func.grad inside still differentiates the inner steps
        adapted, heads, stats = vmap(loop.run, in_dims=(None, 0, 0))(meta["backbone"], chunk.support_x, chunk.support_y)

    def objective(fast):
        task = lambda a, h, s, qx, qy: inner.query_loss(maml.functional, a, h, s, qx, qy)  # noqa: E731
        losses, logits = vmap(task)(fast, heads, stats, chunk.query_x, chunk.query_y)
        # A sum, so that each task's slice of the gradient is that task's own gradient.
        return losses.sum(), (losses.detach(), logits.detach())

    per_task, aux = grad(objective, has_aux=True)(adapted)
    return {"backbone": {n: g.mean(0) for n, g in per_task.items()}}, aux


class _StatsForward(nn.Module):
    """Wraps a backbone so functional_call reaches its `forward_with_stats`."""

    def __init__(self, net: Conv4) -> None:
        super().__init__()
        self.net = net

    def forward(self, x, stats):
        return self.net.forward_with_stats(x, stats)
