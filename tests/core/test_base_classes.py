"""Baseline, Baseline++ and SimpleShot: a whole-base-class classifier learned from episodes' class names."""

import pytest
import torch

from workbench import catalogue
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import SplitSpec, class_views
from workbench.errors import ConfigError
from workbench.atomic import save_torch_atomic
from workbench.runs.folder import safe_torch_load
from workbench.runs.config import RunConfig
from workbench.training.control import RunControl
from workbench.training.events import TrainStep
from workbench.training.runner import train_run


@pytest.fixture(scope="module")
def sampler(glyphs_shared):
    cache = build_cache(scan_datasets([glyphs_shared]), 28, 1)
    views = class_views(list(range(cache.num_classes)), True)  # rotations: a rotated class is a class of its own
    return EpisodeSampler(cache, views, 5, 1, 3, seed=0)


def test_classes_get_stable_rows_that_survive_a_saved_file(sampler, tmp_path):
    algorithm = catalogue.get("baseline")(1, 28, {}, "cpu")
    first = sampler.sample()
    algorithm.meta_train([first])
    rows = {name: algorithm.classifier.class_names.index(name) for name in first.class_names}
    assert list(rows.values()) == [0, 1, 2, 3, 4]
    for _ in range(3):
        algorithm.meta_train([sampler.sample()])
    names = algorithm.classifier.class_names
    assert len(names) == len(set(names)) > 5
    assert {name: names.index(name) for name in first.class_names} == rows  # old classes keep their rows

    save_torch_atomic(tmp_path / "model.pt", algorithm.state_dict())
    clone = catalogue.get("baseline")(1, 28, {}, "cpu")
    clone.load_state_dict(safe_torch_load(tmp_path / "model.pt"))  # weights_only: names are plain strings
    assert clone.classifier.class_names == names
    episode = sampler.sample()
    algorithm.train_mode(False), clone.train_mode(False)
    with torch.no_grad():
        features = algorithm.backbone(episode.query_x)
        assert torch.equal(algorithm.classifier(features), clone.classifier(clone.backbone(episode.query_x)))


def test_more_classes_than_the_classifier_holds_are_refused_with_a_message(sampler):
    algorithm = catalogue.get("baseline_pp")(1, 28, {"max_classes": 6}, "cpu")
    algorithm.meta_train([sampler.sample()])
    with pytest.raises(ConfigError, match="max_classes"):
        for _ in range(20):
            algorithm.meta_train([sampler.sample()])


def test_simpleshot_centres_with_the_mean_training_feature(sampler):
    algorithm = catalogue.get("simpleshot")(1, 28, {}, "cpu")
    assert torch.count_nonzero(algorithm.feature_mean.mean) == 0
    algorithm.meta_train([sampler.sample()])
    assert torch.count_nonzero(algorithm.feature_mean.mean) > 0 and int(algorithm.feature_mean.updates) == 1


@pytest.mark.parametrize("name", ["baseline"])
def test_a_resumed_run_continues_as_if_never_stopped(name, glyphs_shared, tmp_path):
    config = RunConfig(
        data=[str(glyphs_shared)], algorithm=name, ways=3, shots=1, queries=2, steps=8, val_every=4, val_episodes=2,
        checkpoint_every=4, split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)), precision="fp32",
    )
    whole = [e.loss for e in train_run(config, tmp_path / "whole") if isinstance(e, TrainStep)]
    control = RunControl()
    for event in train_run(config, tmp_path / "parts", control):
        if isinstance(event, TrainStep) and event.step == 4:
            control.cancel()
    resumed = [e.loss for e in train_run(config, tmp_path / "parts", resume=True) if isinstance(e, TrainStep)]
    # Had the resumed run forgotten which class is which row, its losses would differ.
    assert resumed == pytest.approx(whole[4:], rel=1e-4, abs=1e-5)
