"""Every registered algorithm, through the one interface, on tiny real-image episodes."""

import pytest
import torch

from workbench import catalogue
from workbench.algorithms import registry
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.errors import ConfigError

ALGORITHMS = sorted(catalogue.available())
# Small but real: enough steps for the loss to fall on glyph classes.
FAST = {
    "maml": {"first_order": True},
    # The glyphs move anywhere on the canvas; the paper's embedding keeps 5x5 maps, where matching a glyph
    # that moved takes longer than 40 steps to learn. Conv4 pools to 1x1 (translation-invariant).
    "relation": {"backbone": "conv4"},
    # Fewer unrolled updates than the paper's 12 (its 5-shot setting uses 5): the test budget is 40 meta-updates on a CPU.
    # Half the filters: its LSTM runs once per learner weight, so a quarter of the weights is 4x faster.
    "meta_lstm": {"inner_steps": 3, "eval_inner_steps": 3, "filters": 16},
    # A smaller controller and memory than the paper's 200 units x 128 rows: enough for 5-way sequences, faster.
    "mann": {"controller_size": 64, "memory_rows": 32},
    # Fewer inner steps than the paper's 5 and a shorter fine-tune at adapt: the same updates, cheaper.
    "reptile": {"inner_steps": 3, "eval_inner_steps": 10},
    # RL²'s loss is its regret per trial. 40 updates are too few for the bandit to learn 5-way glyphs from rewards
    # (tests/core/test_rl2.py checks that on a toy task); the active agent, with a small entropy bonus, learns in them
    # that asking beats guessing (the default bonus keeps it guessing longer, to learn labels: tests/core/test_rl2.py).
    "rl2": {"task": "active", "entropy_weight": 0.01},
}


@pytest.fixture(scope="module")
def sampler_factory(glyphs_shared):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    views = class_views(list(range(cache.num_classes)), False)
    return lambda seed=0, ways=5, shots=1: EpisodeSampler(cache, views, ways, shots, 4, seed=seed)


def make(name, **hp):
    return catalogue.get(name)(1, 28, {**FAST.get(name, {}), **hp}, "cpu", "fp32")


def test_registry_lists_protonet_and_maml_with_hyperparameters():
    for name in ("protonet", "maml"):
        described = registry.describe(catalogue.get(name))
        assert described["hyperparameters"]
        for hp in described["hyperparameters"]:
            assert {"name", "type", "default", "help"} <= set(hp)
    assert any(hp["name"] == "first_order" for hp in registry.describe(catalogue.get("maml"))["hyperparameters"])


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.slow
def test_loss_falls_on_a_learnable_task(name, sampler_factory):
    torch.manual_seed(0)
    algorithm = make(name)
    sampler = sampler_factory(seed=1)
    losses = [algorithm.meta_train([sampler.sample() for _ in range(2)]).loss for _ in range(40)]
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:10]) / 10


@pytest.mark.parametrize("name", ALGORITHMS)
@pytest.mark.parametrize("ways, shots", [(2, 1), (7, 3)])
def test_adapt_gives_probabilities_for_any_ways_and_shots(name, ways, shots, sampler_factory):
    algorithm = make(name)
    episode = sampler_factory(seed=2, ways=ways, shots=shots).sample()
    # Uneven shots: drop one support image of the last class when there are several.
    keep = len(episode.support_y) - (1 if shots > 1 else 0)
    probs = algorithm.adapt(episode.support_x[:keep], episode.support_y[:keep], ways).predict_proba(episode.query_x)
    assert probs.shape == (len(episode.query_x), ways)
    assert torch.allclose(probs.sum(1), torch.ones(len(probs)), atol=1e-5)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_a_prediction_does_not_depend_on_the_other_queries(name, sampler_factory):
    algorithm = make(name)
    algorithm.train_mode(False)
    episode = sampler_factory(seed=3).sample()
    predictor = algorithm.adapt(episode.support_x, episode.support_y, 5)
    together = predictor.predict_proba(episode.query_x)
    alone = predictor.predict_proba(episode.query_x[:1])
    assert torch.allclose(together[:1], alone, atol=1e-4)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_saved_and_loaded_weights_predict_the_same(name, sampler_factory):
    algorithm = make(name)
    sampler = sampler_factory(seed=4)
    for _ in range(3):
        algorithm.meta_train([sampler.sample()])
    algorithm.train_mode(False)
    episode = sampler.sample()
    before = algorithm.adapt(episode.support_x, episode.support_y, 5).predict_proba(episode.query_x)
    clone = make(name)
    clone.load_state_dict(algorithm.state_dict())
    clone.train_mode(False)
    after = clone.adapt(episode.support_x, episode.support_y, 5).predict_proba(episode.query_x)
    assert torch.allclose(before, after, atol=1e-5)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_out_of_range_hyperparameter_is_refused(name):
    cls = catalogue.get(name)
    numeric = next(p for p in cls.hyperparams if p.kind in ("int", "float") and p.maximum is not None)
    with pytest.raises(ConfigError, match=numeric.name):
        cls(1, 28, {numeric.name: numeric.maximum * 10 + 1})
    with pytest.raises(ConfigError, match="Unknown hyperparameter"):
        cls(1, 28, {"no_such_setting": 1})
