"""conv4_strided (Finn et al. 2017's Omniglot network) for every algorithm that has a backbone setting."""

import pytest
import torch

from workbench import catalogue
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.models.backbones import make_backbone

from tests.core.test_gradient_family import assert_close, meta_gradient

WITH_BACKBONE = sorted(
    name for name, cls in catalogue.available().items()
    if any(p.name == "backbone" and "conv4_strided" in p.choices for p in cls.hyperparams)
)


@pytest.fixture(scope="module")
def episodes(glyphs_shared):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 3, 1, 2, seed=5)
    return [sampler.sample() for _ in range(3)]


def test_the_network_is_four_strided_convolutions_without_pooling():
    net = make_backbone("conv4_strided", 1, 28)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(64, (3, 3), (2, 2))] * 4
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    with torch.no_grad():
        assert net.feature_maps(torch.rand(2, 1, 28, 28)).shape == (2, 64, 2, 2)
    assert net.feature_dim == 256
    # Its batch norm with the batch's own statistics is the module's own training-mode forward.
    x = torch.rand(6, 1, 28, 28)
    features, stats = net.forward_with_stats(x)
    assert torch.allclose(features, net.train()(x), atol=1e-5) and len(stats) == 4


def test_every_algorithm_with_a_backbone_offers_it():
    expected = {"protonet", "matching", "relation", "siamese", "baseline", "baseline_pp", "simpleshot",
                "maml", "anil", "metasgd", "reptile", "mann", "leo", "example_cosine"}
    assert expected <= set(WITH_BACKBONE)


@pytest.mark.parametrize("name", WITH_BACKBONE)
def test_trains_a_step_and_adapts(name, episodes):
    torch.manual_seed(0)
    hp = {"backbone": "conv4_strided"}
    algorithm = catalogue.get(name)(1, 28, hp, "cpu", "fp32")
    before = {n: p.detach().clone() for m in algorithm.modules().values() for n, p in m.named_parameters()}
    stats = algorithm.meta_train(episodes[:2])
    assert stats.loss == stats.loss and 0 <= stats.accuracy <= 1
    moved = [n for m in algorithm.modules().values() for n, p in m.named_parameters() if not torch.equal(p, before[n])]
    assert moved, "one meta-update changed no weight"
    episode = episodes[2]
    probs = algorithm.adapt(episode.support_x, episode.support_y, episode.ways).predict_proba(episode.query_x)
    assert probs.shape == (len(episode.query_x), episode.ways)
    assert torch.allclose(probs.float().sum(1), torch.ones(len(probs)), atol=1e-4)


@pytest.mark.parametrize("first_order", [False, True])
def test_maml_vectorised_equals_the_loop_on_the_strided_network(first_order, episodes):
    hp = {"backbone": "conv4_strided", "first_order": first_order, "inner_steps": 2}
    vectorised, _, _ = meta_gradient("maml", episodes, vectorise=True, **hp)
    loop, _, _ = meta_gradient("maml", episodes, vectorise=False, **hp)
    assert_close(vectorised, loop)


def test_second_order_maml_differentiates_through_the_support_statistics(episodes):
    second, _, _ = meta_gradient("maml", episodes, backbone="conv4_strided", vectorise=False)
    first, _, _ = meta_gradient("maml", episodes, backbone="conv4_strided", first_order=True, vectorise=False)
    differs = max((second[n] - first[n]).abs().max().item() / (second[n].abs().max().item() + 1e-12) for n in second)
    assert differs > 1e-3  # the second-order terms (through the inner step and the statistics) are there
