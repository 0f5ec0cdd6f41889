"""Splits never share a class; episodes are reproducible; each class rotates on its own."""

import pytest
import torch

from workbench.data.cache import build_cache
from workbench.data.augment import Augmentation
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import SplitSpec, class_views, split_classes
from workbench.errors import ConfigError, DataError
from tests.generators import return_value


@pytest.fixture
def cache(glyphs):
    return build_cache(scan_datasets([glyphs]), 28, 1)


def test_class_split_is_disjoint_complete_and_seeded(cache):
    split = split_classes(cache.class_keys, cache.class_groups, SplitSpec("class", 0.2, 0.3, seed=4))
    parts = [set(split.train), set(split.val), set(split.test)]
    assert sum(map(len, parts)) == cache.num_classes == len(set.union(*parts))
    assert len(split.test) == 4 and len(split.val) == 2
    again = split_classes(cache.class_keys, cache.class_groups, SplitSpec("class", 0.2, 0.3, seed=4))
    other = split_classes(cache.class_keys, cache.class_groups, SplitSpec("class", 0.2, 0.3, seed=5))
    assert again == split and other.test != split.test


def test_group_split_holds_out_whole_groups(cache):
    split = split_classes(cache.class_keys, cache.class_groups, SplitSpec("group", test_groups=("group_1",)))
    assert {cache.class_groups[c] for c in split.test} == {"group_1"}
    assert all(cache.class_groups[c] == "group_0" for c in split.train + split.val)
    with pytest.raises(ConfigError, match="Unknown group 'nope'"):
        split_classes(cache.class_keys, cache.class_groups, SplitSpec("group", test_groups=("nope",)))


def test_same_seed_same_episodes(cache):
    views = class_views(list(range(cache.num_classes)), False)
    a = EpisodeSampler(cache, views, 5, 2, 3, seed=7)
    b = EpisodeSampler(cache, views, 5, 2, 3, seed=7)
    for _ in range(3):
        ea, eb = a.sample(), b.sample()
        assert torch.equal(ea.support_x, eb.support_x) and ea.class_names == eb.class_names
    assert ea.support_x.shape == (10, 1, 28, 28) and ea.query_x.shape == (15, 1, 28, 28)
    assert ea.support_y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert 0.0 <= ea.support_x.min() and ea.support_x.max() <= 1.0


def test_sampler_state_restores_the_same_future(cache):
    views = class_views(list(range(cache.num_classes)), False)
    sampler = EpisodeSampler(cache, views, 3, 1, 1, seed=1)
    sampler.sample()
    state = sampler.state_dict()
    expected = sampler.sample()
    sampler.load_state_dict(state)
    assert sampler.sample().class_names == expected.class_names


def test_rotations_turn_each_class_by_its_own_angle(cache):
    views = class_views([0, 1, 2], rotations=True)
    assert len(views) == 12
    sampler = EpisodeSampler(cache, views, 8, 1, 1, seed=3)
    seen_turns = set()
    for _ in range(10):
        episode = sampler.sample()
        seen_turns.add(len(set(episode.class_turns)))
        for label, turns in enumerate(episode.class_turns):
            row = episode.support_rows[label]
            original = cache.images[row].float() / 255
            assert torch.equal(episode.support_x[label], torch.rot90(original, turns, dims=(-2, -1)))
    assert max(seen_turns) > 1  # one episode mixes different angles: a rotated class, not a rotated task


def test_too_few_images_and_classes_are_reported(cache):
    views = class_views(list(range(cache.num_classes)), False)
    with pytest.raises(DataError, match="fewer than the 5 ways"):
        EpisodeSampler(cache, views, 5, 5, 5, seed=0, part_name="train")  # 8 images < 10 needed
    sampler = EpisodeSampler(cache, views[:6], 2, 1, 1)
    assert sampler.problems == []


def test_augmentation_distorts_each_training_image_on_its_own_and_reproducibly(cache):
    views = class_views(list(range(cache.num_classes)), False)
    plain = EpisodeSampler(cache, views, 5, 1, 3, seed=7).sample()
    augmented = EpisodeSampler(cache, views, 5, 1, 3, seed=7, augmentation=Augmentation()).sample()
    again = EpisodeSampler(cache, views, 5, 1, 3, seed=7, augmentation=Augmentation()).sample()
    assert augmented.class_names == plain.class_names  # same classes and images, only distorted
    assert augmented.query_x.shape == plain.query_x.shape
    assert 0.0 <= augmented.query_x.min() and augmented.query_x.max() <= 1.0
    change = (augmented.query_x - plain.query_x).abs().flatten(1).mean(1)
    assert (change > 0.005).all()  # every image moved
    # One transform per image, not per task: the distortions differ between images of an episode.
    assert len(set(change.tolist())) == len(change)
    assert torch.equal(augmented.query_x, again.query_x)


def test_only_training_episodes_are_augmented(glyphs):
    from workbench.training.prepare_data import prepare_data
    from workbench.runs.config import RunConfig

    data = return_value(prepare_data(RunConfig(data=[str(glyphs)], augment=True, ways=3, queries=2)))
    assert data.train.augmentation is not None
    assert all(s is None or s.augmentation is None for s in (data.val, data.test))


def test_mirroring_makes_new_classes_shown_as_the_model_saw_them(cache):
    from workbench.data.views import describe, orient, orient_array

    views = class_views([0, 1], rotations=True, mirror=True)
    assert len(views) == 16 and len(set(views)) == 16  # 2 classes x 4 turns x 2 mirrors
    sampler = EpisodeSampler(cache, views, 16, 1, 1, seed=0)
    episode = sampler.sample()
    assert len(set(episode.class_names)) == 16
    assert any("mirror, rot 90" in name for name in episode.class_names)
    for label, view in enumerate(episode.class_turns):
        original = cache.images[episode.support_rows[label]].float().div(255.0)
        assert torch.equal(episode.support_x[label], orient(original, view))
        assert (orient_array(original.numpy(), view) == episode.support_x[label].numpy()).all()
    assert describe(5) == " (mirror, rot 90)" and describe(0) == ""


def test_group_episodes_draw_every_class_from_one_group(cache):
    views = class_views(list(range(cache.num_classes)), False)
    grouped = EpisodeSampler(cache, views, 4, 1, 1, seed=3, group_share=1.0)
    mixed = EpisodeSampler(cache, views, 4, 1, 1, seed=3, group_share=0.0)

    def groups_of(episode):
        return {name.split("/")[0] for name in episode.class_names}

    assert all(len(groups_of(grouped.sample())) == 1 for _ in range(20))
    assert any(len(groups_of(mixed.sample())) == 2 for _ in range(20))
    # Both groups are used, not always the first.
    assert {groups_of(grouped.sample()).pop() for _ in range(20)} == {"group_0", "group_1"}


def test_group_episodes_fall_back_to_all_classes_when_no_group_is_wide_enough(cache):
    views = class_views(list(range(cache.num_classes)), False)
    sampler = EpisodeSampler(cache, views, 8, 1, 1, seed=3, group_share=1.0)  # each group has 6 classes
    names = sampler.sample().class_names
    assert len({name.split("/")[0] for name in names}) == 2


def test_group_episodes_share_is_checked():
    from workbench.runs.config import RunConfig

    assert RunConfig(data=["x"], group_episodes=0.5).group_episodes == 0.5
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ConfigError, match="Group episodes must be a share from 0 to 1"):
            RunConfig(data=["x"], group_episodes=bad)


def test_group_episodes_are_saved_and_old_run_configs_read_as_without_them():
    import json

    from workbench.runs.config import RunConfig

    config = RunConfig(data=["x"], group_episodes=0.25)
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    old = config.to_dict()
    del old["group_episodes"]  # a run folder written before the setting existed trained without them
    assert RunConfig.from_dict(old).group_episodes == 0.0
    with pytest.raises(ConfigError, match="field 'group_episodes' must be a number"):
        RunConfig.from_dict({**config.to_dict(), "group_episodes": "half"})
