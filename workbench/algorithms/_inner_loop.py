"""The functional inner loop shared by the gradient-based family (MAML, Meta-SGD, ANIL, Reptile).

Everything here is a pure function of explicit weights (dicts of tensors), written
with torch.func (`functional_call`, `grad`), so the same code runs for one task,
under `torch.func.vmap` for a whole meta-batch of tasks in one pass, and with a
leading task dimension for a group of tasks in grouped convolutions (`GroupedBackbone`).

Conventions shared by the family:
- The backbone is normalised with the support set's batch-norm statistics, for
  the support and the query passes alike (`Conv4.forward_with_stats`), so one
  query's prediction never depends on the other queries.
- The per-task linear head starts from the class prototypes of the support set
  (W = 2p, b = -|p|^2, Triantafillou et al. 2020) or from zeros, so any number
  of ways and shots works.
- Everything that runs under vmap avoids in-place ops and data-dependent shapes
  (the heads of heads.py are written so).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator

import torch
from torch import nn
from torch.func import functional_call, grad, grad_and_value, vmap
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from workbench.algorithms._backbone import build_backbone
from workbench.algorithms.base import Algorithm, StepStats
from workbench.algorithms.classifiers import FastWeightsClassifier
from workbench.algorithms.heads import Head, head_logits, initial_head, one_hot, task_loss
from workbench.algorithms.heads import class_prototypes as prototypes
from workbench.algorithms.inner_loop_settings import BATCHING_PARAMS, gradient_hyperparams  # noqa: F401  (re-exported)
from workbench.algorithms.task_batches import (  # noqa: F401  (re-exported: the family's modules read them as inner.*)
    PassPlanner, TaskBatch, accumulate_grads, same_shape_groups, stack_episodes)
from workbench.data.episode import Episode
from workbench.models.task_groups import PIXELS_PER_GROUP, stack_tasks, tasks_per_group

Params = dict[str, torch.Tensor]
Stats = list[tuple[torch.Tensor, torch.Tensor]]


class FunctionalBackbone:
    """Calls a backbone's `forward_with_stats` under weights given as a dict.

    `features(params, x, stats)` -> (float features, statistics used); with
    stats=None the batch norm uses x's own statistics (the support pass).
    """

    def __init__(self, backbone: nn.Module, autocast: Callable) -> None:
        self.backbone = backbone
        self._wrapper = _StatsForward(backbone)
        self._autocast = autocast

    def initial_params(self) -> Params:
        return dict(self.backbone.named_parameters())

    def __call__(self, params: Params, x: torch.Tensor, stats: Stats | None = None) -> tuple[torch.Tensor, Stats]:
        renamed = {f"net.{name}": value for name, value in params.items()}
        with self._autocast():
            # strict=False: the running-statistics buffers are not passed (forward_with_stats never reads them).
            features, used = functional_call(self._wrapper, renamed, (x, stats), strict=False)
        return features.float(), used


class _StatsForward(nn.Module):
    """Wraps a backbone so functional_call reaches its `forward_with_stats`."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x, stats):
        return self.net.forward_with_stats(x, stats)


class GroupedBackbone:
    """FunctionalBackbone for a group of tasks at once: weights with a leading task dimension (T, ...),
    images (T, n, C, H, W), features (T, n, D). The tasks run as the groups of grouped convolutions
    (models/task_groups.py), on plain autograd: on a CPU that beat both the per-task loop and vmap."""

    def __init__(self, backbone: nn.Module, autocast: Callable, channels_last: bool) -> None:
        self.backbone = backbone
        self._autocast = autocast
        self._channels_last = channels_last

    def group_size(self, query_shape: torch.Size, tasks: int, budget: int) -> int:
        return tasks_per_group(query_shape, self.backbone.first_stride, tasks, budget)

    def __call__(self, params: Params, x: torch.Tensor, stats: Stats | None = None) -> tuple[torch.Tensor, Stats]:
        tasks = x.shape[0]
        with self._autocast():
            features, used = self.backbone.grouped_forward_with_stats(params, stack_tasks(x, self._channels_last), stats, tasks)
        return features.float(), used


def groupable(backbone: nn.Module) -> bool:
    return hasattr(backbone, "grouped_forward_with_stats")


def detach_tree(tree):
    return torch.utils._pytree.tree_map(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, tree)


def vectorising(hparams: dict, device: torch.device) -> bool:
    """Whether a meta-batch goes through the vectorised pass, per the `vectorise` setting.

    auto vectorises only on a GPU, which gains from the one big pass. On a CPU a vmapped pass over a
    whole meta-batch streams activations hundreds of MB large and measured 2.4x slower than the
    per-task loop (benchmarks/maml_throughput.py); there auto takes groups of tasks (`grouping`).
    """
    setting = hparams["vectorise"]
    return setting == "on" or (setting == "auto" and device.type == "cuda")


def grouping(hparams: dict, device: torch.device, backbone: nn.Module) -> bool:
    """Whether a meta-batch runs as groups of tasks in grouped convolutions (`vectorise` groups, and auto on
    a CPU, where it measured faster than the per-task loop: benchmarks/maml_profile.py); only backbones
    that offer `grouped_forward_with_stats` (the Conv4s), others loop."""
    setting = hparams["vectorise"]
    return groupable(backbone) and (setting == "groups" or (setting == "auto" and device.type != "cuda"))


# --- the inner loop --------------------------------------------------------
@dataclass(frozen=True)
class InnerLoop:
    """How a task is adapted: steps, head start, and the step rule.

    `step(params, head, grads_params, grads_head)` -> (params, head) applies one
    update (plain SGD for MAML, learned per-parameter rates for Meta-SGD).
    With adapt_backbone=False only the head moves (ANIL) and the support
    features are computed once.
    """

    features: FunctionalBackbone
    ways: int
    steps: int
    head_init: str
    step: Callable
    adapt_backbone: bool = True
    # Called before every inner step: a long inner loop answers pause and cancel too.
    on_step: Callable[[], None] = lambda: None
    # How the inner gradients are taken: torch.func.grad (composes with vmap and an outer torch.func.grad),
    # or `autograd_grad` for one task at a time (the per-task loop, see there).
    grad: Callable = grad

    def run(self, params: Params, support_x: torch.Tensor, support_y: torch.Tensor) -> tuple[Params, Head, Stats]:
        """Adapt to one task's support set: adapted weights, adapted head, support BN statistics.

        Differentiable with respect to `params` (second order) when called under
        an outer torch.func.grad or autograd; runs unbatched or under vmap.
        """
        if not self.adapt_backbone:
            return self._run_head_only(params, support_x, support_y)

        # Step 0: the head is a function of the backbone (prototypes), so the backbone's gradient
        # is the total derivative, through the features and through the head. The head's own
        # gradient is taken through a zero offset added to it.
        def first_loss(p, offset):
            features, _ = self.features(p, support_x)
            w, b = initial_head(features, support_y, self.ways, self.head_init)
            head = (w + offset[0], b + offset[1])
            return task_loss(head_logits(features, head), support_y), head

        def loss(p, head):
            features, _ = self.features(p, support_x)
            return task_loss(head_logits(features, head), support_y)

        if self.steps == 0:
            features, stats = self.features(params, support_x)
            return params, initial_head(features, support_y, self.ways, self.head_init), stats
        offset = _zero_head(params, support_y.shape[:-1], self.ways, self.features.backbone.feature_dim)
        self.on_step()
        (g_params, g_head), head = self.grad(first_loss, argnums=(0, 1), has_aux=True)(params, offset)
        params, head = self.step(params, head, g_params, g_head)
        for _ in range(self.steps - 1):
            self.on_step()
            g_params, g_head = self.grad(loss, argnums=(0, 1))(params, head)
            params, head = self.step(params, head, g_params, g_head)
        _, stats = self.features(params, support_x)
        return params, head, stats

    def _run_head_only(self, params, support_x, support_y):
        features, stats = self.features(params, support_x)
        head = initial_head(features, support_y, self.ways, self.head_init)

        def loss(h):
            return task_loss(head_logits(features, h), support_y)

        for _ in range(self.steps):
            self.on_step()
            g_head = self.grad(loss)(head)
            params, head = self.step(params, head, None, g_head)
        return params, head, stats


def autograd_grad(create_graph: bool) -> Callable:
    """torch.func.grad's interface (argnums, has_aux, pytrees of tensors) on plain autograd, for one task.

    The per-task loop's inner and outer gradients are the same maths either way, but torch.func's
    transforms wrap every operator of the double backward, which measured slower than plain autograd
    on a CPU (benchmarks/maml_profile.py). create_graph=True keeps the graph through the step (second
    order); False detaches the differentiated inputs first (first order: nothing flows back past them).
    """

    def transform(fn: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

        def leaf(t: torch.Tensor) -> torch.Tensor:
            return t if create_graph and t.requires_grad else t.detach().requires_grad_()

        def wrapped(*args):
            args = list(args)
            with torch.enable_grad():
                for i in nums:
                    args[i] = tree_map(leaf, args[i])
                out = fn(*args)
                value, aux = out if has_aux else (out, None)
                flat, specs = zip(*(tree_flatten(args[i]) for i in nums))
                inputs = [t for group in flat for t in group]
                found = torch.autograd.grad(value, inputs, create_graph=create_graph, allow_unused=True)
            found = [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, found)]
            grads, start = [], 0
            for group, spec in zip(flat, specs):
                grads.append(tree_unflatten(found[start:start + len(group)], spec))
                start += len(group)
            result = grads[0] if isinstance(argnums, int) else tuple(grads)
            return (result, aux) if has_aux else result

        return wrapped

    return transform


def _zero_head(params: Params, tasks: torch.Size, ways: int, dim: int) -> Head:
    like = next(iter(params.values()))
    return like.new_zeros(*tasks, ways, dim, dtype=torch.float32), like.new_zeros(*tasks, ways, dtype=torch.float32)


def sgd_step(lr: float) -> Callable:
    """Plain SGD on backbone and head (MAML's inner update)."""

    def step(params, head, g_params, g_head):
        if g_params is not None:
            params = {n: p - lr * g_params[n] for n, p in params.items()}
        head = (head[0] - lr * g_head[0], head[1] - lr * g_head[1])
        return params, head

    return step


def query_loss(features: FunctionalBackbone, params: Params, head: Head, stats: Stats, query_x, query_y):
    """Query loss of an adapted task (batch norm with the support statistics) and its logits; for a group
    of tasks (a leading task dimension), the sum of their losses."""
    query_features, _ = features(params, query_x, stats)
    logits = head_logits(query_features, head)
    return task_loss(logits, query_y), logits


def leaf_grads(loss: torch.Tensor, leaves: dict[str, Params]) -> dict[str, Params]:
    """d loss / d each leaf, shaped like `leaves` (zeros for a leaf the loss does not use, as torch.func gives)."""
    flat = [(m, n, t) for m, group in leaves.items() for n, t in group.items()]
    found = torch.autograd.grad(loss, [t for _, _, t in flat], allow_unused=True)
    out: dict[str, Params] = {m: {} for m in leaves}
    for (m, n, t), g in zip(flat, found):
        out[m][n] = torch.zeros_like(t) if g is None else g
    return out


# --- the shared meta-training of MAML-like algorithms ------------------------------
Meta = dict[str, Params]  # module name -> that module's weights (the meta-parameters)


class GradientMetaLearner(Algorithm):
    """Base of the algorithms whose meta-gradient flows through an inner loop (MAML, Meta-SGD, ANIL).

    Subclasses set `self.backbone`, `self.optimizer` and `self.functional`, and say
    in `make_loop` how a task adapts given the meta-parameters. Meta-training is
    then shared, in one of three ways per the `vectorise` setting: one vectorised
    pass over the tasks (vmap of the per-task inner loop and query loss, one
    torch.func.grad for the meta-gradient) in chunks of `tasks_per_pass`, the GPU
    default; groups of tasks in grouped convolutions on plain autograd
    (`group_grads`), the CPU default; or the same per-task function one task at a
    time (`off`, and episodes of different shapes under vmap).
    """

    exportable = True  # adapt gives a FastWeightsClassifier

    @property
    def planner(self) -> PassPlanner:
        if "_planner" not in self.__dict__:
            self._planner = PassPlanner()
        return self._planner

    def make_loop(self, meta: Meta, ways: int, steps: int) -> InnerLoop:
        raise NotImplementedError

    def meta_parameters(self) -> dict[str, dict[str, nn.Parameter]]:
        return {name: dict(module.named_parameters()) for name, module in self.modules().items()}

    def meta_train(self, episodes: list[Episode]) -> StepStats:
        self.train_mode(True)
        self.optimizer.zero_grad(set_to_none=True)
        parameters = self.meta_parameters()
        meta = {m: {n: p.detach() for n, p in group.items()} for m, group in parameters.items()}
        batch = stack_episodes(episodes, self.prepare) if vectorising(self.hparams, self.device) else None
        if batch is not None:
            parts = self._vectorised_parts(meta, batch)
        elif grouping(self.hparams, self.device, self.functional.backbone):
            parts = self._group_parts(meta, episodes)
        else:
            parts = self._task_parts(meta, episodes)
        stats = self._add_up(parameters, parts, len(episodes))
        self.optimizer.step()
        return stats

    def _add_up(self, parameters: dict[str, dict[str, nn.Parameter]], parts: Iterator, tasks: int) -> StepStats:
        """Adds each part of a meta-batch into .grad, so that .grad ends as the meta-batch's mean; mean loss and accuracy.

        A part is (grads, scale, summed query loss of its tasks, logits, query labels): grads times scale is the
        gradient of that sum. Pause and cancel are answered before each part (the parts call between_episodes).
        """
        total_loss, correct, count = 0.0, 0, 0
        for grads, scale, loss, logits, query_y in parts:
            self.check_finite(loss)
            for m, group in parameters.items():
                accumulate_grads(group, grads[m], scale / tasks)
            total_loss += loss.item()
            correct += (logits.argmax(-1) == query_y).sum().item()
            count += query_y.numel()
        return StepStats(total_loss / tasks, correct / count)

    def _vectorised_parts(self, meta: Meta, batch: TaskBatch) -> Iterator:
        for chunk in self.planner.passes(batch, self.hparams["tasks_per_pass"]):
            self.between_episodes()
            grads, (losses, logits) = self.chunk_grads(meta, chunk)  # the gradient of the chunk's mean loss
            yield grads, len(chunk), losses.sum(), logits, chunk.query_y

    def _task_parts(self, meta: Meta, episodes: list[Episode]) -> Iterator:
        for episode in episodes:
            self.between_episodes()
            task = TaskBatch(self.prepare(episode.support_x), episode.support_y, self.prepare(episode.query_x), episode.query_y, episode.ways)
            grads, (loss, logits) = self.chunk_grads(meta, task, batched=False)
            yield grads, 1, loss, logits, episode.query_y

    def _group_parts(self, meta: Meta, episodes: list[Episode]) -> Iterator:
        grouped = GroupedBackbone(self.functional.backbone, self.autocast, self.channels_last)
        fixed = self.hparams["tasks_per_pass"]

        def size(first: Episode, left: int) -> int:
            return min(fixed, left) if fixed > 0 else grouped.group_size(first.query_x.shape, left, self.pixels_per_group())

        for group in same_shape_groups(episodes, size):
            self.between_episodes()
            batch = stack_episodes(group, self.prepare)
            grads, (loss, logits) = self.group_grads(meta, batch, grouped)  # the gradient of the group's summed loss
            yield grads, 1, loss, logits, batch.query_y

    def pixels_per_group(self) -> int:
        """The first-layer output pixels a group of tasks holds (models/task_groups.py)."""
        return PIXELS_PER_GROUP

    def group_grads(self, meta: Meta, batch: TaskBatch, grouped: GroupedBackbone):
        """The meta-gradient of the summed query losses of a group of tasks (second order), on plain autograd.

        Each task starts from its own view of the meta-weights (expanded along a task dimension), so the
        inner gradients are per task, and the meta-gradient sums over the tasks through the expansion.
        Returns (grads like meta, (summed loss, logits (T, queries, ways))).
        """
        leaves = {m: {n: t.detach().requires_grad_() for n, t in group.items()} for m, group in meta.items()}
        start = {n: t.expand(len(batch), *t.shape) for n, t in leaves["backbone"].items()}
        loop = replace(self.make_loop(leaves, batch.ways, self.hparams["inner_steps"]), features=grouped,
                       on_step=self.between_steps, grad=autograd_grad(create_graph=True))
        with torch.enable_grad():
            adapted, head, stats = loop.run(start, batch.support_x, batch.support_y)
            loss, logits = query_loss(grouped, adapted, head, stats, batch.query_x, batch.query_y)
        return leaf_grads(loss, leaves), (loss.detach(), logits.detach())

    def chunk_grads(self, meta: Meta, chunk: TaskBatch, batched: bool = True):
        """Meta-gradient of the mean query loss of the chunk's tasks, through the inner loop (second order).

        Returns (grads like meta, (per-task losses, logits)). batched=False: one task, no task dimension.
        """
        steps = self.hparams["inner_steps"]
        if not batched:
            return self._task_grads(meta, chunk, steps)

        def task(m, support_x, support_y, query_x, query_y):
            adapted, head, stats = replace(self.make_loop(m, chunk.ways, steps), on_step=self.between_steps).run(m["backbone"], support_x, support_y)
            return query_loss(self.functional, adapted, head, stats, query_x, query_y)

        mapped = vmap(task, in_dims=(None, 0, 0, 0, 0)) if batched else task

        def objective(m):
            losses, logits = mapped(m, chunk.support_x, chunk.support_y, chunk.query_x, chunk.query_y)
            return losses.mean(), (losses.detach(), logits.detach())

        return grad(objective, has_aux=True)(meta)

    def _task_grads(self, meta: Meta, task: TaskBatch, steps: int):
        """chunk_grads for one task on plain autograd (the per-task loop): the same meta-gradient as the
        torch.func pass (tests/core/test_gradient_family.py), which measured slower one task at a time."""
        leaves = {m: {n: t.detach().requires_grad_() for n, t in group.items()} for m, group in meta.items()}
        loop = replace(self.make_loop(leaves, task.ways, steps), on_step=self.between_steps, grad=autograd_grad(create_graph=True))
        with torch.enable_grad():
            adapted, head, stats = loop.run(leaves["backbone"], task.support_x, task.support_y)
            loss, logits = query_loss(self.functional, adapted, head, stats, task.query_x, task.query_y)
        return leaf_grads(loss, leaves), (loss.detach(), logits.detach())

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> FastWeightsClassifier:
        meta = {m: {n: p.detach() for n, p in group.items()} for m, group in self.meta_parameters().items()}
        support_y = support_y.to(self.device)
        loop = replace(self.make_loop(meta, ways, self.hparams["eval_inner_steps"]), on_step=self.between_steps,
                       grad=autograd_grad(create_graph=False))
        with torch.enable_grad():
            params, head, stats = detach_tree(loop.run(meta["backbone"], self.prepare(support_x), support_y))
        return FastWeightsClassifier.adapted(self, self.backbone, params, stats, head)


__all__ = [
    "BATCHING_PARAMS", "FunctionalBackbone", "GradientMetaLearner", "GroupedBackbone", "grouping", "Head", "PassPlanner", "InnerLoop", "TaskBatch", "accumulate_grads",
    "autograd_grad", "detach_tree", "grad", "grad_and_value", "gradient_hyperparams", "head_logits", "initial_head", "leaf_grads", "one_hot", "prototypes", "query_loss",
    "sgd_step", "stack_episodes", "vectorising",
]


class BackboneMetaLearner(GradientMetaLearner):
    """A gradient meta-learner whose meta-parameters are one backbone, meta-trained by Adam at
    `meta_lr` (MAML, ANIL): a subclass says only how a task adapts (`make_loop`)."""

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        self.optimizer = torch.optim.Adam(self.backbone.parameters(), lr=self.hparams["meta_lr"])
        self.functional = FunctionalBackbone(self.backbone, self.autocast)

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}
