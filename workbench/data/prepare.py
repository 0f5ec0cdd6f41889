"""From a RunConfig's data settings to ready samplers: scan, decode, split, sample."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.data.cache import ImageCache, decode_steps
from workbench.data.problems import Problem
from workbench.data.augment import Augmentation
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import DatasetScan, scan_datasets
from workbench.data.splits import ClassSplit, class_views, split_classes
from workbench.errors import DataError
from workbench.training.config import RunConfig
from workbench.training.events import DataProgress, Message

MAX_PROBLEM_MESSAGES = 20  # the rest go to the run's data_problems.txt


@dataclass
class PreparedData:
    scan: DatasetScan
    cache: ImageCache
    split: ClassSplit
    train: EpisodeSampler
    val: EpisodeSampler | None
    test: EpisodeSampler | None
    problems: list[Problem]


def prepare_data(config: RunConfig):
    """Generator: yields Message / DataProgress events, returns PreparedData.

    Raises DataError when nothing usable is left to train on.
    """
    scan = scan_datasets(config.data)
    yield Message(f"Found {len(scan.classes)} classes and {scan.image_count} images in {len(config.data)} dataset(s).")
    cache = yield from _decode(scan, config)
    if cache.num_classes == 0:
        raise DataError("No usable classes: no class folder holds a readable image.")
    split = split_classes(cache.class_keys, cache.class_groups, config.split)
    problems = list(cache.problems)
    train = EpisodeSampler(
        cache, class_views(split.train, config.rotations, config.mirror), config.effective_train_ways, config.shots,
        config.effective_train_queries, seed=config.seed, part_name="train",
        augmentation=Augmentation() if config.augment else None, invert=config.invert,
    )
    problems += train.problems
    val = _optional_sampler(cache, split.val, config, config.seed + 1, "validation", problems)
    test = _optional_sampler(cache, split.test, config, config.seed + 2, "test", problems)
    for problem in problems[:MAX_PROBLEM_MESSAGES]:
        yield Message(str(problem), "warning")
    if len(problems) > MAX_PROBLEM_MESSAGES:
        yield Message(f"... and {len(problems) - MAX_PROBLEM_MESSAGES} more data problems (all in data_problems.txt).", "warning")
    return PreparedData(scan, cache, split, train, val, test, problems)


def _decode(scan: DatasetScan, config: RunConfig):
    steps = decode_steps(scan, config.image_size, config.channels, int(config.max_cache_mb * 2**20) or None)
    while True:
        try:
            done, total = next(steps)
        except StopIteration as finished:
            return finished.value
        yield DataProgress(done, total)


def _optional_sampler(cache, classes, config, seed, name, problems) -> EpisodeSampler | None:
    """A sampler for validation or test, or None (with a message) when the part is too small."""
    try:
        sampler = EpisodeSampler(cache, class_views(classes, False), config.ways, config.shots, config.queries, seed, name,
                                 invert=config.invert)
    except DataError as exc:
        problems.append(Problem("too-few-classes", name, f"{exc} The {name} part is skipped."))
        return None
    problems.extend(sampler.problems)
    return sampler
