"""The real Omniglot background sets: combining both zips and holding out alphabets."""

import pytest

from tests.synthetic import OMNIGLOT
from workbench.data.cache import build_cache
from workbench.data.sources import scan_datasets
from workbench.data.splits import SplitSpec, split_classes

ZIPS = [OMNIGLOT / "images_background_small1.zip", OMNIGLOT / "images_background_small2.zip"]


@pytest.fixture(scope="module")
def omniglot_cache():
    if not all(z.exists() for z in ZIPS):
        pytest.skip(f"Omniglot zips not found under {OMNIGLOT} (../shared/data/omniglot is absent)")
    return build_cache(scan_datasets(ZIPS), 28, 1)


def test_both_zips_combine_into_242_characters_of_8_alphabets(omniglot_cache):
    assert omniglot_cache.num_classes == 242
    assert len(set(omniglot_cache.class_groups)) == 8
    assert omniglot_cache.images.shape == (4840, 1, 28, 28)
    assert not [p for p in omniglot_cache.problems if p.kind != "duplicate-class"]


def test_held_out_alphabets_never_reach_training(omniglot_cache):
    held = ("Japanese_(katakana)", "Sanskrit")
    split = split_classes(omniglot_cache.class_keys, omniglot_cache.class_groups, SplitSpec("group", test_groups=held))
    train_keys = {omniglot_cache.class_keys[c] for c in split.train + split.val}
    assert not any(k.split("/")[0] in held for k in train_keys)
    assert {omniglot_cache.class_groups[c] for c in split.test} == set(held)
    assert len(split.test) == 47 + 42  # katakana 47 characters, Sanskrit 42


def test_the_published_fixed_episodes_use_only_the_three_new_alphabets_of_small2():
    from workbench.data.episode_file import FixedEpisodes, read_episode_file

    path = OMNIGLOT / "test_episodes_small1_vs_small2.json"
    if not path.exists():
        pytest.skip(f"{path} not found (../shared/data/omniglot is absent)")
    scan = scan_datasets([ZIPS[1]])
    episodes = FixedEpisodes(read_episode_file(str(path)), scan, build_cache(scan, 28, 1))
    assert len(episodes) == 600
    first = episodes.sample()
    assert first.support_x.shape == (5, 1, 28, 28) and first.query_x.shape == (75, 1, 28, 28)
    alphabets = {key.split("/")[0] for episode in episodes.spec.episodes for key, _ in episode}
    assert alphabets == {"Japanese_(katakana)", "Sanskrit", "Tagalog"}
