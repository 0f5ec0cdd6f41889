"""From a RunConfig's data settings to ready samplers: scan, decode, split, sample."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from workbench.data.cache import ImageCache, decode_steps
from workbench.data.problems import Problem
from workbench.data.augment import Augmentation
from workbench.data.look import look_of, sample_rows
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import DatasetScan, scan_datasets
from workbench.data.splits import ClassSplit, class_views, split_classes
from workbench.data.problems import no_usable_classes
from workbench.errors import DataError
from workbench.runs.config import RunConfig
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
    config: RunConfig | None = None  # the run's settings with every "auto" decided
    choices: list[str] = field(default_factory=list)  # what was decided from the data, and why, in words


def prepare_data(config: RunConfig, wide_ways: int = 0, wide_queries: int = 0):
    """Generator: yields Message / DataProgress events, returns PreparedData.

    Settings left "auto" (invert, rotations, mirror) are decided from a sample of the
    training images; train ways/queries left 0 follow the algorithm's preference
    (`wide_ways`, `wide_queries`: metric methods learn better from wider episodes),
    capped by the classes there are. PreparedData.config holds the decided settings.
    Raises DataError when nothing usable is left to train on.
    """
    scan = scan_datasets(config.data)
    yield Message(f"Found {len(scan.classes)} classes and {scan.image_count} images in {len(config.data)} dataset(s).")
    cache = yield from _decode(scan, config)
    if cache.num_classes == 0:
        raise no_usable_classes(cache.problems)
    split = split_classes(cache.class_keys, cache.class_groups, config.split)
    problems = list(cache.problems)
    config, choices = _decide(config, cache, split.train, wide_ways, wide_queries)
    for choice in choices:
        yield Message(choice)
    train = EpisodeSampler(
        cache, class_views(split.train, config.rotations, config.mirror), config.train_ways, config.shots,
        config.train_queries, seed=config.seed, part_name="train",
        augmentation=Augmentation() if config.augment else None, invert=config.invert,
        group_share=config.group_episodes,
    )
    problems += train.problems
    if config.group_episodes > 0:
        choices.append(_group_choice(train, config, cache))
        yield Message(choices[-1])
    val = _optional_sampler(cache, split.val, config, config.seed + 1, "validation", problems)
    # A model trained to use holds no test classes back: nothing to warn about.
    test = _optional_sampler(cache, split.test, config, config.seed + 2, "test", problems) if split.test else None
    for problem in problems[:MAX_PROBLEM_MESSAGES]:
        yield Message(str(problem), "warning")
    if len(problems) > MAX_PROBLEM_MESSAGES:
        yield Message(f"... and {len(problems) - MAX_PROBLEM_MESSAGES} more data problems (all in data_problems.txt).", "warning")
    return PreparedData(scan, cache, split, train, val, test, problems, config, choices)


def _decide(config: RunConfig, cache: ImageCache, train_classes: list[int], wide_ways: int, wide_queries: int):
    """The config with "auto" settings decided from the training images, and the reasons in words."""
    choices = []
    unresolved = config.unresolved
    if unresolved:
        look = look_of(cache.gather(sample_rows(cache.class_images, train_classes, seed=config.seed)))
        decided = {"invert": look.invert, "rotations": look.new_classes_from_turns, "mirror": look.new_classes_from_turns}
        config = replace(config, **{name: decided[name] for name in unresolved})
        said = ", ".join(f"{name} {'on' if decided[name] else 'off'}" for name in unresolved)
        choices.append(f"Decided from the images: {said} ({look.describe()}).")
    train_ways, train_queries = config.train_ways, config.train_queries
    if not train_ways:
        views = len(class_views(train_classes, config.rotations, config.mirror))
        train_ways = max(config.ways, min(wide_ways, views))
        if train_ways > config.ways:
            choices.append(f"Training episodes are {train_ways}-way (the algorithm learns better from wider episodes "
                           f"than the {config.ways}-way test episodes; set train ways to change it).")
    if not train_queries:
        # Wider episodes with fewer queries each, never more than asked for (classes may have few images).
        train_queries = min(wide_queries, config.queries) if train_ways > config.ways and wide_queries else config.queries
    return replace(config, train_ways=train_ways, train_queries=train_queries), choices


def _group_choice(train: EpisodeSampler, config: RunConfig, cache: ImageCache) -> str:
    """In words: which groups the training episodes drawn from one group come from, or why none."""
    if not train.group_pools:
        return (f"No group of the data has {config.train_ways} training classes, so every training episode "
                f"mixes classes of all groups.")
    names = sorted({cache.class_groups[pool[0][0]] for pool in train.group_pools})
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"{config.group_episodes:.0%} of training episodes draw all {config.train_ways} classes from one group "
            f"({len(names)} groups have enough: {shown}).")


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
    # A small validation part (a model trained to use keeps only a few classes back) validates with fewer ways.
    ways = min(config.ways, len(classes)) if len(classes) >= 2 else config.ways
    if ways < config.ways:
        problems.append(Problem("fewer-ways", name, f"has {len(classes)} classes, so its episodes are {ways}-way "
                                                    f"instead of {config.ways}-way (fine for choosing the best weights)"))
    try:
        sampler = EpisodeSampler(cache, class_views(classes, False), ways, config.shots, config.queries, seed, name,
                                 invert=config.invert)
    except DataError as exc:
        problems.append(Problem("too-few-classes", name, f"{exc} The {name} part is skipped."))
        return None
    problems.extend(sampler.problems)
    return sampler
