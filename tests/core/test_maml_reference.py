"""MAML's fast paths (plain autograd per task and in groups of tasks, batch norm folded into the query convolutions, pooling before
the ReLU) against a written-out reference of the same maths: same meta-gradient to float rounding."""

import pytest
import torch
import torch.nn.functional as F

from workbench import catalogue
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.models.conv4 import BN_EPS

from tests.core.test_gradient_family import assert_close, meta_gradient


@pytest.fixture(scope="module")
def episodes(glyphs_shared):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 3, 2, 3, seed=7)
    return [sampler.sample() for _ in range(3)]


def reference_features(p, x, stats, strided):
    """conv -> batch norm (x's own statistics, or the given ones) -> ReLU [-> max-pool], nothing folded."""
    used = []
    for i in range(4):
        h = F.conv2d(x, p[f"blocks.{i}.conv.weight"], p[f"blocks.{i}.conv.bias"], 2 if strided else 1, 1)
        mean, var = (h.mean((0, 2, 3)), h.var((0, 2, 3), unbiased=False)) if stats is None else stats[i]
        used.append((mean, var))
        h = (h - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + BN_EPS)
        h = h * p[f"blocks.{i}.norm.weight"][None, :, None, None] + p[f"blocks.{i}.norm.bias"][None, :, None, None]
        x = F.relu(h) if strided else F.max_pool2d(F.relu(h), 2)
    return x.flatten(1), used


def reference_meta_gradient(backbone, episodes, steps, lr, head_init, first_order):
    """Mean query loss over the tasks after `steps` SGD steps on the support set, differentiated with autograd."""
    strided = backbone == "conv4_strided"
    torch.manual_seed(0)  # the same start as meta_gradient's algorithm
    net = catalogue.get("maml")(1, 28, {"backbone": backbone}, "cpu", "fp32").backbone
    meta = {n: p.detach().clone().requires_grad_() for n, p in net.named_parameters()}
    total = {}
    for e in episodes:
        params = dict(meta)
        features, _ = reference_features(params, e.support_x, None, strided)
        hot = F.one_hot(e.support_y, e.ways).float()
        protos = hot.T @ features / hot.sum(0)[:, None]
        head = (2 * protos, -(protos**2).sum(1)) if head_init == "prototype" else (
            torch.zeros(e.ways, features.shape[1]), torch.zeros(e.ways))
        head = tuple(h + torch.zeros_like(h, requires_grad=True) for h in head)
        for _ in range(steps):
            features, _ = reference_features(params, e.support_x, None, strided)
            loss = F.cross_entropy(features @ head[0].T + head[1], e.support_y)
            names = list(params)
            grads = torch.autograd.grad(loss, [params[n] for n in names] + list(head), create_graph=not first_order)
            params = {n: params[n] - lr * g for n, g in zip(names, grads)}
            head = (head[0] - lr * grads[-2], head[1] - lr * grads[-1])
            if first_order:
                params = {n: t.detach().requires_grad_() for n, t in params.items()}
                head = tuple(h.detach().requires_grad_() for h in head)
        _, stats = reference_features(params, e.support_x, None, strided)
        if first_order:
            stats = [(m.detach(), v.detach()) for m, v in stats]
        query, _ = reference_features(params, e.query_x, stats, strided)
        query_loss = F.cross_entropy(query @ head[0].T + head[1], e.query_y) / len(episodes)
        inputs = list(params.values()) if first_order else list(meta.values())
        for name, g in zip(params, torch.autograd.grad(query_loss, inputs)):
            total[name] = total.get(name, 0.0) + g
    return total


@pytest.mark.parametrize("backbone", ["conv4", "conv4_strided"])
@pytest.mark.parametrize("first_order", [False, True])
@pytest.mark.parametrize("vectorise", ["off", "on", "groups"])
# At the start the prototype head already fits the support set, so the inner steps barely move its
# meta-gradient; the zero head's meta-gradient comes from the inner steps alone (an inner rate 2.5% off fails).
@pytest.mark.parametrize("head_init", ["prototype", "zero"])
def test_meta_gradient_equals_the_written_out_reference(backbone, first_order, vectorise, head_init, episodes):
    hp = {"backbone": backbone, "first_order": first_order, "inner_steps": 2, "inner_lr": 0.4, "head_init": head_init}
    fast, _, _ = meta_gradient("maml", episodes, vectorise=vectorise, **hp)
    assert_close(fast, reference_meta_gradient(backbone, episodes, 2, 0.4, head_init, first_order))


@pytest.mark.parametrize("backbone", ["conv4", "conv4_strided"])
def test_folded_batch_norm_gives_the_written_out_one_in_bf16_channels_last(backbone):
    torch.manual_seed(1)
    algorithm = catalogue.get("maml")(1, 28, {"backbone": backbone}, "cpu", "bf16")
    algorithm.use_channels_last()
    net = algorithm.backbone
    support, query = torch.rand(6, 1, 28, 28), torch.rand(9, 1, 28, 28)
    params = {n: p.detach() for n, p in net.named_parameters()}
    with torch.no_grad():
        _, stats = reference_features(params, support, None, backbone == "conv4_strided")
        expected, _ = reference_features(params, query, stats, backbone == "conv4_strided")
        with algorithm.autocast():
            got, _ = net.forward_with_stats(algorithm.prepare(query), stats)
    assert torch.allclose(got.float(), expected, atol=0.05 * expected.abs().max().item())


def test_one_channel_images_stay_channels_last_through_convolutions_with_plain_strides():
    # MAML's adapted weights (p - lr * g) lose the channels-last strides of a one-channel conv; the images'
    # explicit strides keep the convolution, and the max-pool after it, channels-last (20x faster on a CPU).
    algorithm = catalogue.get("maml")(1, 28, {}, "cpu", "bf16")
    algorithm.use_channels_last()
    x = algorithm.prepare(torch.rand(4, 1, 28, 28))
    out = F.conv2d(x, torch.randn(8, 1, 3, 3), padding=1)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
