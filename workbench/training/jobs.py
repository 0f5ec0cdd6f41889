"""Evaluate a trained run, or adapt it to a user's labelled folders: the functions
the CLI's `evaluate` / `adapt` and the GUI call alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from workbench.algorithms.base import Algorithm
from workbench.data.cache import ImageCache, build_cache
from workbench.data.episode_file import FixedEpisodes, read_episode_file
from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.data.problems import Problem
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import is_image_name, scan_datasets
from workbench.data.splits import class_views, split_classes
from workbench.errors import DataError
from workbench.runs.model_loading import load_trained
from workbench.training.config import RunConfig
from workbench.training.evaluation import EvaluationResult, evaluate


@dataclass(frozen=True)
class EvaluationReport:
    result: EvaluationResult
    classes: int
    class_source: str  # "test split of the run" or "all classes of the data"
    problems: tuple[Problem, ...]

    def to_json(self) -> dict:
        return {**self.result.to_json(), "classes": self.classes, "class_source": self.class_source}


def evaluate_run(
    run_dir: str,
    data: list[str],
    ways: int,
    shots: int,
    queries: int | None = None,
    episodes: int = 600,
    seed: int = 0,
    device: str = "auto",
    classes: str = "auto",
    progress: Callable[[int, int], None] | None = None,
    episode_file: str | None = None,
    overrides: dict[str, str] | None = None,
) -> EvaluationReport:
    """Mean accuracy +- 95% CI of the run's model over `episodes` episodes from `data`.

    classes='auto' uses the run's own test classes when `data` is the data it
    was trained on (so training classes never leak into the score), else every class.
    With `episode_file`, the file's fixed episodes are scored instead (with its ways,
    shots and queries), so results compare exactly with other tools'. `overrides`: after-training
    hyperparameters to evaluate with (see load_trained).
    """
    setup = prepare_evaluation(run_dir, data, ways, shots, queries, seed, device, classes, episode_file=episode_file,
                               overrides=overrides)
    if episode_file:
        episodes = len(setup.sampler)
    result = evaluate(setup.algorithm, setup.sampler, episodes, progress=progress)
    return EvaluationReport(result, setup.sampler.distinct_classes, setup.class_source, setup.problems)


@dataclass(frozen=True)
class EvaluationSetup:
    """A trained run's model with the episodes it is to be evaluated on (see prepare_evaluation)."""

    algorithm: Algorithm
    config: RunConfig
    cache: ImageCache
    sampler: EpisodeSampler | FixedEpisodes
    class_source: str

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(self.cache.problems + self.sampler.problems)


def prepare_evaluation(
    run_dir: str,
    data: list[str],
    ways: int,
    shots: int,
    queries: int | None = None,
    seed: int = 0,
    device: str = "auto",
    classes: str = "auto",
    cache_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    episode_file: str | None = None,
    overrides: dict[str, str] | None = None,
) -> EvaluationSetup:
    """Load the run's model and decode `data`; the sampler draws from the classes `classes` asks for,
    or serves the fixed episodes of `episode_file`."""
    spec = read_episode_file(episode_file) if episode_file else None
    algorithm, config = load_trained(run_dir, device, overrides)
    queries = config.queries if queries is None else queries
    scan = scan_datasets(data)
    cache = build_cache(scan, config.image_size, config.channels, progress=cache_progress, cancelled=cancelled,
                        max_bytes=int(config.max_cache_mb * 2**20) or None)
    if cache.num_classes == 0:
        raise DataError("No usable classes: no class folder holds a readable image.")
    if spec is not None:
        return EvaluationSetup(algorithm, config, cache, FixedEpisodes(spec, scan, cache, config.invert), f"episodes of {Path(spec.path).name}")
    same_data = sorted(str(Path(p).resolve()) for p in data) == sorted(str(Path(p).resolve()) for p in config.data)
    use_test = classes == "test" or (classes == "auto" and same_data)
    if use_test:
        chosen = split_classes(cache.class_keys, cache.class_groups, config.split).test
        source = "test split of the run"
    else:
        chosen = list(range(cache.num_classes))
        source = "all classes of the data"
    sampler = EpisodeSampler(cache, class_views(chosen, False), ways, shots, queries, seed=seed, part_name="evaluation",
                             invert=config.invert)
    return EvaluationSetup(algorithm, config, cache, sampler, source)


@dataclass(frozen=True)
class QueryPrediction:
    path: str
    label: str
    confidence: float
    probabilities: dict[str, float]

    def to_json(self) -> dict:
        return {"path": self.path, "label": self.label, "confidence": self.confidence, "probabilities": self.probabilities}


def read_support_folder(
    folder: str, size: int, channels: int, invert: bool = False,
) -> tuple[list[str], torch.Tensor, torch.Tensor, list[Problem]]:
    """Class names, images (as the model sees them: see pixels.py) and labels from a folder of class subfolders."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"Support folder not found: {root}")
    names, images, labels, problems = [], [], [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        loaded = []
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and is_image_name(p.name)):
            try:
                loaded.append(load_image_file(str(path), size, channels))
            except ImageDecodeError as exc:
                problems.append(Problem("unreadable-image", str(path), f"{exc}; skipped"))
        if not loaded:
            problems.append(Problem("empty-class", str(sub), "no readable images; class skipped"))
            continue
        labels += [len(names)] * len(loaded)
        names.append(sub.name)
        images += loaded
    if len(names) < 2:
        raise DataError(
            f"The support folder {root} needs at least 2 class subfolders with a readable image each "
            f"(found {len(names)})."
        )
    return names, _to_tensor(images, invert), torch.tensor(labels), problems


def read_query_folder(folder: str, size: int, channels: int, invert: bool = False) -> tuple[list[str], torch.Tensor, list[Problem]]:
    """Every image under `folder` (flat or nested), in path order, as the model sees it (see pixels.py)."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"Query folder not found: {root}")
    paths, images, problems = [], [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if not is_image_name(path.name):
            problems.append(Problem("not-an-image", str(path), "not an image file type; skipped"))
            continue
        try:
            images.append(load_image_file(str(path), size, channels))
        except ImageDecodeError as exc:
            problems.append(Problem("unreadable-image", str(path), f"{exc}; skipped"))
            continue
        paths.append(str(path))
    if not paths:
        raise DataError(f"No readable images in the query folder {root}.")
    return paths, _to_tensor(images, invert), problems


def adapt_and_predict(run_dir: str, support: str, query: str, device: str = "auto",
                      overrides: dict[str, str] | None = None) -> tuple[list[QueryPrediction], list[Problem]]:
    """Adapt the run's model to the labelled support folders and predict every query image."""
    algorithm, config = load_trained(run_dir, device, overrides)
    return predict_folders(algorithm, config, support, query)


def predict_folders(algorithm: Algorithm, config: RunConfig, support: str,
                    query: str) -> tuple[list[QueryPrediction], list[Problem]]:
    """adapt_and_predict with the model already loaded (a batch of folders loads it once)."""
    # The run's own preprocessing (size, channels, inversion), so the model sees images as it was trained on them.
    names, support_x, support_y, problems = read_support_folder(support, config.image_size, config.channels, config.invert)
    paths, query_x, query_problems = read_query_folder(query, config.image_size, config.channels, config.invert)
    predictor = algorithm.adapt(support_x, support_y, len(names))
    with torch.no_grad():
        probs = predictor.predict_proba(query_x).float().cpu()
    predictions = []
    for path, row in zip(paths, probs):
        best = int(row.argmax())
        predictions.append(QueryPrediction(
            path, names[best], round(float(row[best]), 6), {n: round(float(p), 6) for n, p in zip(names, row)}
        ))
    return predictions, problems + query_problems


def _to_tensor(images: list[np.ndarray], invert: bool) -> torch.Tensor:
    return to_model_pixels(torch.from_numpy(np.stack(images)), invert)
