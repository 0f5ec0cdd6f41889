"""A capped image cache holds at most its budget and still samples exactly the episodes an uncapped one does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.robustness.corpus import make_good_classes
from workbench.data.cache import build_cache
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.errors import ConfigError, DataError
from workbench.runs.config import RunConfig
from tests.generators import return_value

SIZE = 28
CLASS_BYTES = 6 * SIZE * SIZE  # 6 gray images of 28 x 28 per class


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("cap")
    make_good_classes(root, classes=12, images=6)
    (root / "good_3" / "broken.png").write_bytes(b"nope")  # a problem the capped cache must report too
    return root


def caches(root, cap):
    scan = scan_datasets([root])
    return build_cache(scan, SIZE, 1), build_cache(scan, SIZE, 1, max_bytes=cap)


def test_capped_cache_returns_the_same_images_and_problems(dataset):
    full, capped = caches(dataset, 3 * CLASS_BYTES)
    assert capped.capped and not full.capped
    assert capped.class_keys == full.class_keys and capped.image_paths == full.image_paths
    assert [str(p) for p in capped.problems] == [str(p) for p in full.problems]
    rows = np.arange(full.image_count)
    assert torch.equal(capped.gather(rows), full.gather(rows))
    assert torch.equal(capped.images[17], full.images[17])  # row access, as the GUI draws episodes
    assert capped.nbytes() <= 3 * CLASS_BYTES < full.nbytes()


def test_capped_sampler_draws_identical_episodes_within_its_budget(dataset):
    cap = 3 * CLASS_BYTES
    full, capped = caches(dataset, cap)
    pool = class_views(range(full.num_classes), False)
    a = EpisodeSampler(full, pool, 5, 1, 3, seed=7)
    b = EpisodeSampler(capped, pool, 5, 1, 3, seed=7)
    for _ in range(40):
        ea, eb = a.sample(), b.sample()
        assert torch.equal(ea.support_x, eb.support_x) and torch.equal(ea.query_x, eb.query_x)
        assert ea.class_names == eb.class_names and torch.equal(ea.query_y, eb.query_y)
        assert capped.store.held_bytes <= cap
    assert capped.store.peak_bytes <= cap
    assert capped.store.reloads > 0  # 5 ways from 12 classes through a 3-class budget: classes came back from disk


def test_a_budget_smaller_than_one_class_still_works(dataset):
    full, capped = caches(dataset, 100)
    assert capped.nbytes() == 0
    rows = full.class_images[4]
    assert torch.equal(capped.gather(rows), full.gather(rows))
    assert capped.nbytes() == 0


def test_a_file_gone_after_loading_is_a_clear_error_when_its_class_is_needed_again(tmp_path):
    make_good_classes(tmp_path, classes=4, images=3)
    scan = scan_datasets([tmp_path])
    capped = build_cache(scan, SIZE, 1, max_bytes=3 * SIZE * SIZE)  # one class held: the last decoded
    (tmp_path / "good_0" / "img_1.png").unlink()
    with pytest.raises(DataError, match=r"good_0/img_1.png could not be read again .*changed or disappeared"):
        capped.gather(capped.class_images[0])


def test_the_cap_is_a_run_setting(tmp_path):
    from workbench.training.prepare_data import prepare_data

    make_good_classes(tmp_path / "data", classes=6, images=4)
    config = RunConfig(data=[str(tmp_path / "data")], ways=2, shots=1, queries=1, image_size=16, max_cache_mb=0.002,
                       split=RunConfig(data=["x"]).split.__class__("class", 0.0, 0.0))
    data = return_value(prepare_data(config))
    assert data.cache.capped and data.cache.store.max_bytes == int(0.002 * 2**20)
    for _ in range(20):
        data.train.sample()
    assert data.cache.nbytes() <= 0.002 * 2**20
    with pytest.raises(ConfigError, match="cache limit"):
        RunConfig(data=["x"], max_cache_mb=-1)
