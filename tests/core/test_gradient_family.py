"""The gradient-based family (MAML, Meta-SGD, ANIL, Reptile): the vectorised pass over a
meta-batch computes the same meta-update as the per-task loop, in chunks too."""

import pytest
import torch

from workbench import catalogue
from workbench.algorithms._inner_loop import grouping, vectorising
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views


@pytest.fixture(scope="module")
def episodes(glyphs_shared):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 3, 1, 2, seed=5)
    return [sampler.sample() for _ in range(3)]


def meta_update(name: str, episodes, **hparams):
    """The update one meta_train makes to every weight (identical start for every call)."""
    torch.manual_seed(0)
    algorithm = catalogue.get(name)(1, 28, hparams, "cpu", "fp32")
    calls = []
    algorithm.between_episodes = lambda: calls.append(1)
    before = {n: p.detach().clone() for m in algorithm.modules().values() for n, p in m.named_parameters()}
    stats = algorithm.meta_train(episodes)
    after = {n: p.detach() for m in algorithm.modules().values() for n, p in m.named_parameters()}
    return {n: after[n] - before[n] for n in before}, stats, len(calls)


def meta_gradient(name: str, episodes, **hparams):
    """The meta-gradient one meta_train leaves in .grad (the optimiser step made a no-op)."""
    torch.manual_seed(0)
    algorithm = catalogue.get(name)(1, 28, hparams, "cpu", "fp32")
    for optimizer in algorithm.optimizers().values():
        for group in optimizer.param_groups:
            group["lr"] = 0.0
    calls = []
    algorithm.between_episodes = lambda: calls.append(1)
    stats = algorithm.meta_train(episodes)
    grads = {n: p.grad.clone() for m in algorithm.modules().values() for n, p in m.named_parameters()}
    return grads, stats, len(calls)


def assert_close(a: dict, b: dict, rtol: float = 1e-4) -> None:
    scale = max(t.abs().max().item() for t in b.values())
    assert scale > 0
    for name in b:
        assert torch.allclose(a[name], b[name], atol=rtol * scale, rtol=1e-3), name


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_vectorised_meta_gradient_equals_the_per_task_loop(first_order, episodes):
    vectorised, stats_v, _ = meta_gradient("maml", episodes, first_order=first_order, inner_steps=2, vectorise=True)
    loop, stats_l, _ = meta_gradient("maml", episodes, first_order=first_order, inner_steps=2, vectorise=False)
    assert_close(vectorised, loop)
    assert stats_v.loss == pytest.approx(stats_l.loss, rel=1e-4)
    assert stats_v.accuracy == stats_l.accuracy


@pytest.mark.parametrize("name", ["metasgd", "anil"])
def test_vectorised_meta_gradient_equals_the_loop(name, episodes):
    vectorised, _, _ = meta_gradient(name, episodes, vectorise=True)
    loop, _, _ = meta_gradient(name, episodes, vectorise=False)
    assert_close(vectorised, loop)


def test_metasgd_learns_its_inner_learning_rates(episodes):
    grads, _, _ = meta_gradient("metasgd", episodes)
    rates = [g for n, g in grads.items() if n.startswith("rates.") or n.startswith("head_")]
    assert rates and all(torch.isfinite(g).all() for g in rates)
    assert sum(g.abs().sum().item() for g in rates) > 0


def test_anil_inner_loop_leaves_the_backbone_alone(episodes):
    algorithm = catalogue.get("anil")(1, 28, {"eval_inner_steps": 5}, "cpu", "fp32")
    meta = {m: {n: p.detach() for n, p in g.items()} for m, g in algorithm.meta_parameters().items()}
    episode = episodes[0]
    params, head, _ = algorithm.make_loop(meta, 3, 5).run(meta["backbone"], episode.support_x, episode.support_y)
    assert all(params[n] is meta["backbone"][n] for n in params)
    assert head[0].shape == (3, algorithm.backbone.feature_dim)


def test_reptile_vectorised_update_equals_the_loop(episodes):
    # Full-batch inner steps, so both paths see the same data whatever the random draws; SGD, since
    # Adam with beta1=0 turns rounding noise in zero gradients (conv biases before batch norm) into full steps.
    hp = {"inner_batch": 0, "inner_steps": 2, "inner_optimizer": "sgd", "inner_lr": 0.1}
    vectorised, _, _ = meta_update("reptile", episodes, vectorise=True, **hp)
    loop, _, _ = meta_update("reptile", episodes, vectorise=False, **hp)
    assert_close(vectorised, loop, rtol=1e-3)


@pytest.mark.parametrize("name", ["maml", "reptile"])
def test_chunks_add_up_to_the_whole_batch_and_answer_pause_between_them(name, episodes):
    # MAML: compare meta-gradients (Adam's first step turns rounding noise in zero gradients into full steps).
    measure = meta_update if name == "reptile" else meta_gradient
    hp = {"inner_batch": 0, "inner_steps": 1, "inner_optimizer": "sgd", "inner_lr": 0.1} if name == "reptile" else {"inner_steps": 1}
    hp["vectorise"] = "on"
    whole, _, calls_whole = measure(name, episodes, tasks_per_pass=len(episodes), **hp)
    chunked, _, calls_chunked = measure(name, episodes, tasks_per_pass=1, **hp)
    auto, _, calls_auto = measure(name, episodes, tasks_per_pass=0, **hp)
    assert_close(chunked, whole, rtol=1e-3)
    assert_close(auto, whole, rtol=1e-3)
    assert (calls_whole, calls_chunked) == (1, len(episodes))
    assert calls_auto >= 2  # auto starts with a one-task pass to measure the time per task


def test_episodes_of_different_shapes_fall_back_to_the_loop(glyphs_shared, episodes):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    other = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 2, 2, 1, seed=6).sample()
    update, stats, calls = meta_update("maml", [episodes[0], other], first_order=True, vectorise="on")
    assert calls == 2  # one pause point per episode: the loop ran
    assert 0.0 <= stats.accuracy <= 1.0 and all(torch.isfinite(u).all() for u in update.values())


def test_vectorise_auto_groups_tasks_on_a_cpu_and_vectorises_on_a_gpu(episodes):
    # On a CPU, groups of tasks in grouped convolutions measured fastest (benchmarks/maml_profile.py).
    _, _, calls_auto = meta_gradient("maml", episodes, tasks_per_pass=len(episodes))
    _, _, calls_off = meta_gradient("maml", episodes, tasks_per_pass=len(episodes), vectorise="off")
    assert (calls_auto, calls_off) == (1, len(episodes))
    assert vectorising({"vectorise": "auto"}, torch.device("cuda"))
    assert not vectorising({"vectorise": "off"}, torch.device("cuda"))
    conv4 = catalogue.get("maml")(1, 28, {}, "cpu", "fp32").backbone
    assert grouping({"vectorise": "auto"}, torch.device("cpu"), conv4)
    assert not grouping({"vectorise": "auto"}, torch.device("cuda"), conv4)
    # A backbone without a grouped forward loops.
    assert not grouping({"vectorise": "groups"}, torch.device("cpu"), torch.nn.Linear(2, 2))


@pytest.mark.parametrize("name, hp", [
    ("maml", {}), ("maml", {"first_order": True}), ("maml", {"inner_steps": 2, "head_init": "zero"}),
    ("maml", {"backbone": "conv4_strided", "first_order": True, "inner_steps": 2}), ("maml", {"backbone": "conv4_strided"}),
    ("metasgd", {}), ("anil", {}),
])
def test_task_groups_give_the_meta_gradient_of_the_per_task_loop(name, hp, episodes):
    grouped, stats_g, calls = meta_gradient(name, episodes, vectorise="groups", **hp)
    loop, stats_l, _ = meta_gradient(name, episodes, vectorise="off", **hp)
    assert_close(grouped, loop)
    assert stats_g.loss == pytest.approx(stats_l.loss, rel=1e-4)
    assert stats_g.accuracy == stats_l.accuracy
    assert calls == 1  # one group: the three small tasks fit the budget


def test_task_groups_split_by_shape_and_by_tasks_per_pass(glyphs_shared, episodes):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    other = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 2, 2, 1, seed=6).sample()
    mixed = [episodes[0], episodes[1], other, episodes[2]]
    grouped, stats, calls = meta_gradient("maml", mixed, vectorise="groups")
    loop, _, _ = meta_gradient("maml", mixed, vectorise="off")
    assert calls == 3  # runs of one shape: [e0, e1], [other], [e2]
    assert_close(grouped, loop)
    pairs, _, calls_pairs = meta_gradient("maml", episodes, vectorise="groups", tasks_per_pass=2)
    assert calls_pairs == 2
    assert_close(pairs, meta_gradient("maml", episodes, vectorise="off")[0])


@pytest.mark.parametrize("old, now", [(True, "on"), (False, "off"), ("false", "off")])
def test_run_folders_from_when_vectorise_was_true_or_false_still_load(old, now):
    assert catalogue.get("maml")(1, 28, {"vectorise": old}).hparams["vectorise"] == now
