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

Speed: on a GPU a meta-batch whose episodes share one shape (ways, shots,
queries) is meta-trained in one vectorised pass: the per-task inner loop and
query loss are written with torch.func (functional_call + grad) and mapped over
the tasks with vmap, and the meta-gradient is one torch.func.grad of the mean
query loss. On a CPU the tasks run in groups, stacked along the channels so that
each layer is one grouped convolution, on plain autograd (`vectorise=groups`,
models/task_groups.py). `tasks_per_pass` splits the meta-batch into passes or
groups whose gradients add up; pause and cancel are answered between them.
`vectorise=off` runs the same per-task function one task at a time (see
`_inner_loop.GradientMetaLearner`).
Paper, Omniglot 5-way 1-shot: 98.7% (Conv4, 28x28, 60k meta-updates of 32 tasks).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch.func import grad, vmap

from workbench.algorithms import _inner_loop as inner
from workbench.algorithms._backbone import backbone_choice
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register


@register
class MAML(inner.BackboneMetaLearner):
    name = "maml"
    title = "MAML"
    summary = "Meta-learn an initialisation that adapts in a few gradient steps (Finn et al. 2017)."
    hyperparams = (
        *inner.gradient_hyperparams(backbone_choice("conv4", "Feature network.", functional=True)),
        HyperParam("first_order", "bool", False, "Ignore second-order terms (first-order MAML): faster, less memory."),
    )

    def make_loop(self, meta, ways: int, steps: int) -> inner.InnerLoop:
        return inner.InnerLoop(self.functional, ways, steps, self.hparams["head_init"], inner.sgd_step(self.hparams["inner_lr"]))

    def chunk_grads(self, meta, chunk: inner.TaskBatch, batched: bool = True):
        if self.hparams["first_order"]:
            return first_order_grads(self, meta, chunk, batched)
        return super().chunk_grads(meta, chunk, batched)

    def pixels_per_group(self) -> int:
        # First order keeps no graph through the inner step, and measured ~10% faster in groups half as large
        # (8 strided-Conv4 tasks instead of 16); second order the other way round (benchmarks/maml_profile.py).
        return super().pixels_per_group() // (2 if self.hparams["first_order"] else 1)

    def group_grads(self, meta, batch: inner.TaskBatch, grouped: inner.GroupedBackbone):
        if self.hparams["first_order"]:
            return first_order_group_grads(self, meta, batch, grouped)
        return super().group_grads(meta, batch, grouped)


def first_order_group_grads(learner: inner.GradientMetaLearner, meta, batch: inner.TaskBatch, grouped: inner.GroupedBackbone):
    """first_order_grads for a group of tasks in grouped convolutions: each task's query-loss gradient at its
    adapted weights, summed over the group (the caller weighs by the meta-batch)."""
    loop = replace(learner.make_loop(meta, batch.ways, learner.hparams["inner_steps"]), features=grouped,
                   on_step=learner.between_steps, grad=inner.autograd_grad(create_graph=False))
    start = {n: t.expand(len(batch), *t.shape) for n, t in meta["backbone"].items()}
    with torch.no_grad():  # the inner gradients are still taken (autograd_grad enables grad inside)
        adapted, head, stats = loop.run(start, batch.support_x, batch.support_y)
    fast = {n: t.detach().requires_grad_() for n, t in adapted.items()}
    with torch.enable_grad():
        loss, logits = inner.query_loss(grouped, fast, inner.detach_tree(head), inner.detach_tree(stats),
                                        batch.query_x, batch.query_y)
    per_task = inner.leaf_grads(loss, {"b": fast})["b"]
    return {"backbone": {n: g.sum(0) for n, g in per_task.items()}}, (loss.detach(), logits.detach())


def first_order_grads(learner: inner.GradientMetaLearner, meta, chunk: inner.TaskBatch, batched: bool = True):
    """First-order MAML: the query-loss gradient at each task's adapted weights, averaged over tasks.

    The inner loop runs without an outer graph; head and statistics are constants.
    batched=False: one task, no task dimension.
    """
    loop = replace(learner.make_loop(meta, chunk.ways, learner.hparams["inner_steps"]), on_step=learner.between_steps)
    if not batched:  # one task: plain autograd, faster than torch.func one task at a time (see _inner_loop.autograd_grad)
        with torch.no_grad():  # the inner gradients are still taken (autograd_grad enables grad inside)
            adapted, head, stats = replace(loop, grad=inner.autograd_grad(create_graph=False)).run(
                meta["backbone"], chunk.support_x, chunk.support_y)
        fast = {n: t.detach().requires_grad_() for n, t in adapted.items()}
        with torch.enable_grad():
            loss, logits = inner.query_loss(learner.functional, fast, inner.detach_tree(head), inner.detach_tree(stats),
                                            chunk.query_x, chunk.query_y)
        return {"backbone": inner.leaf_grads(loss, {"b": fast})["b"]}, (loss.detach(), logits.detach())
    run = vmap(loop.run, in_dims=(None, 0, 0))
    with torch.no_grad():  # torch.func.grad inside still differentiates the inner steps
        adapted, heads, stats = run(meta["backbone"], chunk.support_x, chunk.support_y)

    def task(a, h, s, qx, qy):
        return inner.query_loss(learner.functional, a, h, s, qx, qy)

    def objective(fast):
        losses, logits = vmap(task)(fast, heads, stats, chunk.query_x, chunk.query_y)
        # A sum, so that each task's slice of the gradient is that task's own gradient.
        return losses.sum(), (losses.detach(), logits.detach())

    per_task, aux = grad(objective, has_aux=True)(adapted)
    return {"backbone": {n: g.mean(0) for n, g in per_task.items()}}, aux
