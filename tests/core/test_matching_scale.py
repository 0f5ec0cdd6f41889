"""Matching Networks' cosine scale: the paper's unscaled attention caps confidence; a learned scale lifts the cap."""

import math

import torch

from workbench import catalogue
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views

# Best case for 5 ways, 1 shot: cosine 1 to the right support image, -1 to the other four.
PAPER_CAP = math.e / (math.e + 4 / math.e)


def sampler(glyphs_dir, seed):
    cache = build_cache(scan_datasets([glyphs_dir]), 28, 1)
    return EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 5, 1, 4, seed=seed)


def make(**hp):
    return catalogue.get("matching")(1, 28, hp, "cpu", "fp32")


def top_confidence(algorithm, episode):
    algorithm.train_mode(False)
    return algorithm.adapt(episode.support_x, episode.support_y, 5).predict_proba(episode.query_x).max().item()


def test_the_papers_attention_is_never_more_confident_than_its_cap(glyphs_shared):
    torch.manual_seed(0)
    episodes = sampler(glyphs_shared, seed=1)
    algorithm = make()
    for _ in range(10):
        algorithm.meta_train([episodes.sample()])
    assert top_confidence(algorithm, episodes.sample()) <= PAPER_CAP + 1e-4


def test_a_learned_scale_trains_is_saved_and_lifts_the_cap(glyphs_shared):
    torch.manual_seed(0)
    episodes = sampler(glyphs_shared, seed=2)
    algorithm = make(learn_scale=True, cosine_scale=10.0)
    assert "scale" in algorithm.state_dict()
    for _ in range(15):
        algorithm.meta_train([episodes.sample()])
    learned = algorithm.scale().item()
    assert learned != 10.0 and learned > 0
    episode = episodes.sample()
    assert top_confidence(algorithm, episode) > PAPER_CAP
    clone = make(learn_scale=True, cosine_scale=10.0)
    clone.load_state_dict(algorithm.state_dict())
    assert clone.scale().item() == learned


def test_a_run_saved_before_the_scale_existed_still_loads(glyphs_shared):
    old = make()
    state = old.state_dict()
    assert "scale" not in state
    make().load_state_dict(state)
