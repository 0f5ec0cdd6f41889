"""Evaluate a trained run, or adapt it to a user's labelled folders: the functions
the CLI's `evaluate` / `adapt` and the GUI call alike."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from workbench.adaptation.for_run import policy_for_run
from workbench.adaptation.selection import AdaptPolicy
from workbench.algorithms.base import Algorithm
from workbench.data.cache import ImageCache, build_cache
from workbench.data.episode_file import FixedEpisodes, read_episode_file
from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.data.problems import Problem
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import check_folder, is_image_name, is_litter, scan_datasets
from workbench.data.splits import class_views, split_classes
from workbench.data.problems import no_usable_classes
from workbench.errors import DataError
from workbench.runs.model_loading import load_trained
from workbench.runs.config import RunConfig
from workbench.training.scoring import EvaluationResult, evaluate
from workbench.training.query_stream import decoded_chunks, query_paths
from workbench.training.support_audit import SuspectSupport, audit_support


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
    mode: str | None = "auto",
    refine: bool = True,
) -> EvaluationReport:
    """Mean accuracy +- 95% CI of the run's model over `episodes` episodes from `data`.

    classes='auto' uses the run's own test classes when `data` is the data it
    was trained on (so training classes never leak into the score), else every class.
    With `episode_file`, the file's fixed episodes are scored instead (with its ways,
    shots and queries), so results compare exactly with other tools'. `overrides`: after-training
    hyperparameters to evaluate with (see load_trained). `mode`: how to adapt (adaptation/selection.py);
    None uses the algorithm's own adapt without calibration, as validation during training does. `refine`:
    whether each episode's queries refine its prototypes (adaptation/refine.py), as they would when labelling.
    """
    setup = prepare_evaluation(run_dir, data, ways, shots, queries, seed, device, classes, episode_file=episode_file,
                               overrides=overrides)
    if episode_file:
        episodes = len(setup.sampler)
    policy = policy_for_run(run_dir, setup.algorithm, mode, seed, refine=refine) if mode else None
    result = evaluate(setup.algorithm, setup.sampler, episodes, progress=progress, policy=policy)
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
        raise no_usable_classes(cache.problems)
    if spec is not None:
        return EvaluationSetup(algorithm, config, cache, FixedEpisodes(spec, scan, cache, config.invert), f"episodes of {Path(spec.path).name}")
    same_data = sorted(str(Path(p).resolve()) for p in data) == sorted(str(Path(p).resolve()) for p in config.data)
    use_test = classes == "test" or (classes == "auto" and same_data)
    if use_test:
        chosen = split_classes(cache.class_keys, cache.class_groups, config.split).test
        source = "test split of the run"
        if not chosen:
            raise DataError(
                f"The run {Path(run_dir).name} trained on every class of its data (it was trained to use, not to "
                "measure), so none is held out for a test score: evaluate it on other classes with --data PATH, "
                "or train with --purpose measure."
            )
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


@dataclass(frozen=True)
class FolderAnswer:
    """What adapting to a support folder says about a query folder, and about the support images themselves."""

    predictions: list[QueryPrediction]
    problems: list[Problem]
    suspects: list[SuspectSupport]  # support images that look like another class (training/support_audit.py)


def read_support_folder(
    folder: str, size: int, channels: int, invert: bool = False,
) -> tuple[list[str], torch.Tensor, torch.Tensor, list[Problem]]:
    """Class names, images (as the model sees them: see pixels.py) and labels from a folder of class subfolders."""
    names, _, images, labels, problems = read_support_files(folder, size, channels, invert)
    return names, images, labels, problems


def read_support_files(
    folder: str, size: int, channels: int, invert: bool = False,
) -> tuple[list[str], list[str], torch.Tensor, torch.Tensor, list[Problem]]:
    """read_support_folder, with the path of each image read (in the order of the images)."""
    root = check_folder(folder, DataError, "Support folder")
    names, paths, images, labels, problems = [], [], [], [], []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not is_litter(p.name)):
        loaded, read = [], []
        for path in sorted(p for p in sub.rglob("*") if p.is_file() and is_image_name(p.name)
                           and not any(is_litter(part) for part in p.relative_to(sub).parts)):
            try:
                loaded.append(load_image_file(str(path), size, channels))
                read.append(str(path))
            except ImageDecodeError as exc:
                problems.append(Problem("unreadable-image", str(path), f"{exc}; skipped"))
        if not loaded:
            problems.append(Problem("empty-class", str(sub), "no readable images; class skipped"))
            continue
        labels += [len(names)] * len(loaded)
        names.append(sub.name)
        images += loaded
        paths += read
    if len(names) < 2:
        raise DataError(
            f"The support folder {root} needs at least 2 class subfolders with a readable image each "
            f"(found {len(names)})."
        )
    return names, paths, _to_tensor(images, invert), torch.tensor(labels), problems


def read_query_folder(folder: str, size: int, channels: int, invert: bool = False) -> tuple[list[str], torch.Tensor, list[Problem]]:
    """Every image under `folder` (flat or nested), in path order, as the model sees it (see pixels.py)."""
    files, problems = query_paths(folder)
    paths, parts = [], []
    for kept, pixels, chunk_problems in decoded_chunks(files, size, channels, invert):
        paths += kept
        parts += [pixels] if kept else []
        problems += chunk_problems
    if not paths:
        raise DataError(f"No readable images in the query folder {Path(folder)}.")
    return paths, torch.cat(parts), problems


def adapt_and_predict(run_dir: str, support: str, query: str, device: str = "auto",
                      overrides: dict[str, str] | None = None, mode: str = "auto",
                      report: Callable[[str], None] | None = None,
                      refine: bool = True) -> tuple[list[QueryPrediction], list[Problem]]:
    """Adapt the run's model to the labelled support folders and predict every query image.

    `mode`: how to adapt (adaptation/selection.py); `report` receives, in words, what was chosen and why;
    `refine`: whether the query images refine the prototypes (adaptation/refine.py).
    The query images are decoded a chunk at a time (query_stream.py); only their features (a few hundred
    numbers each) are kept for refining, so memory stays bounded.
    """
    answer = adapt_folders(run_dir, support, query, device, overrides, mode, report, refine)
    return answer.predictions, answer.problems


def adapt_folders(run_dir: str, support: str, query: str, device: str = "auto",
                  overrides: dict[str, str] | None = None, mode: str = "auto",
                  report: Callable[[str], None] | None = None, refine: bool = True,
                  progress: Callable[[str, int, int], None] | None = None) -> FolderAnswer:
    """adapt_and_predict, with the support images that look like another class too."""
    algorithm, config = load_trained(run_dir, device, overrides)
    return predict_folders(policy_for_run(run_dir, algorithm, mode, refine=refine), config, support, query, report,
                           progress)


EVIDENCE_IMAGES = 300  # query images, spread over the folder, that weigh the adapt spaces (adaptation/evidence.py)


def evidence_sample(files: list[Path], config: RunConfig) -> torch.Tensor | None:
    """Up to EVIDENCE_IMAGES of the query files, evenly spread (a sorted folder of subfolders is sorted by
    class), as the model sees them; None when none decodes. Unreadable ones are reported by the full pass."""
    step = max(1, -(-len(files) // EVIDENCE_IMAGES))
    parts = [x for kept, x, _ in decoded_chunks(files[::step], config.image_size, config.channels, config.invert)
             if kept]
    return torch.cat(parts) if parts else None


def predict_folders(policy: AdaptPolicy, config: RunConfig, support: str, query: str,
                    report: Callable[[str], None] | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> FolderAnswer:
    """adapt_and_predict with the model already loaded (a batch of folders loads it once), and the
    support images that look like another class. `progress(stage, done, total)` follows the query
    images through each pass ("encoded", "predicted"): a folder of 10,000 takes minutes on 2 cores."""
    progress = progress or (lambda stage, done, total: None)
    # The run's own preprocessing (size, channels, inversion), so the model sees images as it was trained on them.
    names, paths, support_x, support_y, problems = read_support_files(support, config.image_size, config.channels,
                                                                     config.invert)
    files, query_problems = query_paths(query)
    predictor = policy.adapt(support_x, support_y, len(names), unlabelled_x=evidence_sample(files, config))
    suspects = audit_support(policy, predictor, names, paths, support_x, support_y)
    chunks = decoded_chunks(files, config.image_size, config.channels, config.invert)
    if policy.refines(predictor):
        # The query images refine the prototypes, so all of them are encoded before any is predicted.
        encoded, done = [], 0
        for paths, query_x, chunk_problems in chunks:
            query_problems += chunk_problems
            done += len(paths) + len(chunk_problems)
            if paths:
                with torch.no_grad():
                    encoded.append((paths, predictor.encode(query_x)))
            progress("encoded", done, len(files))
        if encoded:
            predictor = predictor.with_unlabelled(torch.cat([features for _, features in encoded]))
        chunks = ((paths, features, []) for paths, features in encoded)
        predict = predictor.predict_proba_features
    else:
        predict = predictor.predict_proba
    if report:
        report(f"adapted with {predictor.reason}")
    predictions, done = [], 0
    for paths, query_x, chunk_problems in chunks:
        query_problems += chunk_problems
        done += len(paths) + len(chunk_problems)
        progress("predicted", done, len(files))
        if not paths:
            continue
        with torch.no_grad():
            probs = predict(query_x).float().cpu()
        for path, row in zip(paths, probs):
            best = int(row.argmax())
            predictions.append(QueryPrediction(
                path, names[best], round(float(row[best]), 6), {n: round(float(p), 6) for n, p in zip(names, row)}
            ))
    if not predictions:
        raise DataError(f"No readable images in the query folder {Path(query)}.")
    return FolderAnswer(predictions, problems + query_problems, suspects)


def _to_tensor(images: list[np.ndarray], invert: bool) -> torch.Tensor:
    return to_model_pixels(torch.from_numpy(np.stack(images)), invert)
