"""Evaluating a run episode by episode, keeping every prediction, and summarising it for inspection.

`inspect_run` is `evaluate_run` that also keeps, per episode, which real
classes were drawn, which images (cache rows) were support and query, and what
was predicted. From those `summarize` computes what the Inspect page shows:
accuracy +- 95% CI, per-class accuracy, a confusion matrix over real class
identities (episode positions A, B, C mean nothing across episodes), the
worst mistakes, and a 2-D map of the tasks. The summary is saved as
evaluation.json in the run folder and read back without recomputing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from workbench.adaptation.calibration import CalibrationReport, calibration_report
from workbench.adaptation.for_run import policy_for_run
from workbench.adaptation.selection import AdaptPolicy

from workbench.algorithms.base import Algorithm, NoEmbeddingError
from workbench.data.cache import ImageCache
from workbench.data.episode import Episode
from workbench.data.pixels import to_model_pixels
from workbench.data.views import orient
from workbench.errors import RunFolderError, WorkbenchError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.inspect.evaluation_check import check_evaluation
from workbench.inspect.projection import pca_2d
from workbench.atomic import write_json_atomic
from workbench.training.scoring import mean_ci95
from workbench.training.jobs import EvaluationSetup, prepare_evaluation

EVALUATION_FILE = "evaluation.json"
FORMAT_VERSION = 1
MAX_MISTAKES = 24


class EvaluationCancelled(WorkbenchError):
    """The user cancelled the evaluation; nothing was saved."""


@dataclass(frozen=True)
class EpisodeRecord:
    """One evaluated episode: its real classes, its images (cache rows) and its predictions."""

    classes: tuple[str, ...]
    class_turns: tuple[int, ...]
    support_rows: tuple[int, ...]
    support_labels: tuple[int, ...]
    query_rows: tuple[int, ...]
    query_labels: tuple[int, ...]
    predicted: tuple[int, ...]
    confidence: tuple[float, ...]

    @property
    def accuracy(self) -> float:
        return float(np.mean([p == t for p, t in zip(self.predicted, self.query_labels)])) if self.predicted else 0.0

    @classmethod
    def from_json(cls, data: dict) -> "EpisodeRecord":
        return cls(**{name: tuple(data[name]) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Mistake:
    """A wrong prediction: the query, and the support images of the predicted and the true class."""

    episode: int
    query_row: int
    query_path: str
    turns_true: int
    turns_predicted: int
    true_class: str
    predicted_class: str
    confidence: float
    true_support: tuple[int, ...]
    predicted_support: tuple[int, ...]
    true_support_paths: tuple[str, ...]
    predicted_support_paths: tuple[str, ...]


@dataclass
class Inspection:
    """Everything the Inspect page shows about one evaluation (JSON round-trips through to_json)."""

    run_dir: str
    data: list[str]
    ways: int
    shots: int
    queries: int
    seed: int
    class_source: str
    accuracy: float
    ci95: float
    classes: list[str]
    per_class: list[dict]  # {"class", "correct", "total", "accuracy"}
    confusion: list[list[int]]  # rows: true class, columns: predicted class (both index `classes`)
    mistakes: list[Mistake]
    episodes: list[EpisodeRecord]
    task_xy: list[list[float]] = field(default_factory=list)  # one 2-D point per episode, or empty
    created: str = ""

    @property
    def query_count(self) -> int:
        return sum(len(e.query_labels) for e in self.episodes)

    def to_json(self) -> dict:
        data = asdict(self)
        data["format"] = FORMAT_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict, source: str = EVALUATION_FILE) -> "Inspection":
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise RunFolderError(f"{source} is not an evaluation this version can read; evaluate the run again.")
        check_evaluation(data, source)  # every field, before any reaches a view
        try:
            values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
            values["mistakes"] = [Mistake(**{k: tuple(v) if isinstance(v, list) else v for k, v in m.items()})
                                  for m in data["mistakes"]]
            values["episodes"] = [EpisodeRecord.from_json(e) for e in data["episodes"]]
            return cls(**values)
        except (KeyError, TypeError) as exc:
            raise RunFolderError(f"{source} is damaged ({exc}); evaluate the run again.") from None

    def save(self, run_dir: str | Path | None = None) -> Path:
        path = Path(run_dir or self.run_dir) / EVALUATION_FILE
        write_json_atomic(path, self.to_json())
        return path


def load_inspection(run_dir: str | Path) -> Inspection:
    path = Path(run_dir) / EVALUATION_FILE
    if not path.is_file():
        raise RunFolderError(f"{run_dir} has not been evaluated yet (no {EVALUATION_FILE}).")
    try:
        data = read_json(path, SETTINGS_LIMIT * 16, RunFolderError, "evaluation file")  # it lists every episode
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path} cannot be read ({exc}); evaluate the run again.") from None
    return Inspection.from_json(data, str(path))


def calibration_of(inspection: "Inspection") -> CalibrationReport:
    """How far the recorded confidences are from the recorded accuracy (ECE, reliability bins, precision at 90%)."""
    confidence, correct = [], []
    for record in inspection.episodes:
        confidence += list(record.confidence)
        correct += [t == p for t, p in zip(record.query_labels, record.predicted)]
    return calibration_report(torch.tensor(confidence, dtype=torch.float32), torch.tensor(correct))


def episode_from_record(cache: ImageCache, record: EpisodeRecord, invert: bool = False) -> Episode:
    """Rebuild an evaluated episode's images from the cache, turned (and inverted) as the sampler gave them."""

    def images(rows, labels):
        out = cache.gather(rows).clone()
        for i, label in enumerate(labels):
            if record.class_turns and record.class_turns[label]:
                out[i] = orient(out[i], record.class_turns[label])
        return to_model_pixels(out, invert)

    return Episode(images(record.support_rows, record.support_labels), torch.tensor(record.support_labels),
                   images(record.query_rows, record.query_labels), torch.tensor(record.query_labels),
                   record.classes, record.support_rows, record.query_rows, record.class_turns)


def run_episodes(
    setup: EvaluationSetup,
    episodes: int,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    policy: AdaptPolicy | None = None,
) -> tuple[list[EpisodeRecord], list[np.ndarray]]:
    """Adapt to and predict `episodes` episodes; also each task's mean support feature, where there is one.

    With a `policy` (what `evaluate` and the Label page use), its choice and calibrated confidences."""
    algorithm: Algorithm = setup.algorithm
    records, task_vectors = [], []
    embeddable = True
    for index in range(episodes):
        if cancelled and cancelled():
            raise EvaluationCancelled("Evaluation cancelled; nothing was saved.")
        episode = setup.sampler.sample()
        device_episode = episode.to(algorithm.device)
        if policy is not None:
            predictor, probs = policy.adapt_and_predict(episode.support_x, episode.support_y, episode.ways,
                                                        episode.query_x)
        else:
            predictor = algorithm.adapt(device_episode.support_x, device_episode.support_y, episode.ways)
            with torch.no_grad():
                probs = predictor.predict_proba(device_episode.query_x).float().cpu()
        confidence, predicted = probs.max(1)
        records.append(EpisodeRecord(
            episode.class_names, episode.class_turns, episode.support_rows, tuple(episode.support_y.tolist()),
            episode.query_rows, tuple(episode.query_y.tolist()), tuple(predicted.tolist()),
            tuple(round(float(c), 4) for c in confidence)))
        if embeddable:
            try:
                # Mean of the class prototypes; with equal shots per class it is the mean support feature.
                task_vectors.append(algorithm.embed(device_episode.support_x).mean(0).numpy())
            except NoEmbeddingError:
                embeddable, task_vectors = False, []
        if progress:
            progress(index + 1, episodes)
    return records, task_vectors


def summarize(setup: EvaluationSetup, records: list[EpisodeRecord], task_vectors: list[np.ndarray],
              run_dir: str, data: list[str], seed: int) -> Inspection:
    """Accuracy, per-class accuracy, confusion over real classes, worst mistakes and the task map."""
    cache = setup.cache
    classes = sorted({name for record in records for name in record.classes})
    index = {name: i for i, name in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
    wrong = []
    for e, record in enumerate(records):
        for q, (true, predicted) in enumerate(zip(record.query_labels, record.predicted)):
            confusion[index[record.classes[true]], index[record.classes[predicted]]] += 1
            if true != predicted:
                wrong.append((record.confidence[q], e, q))
    per_class = []
    for i, name in enumerate(classes):
        total = int(confusion[i].sum())
        correct = int(confusion[i, i])
        per_class.append({"class": name, "correct": correct, "total": total,
                          "accuracy": correct / total if total else float("nan")})
    mistakes = []
    for confidence, e, q in sorted(wrong, reverse=True)[:MAX_MISTAKES]:
        record = records[e]
        true, predicted = record.query_labels[q], record.predicted[q]
        support_of = lambda label: tuple(r for r, y in zip(record.support_rows, record.support_labels) if y == label)  # noqa: E731
        row = record.query_rows[q]
        turns = record.class_turns or (0,) * len(record.classes)
        mistakes.append(Mistake(
            e, row, cache.image_paths[row], turns[true], turns[predicted], record.classes[true],
            record.classes[predicted], confidence, support_of(true), support_of(predicted),
            tuple(cache.image_paths[r] for r in support_of(true)),
            tuple(cache.image_paths[r] for r in support_of(predicted))))
    accuracy, ci95 = mean_ci95([r.accuracy for r in records])
    task_xy = pca_2d(torch.from_numpy(np.stack(task_vectors))).tolist() if len(task_vectors) == len(records) and records else []
    config = setup.config
    return Inspection(
        run_dir=str(run_dir), data=list(data), ways=setup.sampler.ways, shots=setup.sampler.shots,
        queries=setup.sampler.queries, seed=seed, class_source=setup.class_source, accuracy=accuracy, ci95=ci95,
        classes=classes, per_class=per_class, confusion=confusion.tolist(), mistakes=mistakes, episodes=records,
        task_xy=task_xy, created=time.strftime("%Y-%m-%dT%H:%M:%S") + f" ({config.algorithm})",
    )


def inspect_run(
    run_dir: str,
    data: list[str] | None = None,
    ways: int | None = None,
    shots: int | None = None,
    queries: int | None = None,
    episodes: int = 100,
    seed: int = 0,
    device: str = "auto",
    classes: str = "auto",
    progress: Callable[[str, int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    save: bool = True,
) -> tuple[Inspection, EvaluationSetup]:
    """Evaluate a run keeping every prediction; data and protocol default to the run's own.

    `progress(stage, done, total)` reports "decoding" then "episodes". The
    Inspection is saved as evaluation.json in the run folder unless save=False;
    the setup (model and decoded images) is returned for the embedding views.
    """
    from workbench.runs.folder import RunFolder

    config = RunFolder.open(run_dir).read_config()
    own_domain = not data or list(data) == list(config.data)
    data = list(data or config.data)
    setup = prepare_evaluation(
        run_dir, data, ways or config.ways, shots or config.shots, queries, seed, device, classes,
        cache_progress=(lambda d, t: progress("decoding", d, t)) if progress else None, cancelled=cancelled)
    records, vectors = run_episodes(setup, episodes, (lambda d, t: progress("episodes", d, t)) if progress else None,
                                    cancelled, policy_for_run(run_dir, setup.algorithm, seed=seed, own_domain=own_domain))
    inspection = summarize(setup, records, vectors, run_dir, data, seed)
    if save:
        inspection.save()
    return inspection, setup
