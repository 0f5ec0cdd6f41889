"""Reptile (Nichol, Achiam and Schulman, 2018: "On First-Order Meta-Learning Algorithms").

Promise: a first-order meta-learner with no outer gradient at all: train on a
task for a few steps of SGD or Adam, then move the initialisation part of the
way toward the task-trained weights, theta <- theta + eps * (mean phi - theta);
over many tasks this finds an initialisation that adapts fast.

Here: each task of the meta-batch is trained on its labelled images (support
and queries together: Reptile does not split a task, and the queries play the
part of the paper's extra training shots) with `inner_steps` minibatch steps of
Adam (beta1 = 0, as in the paper's experiments) or SGD, starting from the
per-task linear head initialised from the support set's class prototypes (so
any number of ways and shots works; the head is not meta-learned, the backbone
is). The outer step size anneals linearly to zero over `outer_lr_decay_steps`
meta-updates, as the paper's does over its 100k. Adapting runs
`eval_inner_steps` full-batch steps on the support set, and queries are then
normalised with the support set's batch-norm statistics, so a query's
prediction never depends on the other queries (the paper's non-transductive
setting). The reported loss and accuracy are those of the inner minibatches.

Vectorised: the tasks' inner loops are independent, so a meta-batch of
same-shaped episodes runs them in one torch.func vmap pass (chunked by
`tasks_per_pass`); the loop over tasks remains for mixed shapes.

Defaults are the paper's Omniglot setting: inner Adam lr 0.001, 5 inner steps on
minibatches of 10, 50 steps at test, outer step 1.0 annealed over 100k updates,
meta-batch 5 (set in the run, not here). Paper, Omniglot 5-way 1-shot: 97.68% +-
0.04% transductive, 95.39% +- 0.09% non-transductive (the setting used here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import grad, vmap
from torch.utils._pytree import tree_flatten, tree_unflatten

from workbench.algorithms import _inner_loop as inner
from workbench.algorithms.base import Algorithm, StepStats
from workbench.algorithms.classifiers import FastWeightsClassifier
from workbench.algorithms._backbone import backbone_choice, build_backbone
from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register

ADAM_BETAS = (0.0, 0.999)
ADAM_EPS = 1e-8


@register
class Reptile(Algorithm):
    exportable = True  # adapt gives a FastWeightsClassifier
    name = "reptile"
    title = "Reptile"
    summary = "Train on each task, then move the initialisation toward the trained weights (Nichol et al. 2018)."
    hyperparams = (
        HyperParam("outer_lr", "float", 1.0, "Outer step size: the fraction of the way toward the task-trained weights.", 1e-4, 1.0, log_scale=True),
        HyperParam("outer_lr_decay_steps", "int", 100_000, "Anneal the outer step size linearly to zero over this many meta-updates (0: constant).", 0, 10**8),
        HyperParam("inner_optimizer", "choice", "adam", "Optimiser of the inner loop.", choices=("adam", "sgd")),
        HyperParam("inner_lr", "float", 1e-3, "Learning rate of the inner loop.", 1e-6, 10.0, log_scale=True),
        HyperParam("inner_steps", "int", 5, "Inner-loop steps per task during meta-training.", 1, 200),
        HyperParam("inner_batch", "int", 10, "Images per inner minibatch (0: all of the task's images).", 0, 10_000),
        HyperParam("eval_inner_steps", "int", 50, "Full-batch inner steps on the support set when adapting.", 0, 1000, after_training=True),
        HyperParam("head_init", "choice", "prototype", "How the per-task linear head starts: from class prototypes or zeros.", choices=("prototype", "zero")),
        backbone_choice("conv4", "Feature network.", functional=True),
        BACKBONE_ARCHITECTURE,
        *inner.BATCHING_PARAMS,
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        # The outer update as plain SGD on the "gradient" theta - mean(phi).
        self.optimizer = torch.optim.SGD(self.backbone.parameters(), lr=self.hparams["outer_lr"])
        decay = self.hparams["outer_lr_decay_steps"]
        self.scheduler = (
            torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: max(0.0, 1.0 - step / decay)) if decay else None
        )
        self.functional = inner.FunctionalBackbone(self.backbone, self.autocast)
        self.planner = inner.PassPlanner()

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"sgd": self.optimizer}


    # --- one task ------------------------------------------------------------
    def _train_task(self, params, support_x, support_y, images, labels, batches, ways: int):
        """Inner loop of one task: returns trained weights, mean minibatch loss, mean minibatch accuracy.

        `batches` (steps, b) indexes `images` for each step's minibatch; runs unbatched or under vmap.
        """
        features, _ = self.functional(params, support_x)
        head = inner.initial_head(features, support_y, ways, self.hparams["head_init"])
        trainable = (params, head)
        moments = None
        losses, hits = [], []
        for step in range(batches.shape[0]):
            x, y = images[batches[step]], labels[batches[step]]

            def loss_fn(weights):
                f, _ = self.functional(weights[0], x)
                logits = inner.head_logits(f, weights[1])
                return F.cross_entropy(logits, y), logits

            grads, logits = grad(loss_fn, has_aux=True)(trainable)
            losses.append(F.cross_entropy(logits, y))
            hits.append((logits.argmax(-1) == y).float().mean())
            trainable, moments = self._inner_update(trainable, grads, moments, step + 1)
        return trainable[0], trainable[1], torch.stack(losses).mean(), torch.stack(hits).mean()

    def _inner_update(self, weights, grads, moments, t: int):
        leaves, spec = tree_flatten(weights)
        g_leaves, _ = tree_flatten(grads)
        lr = self.hparams["inner_lr"]
        if self.hparams["inner_optimizer"] == "sgd":
            return tree_unflatten([w - lr * g for w, g in zip(leaves, g_leaves)], spec), None
        b1, b2 = ADAM_BETAS
        if moments is None:
            moments = ([torch.zeros_like(g) for g in g_leaves], [torch.zeros_like(g) for g in g_leaves])
        first = [b1 * m + (1 - b1) * g for m, g in zip(moments[0], g_leaves)]
        second = [b2 * v + (1 - b2) * g * g for v, g in zip(moments[1], g_leaves)]
        scale = lr * (1 - b2**t) ** 0.5 / (1 - b1**t)
        updated = [w - scale * m / (v.sqrt() + ADAM_EPS) for w, m, v in zip(leaves, first, second)]
        return tree_unflatten(updated, spec), (first, second)

    def _minibatches(self, tasks: int, n: int) -> torch.Tensor:
        """Random minibatch indices (tasks, steps, b): each step a fresh draw without replacement."""
        size = self.hparams["inner_batch"]
        size = n if size == 0 else min(size, n)
        steps = self.hparams["inner_steps"]
        return torch.rand(tasks, steps, n, device=self.device).argsort(-1)[..., :size]

    # --- the interface -------------------------------------------------------
    def meta_train(self, episodes) -> StepStats:
        self.backbone.train()
        self.optimizer.zero_grad(set_to_none=True)
        parameters = dict(self.backbone.named_parameters())
        params = {n: p.detach() for n, p in parameters.items()}
        batch = inner.stack_episodes(episodes, self.prepare) if inner.vectorising(self.hparams, self.device) else None
        chunks = self.planner.passes(batch, self.hparams["tasks_per_pass"]) if batch is not None else None
        total = len(episodes)
        loss_sum, acc_sum = 0.0, 0.0
        with torch.no_grad():  # no outer gradient; torch.func.grad inside still trains each task
            if chunks is not None:
                for chunk in chunks:
                    self.between_episodes()
                    images = torch.cat([chunk.support_x, chunk.query_x], 1)
                    labels = torch.cat([chunk.support_y, chunk.query_y], 1)
                    batches = self._minibatches(len(chunk), images.shape[1])
                    task = lambda sx, sy, x, y, b: self._train_task(params, sx, sy, x, y, b, chunk.ways)  # noqa: E731
                    trained, _, losses, accs = vmap(task)(chunk.support_x, chunk.support_y, images, labels, batches)
                    self.check_finite(losses.sum())
                    # theta - mean(phi), weighted by the chunk's share of the meta-batch.
                    inner.accumulate_grads(parameters, {n: params[n] - trained[n].mean(0) for n in params}, len(chunk) / total)
                    loss_sum += losses.sum().item()
                    acc_sum += accs.sum().item()
            else:
                for episode in episodes:
                    self.between_episodes()
                    sx, qx = self.prepare(episode.support_x), self.prepare(episode.query_x)
                    images, labels = torch.cat([sx, qx]), torch.cat([episode.support_y, episode.query_y])
                    batches = self._minibatches(1, len(images))[0]
                    trained, _, loss, acc = self._train_task(params, sx, episode.support_y, images, labels, batches, episode.ways)
                    self.check_finite(loss)
                    inner.accumulate_grads(parameters, {n: params[n] - trained[n] for n in params}, 1.0 / total)
                    loss_sum += loss.item()
                    acc_sum += acc.item()
        self.optimizer.step()
        if self.scheduler:
            self.scheduler.step()
        return StepStats(loss_sum / total, acc_sum / total)

    def adapt(self, support_x, support_y, ways) -> FastWeightsClassifier:
        self.backbone.train()  # batch norm runs on the support statistics, never the running ones
        params = {n: p.detach() for n, p in self.backbone.named_parameters()}
        support_x, support_y = self.prepare(support_x), support_y.to(self.device)
        every = torch.arange(len(support_x), device=self.device)
        batches = every[None, :].expand(self.hparams["eval_inner_steps"], -1)
        with torch.no_grad():
            trained, head, _, _ = self._train_task(params, support_x, support_y, support_x, support_y, batches, ways)
            _, stats = self.functional(trained, support_x)
        return FastWeightsClassifier.adapted(self, self.backbone, trained, stats, head)
