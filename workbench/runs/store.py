"""The runs under one folder, read from their run folders on disk (nothing else is stored)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from workbench.errors import WorkbenchError
from workbench.runs.annotations import load_annotations
from workbench.runs.folder import RunFolder


@dataclass(frozen=True)
class RunSummary:
    """One row of the run list: what a person compares runs by."""

    path: str
    name: str
    algorithm: str
    hparams: dict
    dataset: str
    ways: int
    shots: int
    best_val_accuracy: float  # nan when never validated
    status: str
    message: str
    step: int
    steps: int
    date: str  # "YYYY-MM-DD HH:MM" the run folder was made
    evaluated: bool
    builtin: bool = False  # shipped with the workbench: read-only, used for labelling only
    note: str = ""  # the person's own words (annotations.json), as are the tags
    tags: tuple[str, ...] = ()
    annotation_problem: str = ""  # why annotations.json could not be read in full ("" when it could)

    @property
    def protocol(self) -> str:
        return f"{self.ways}-way {self.shots}-shot"

    @property
    def folder_name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class RunCurves:
    """A run's metrics.csv as arrays: train and validation accuracy (0..1) and loss by step, and the seconds
    since training began at each (nan where a row does not say)."""

    train_steps: np.ndarray
    train_accuracy: np.ndarray
    val_steps: np.ndarray
    val_accuracy: np.ndarray
    train_seconds: np.ndarray
    val_seconds: np.ndarray
    train_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))


class RunStore:
    """Lists the run folders directly under `root` (a folder with config.json is a run).

    A damaged run folder is listed with status 'damaged' and the reason, so it is
    seen rather than silently missing.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def scan(self, builtin: bool = False) -> list[RunSummary]:
        """The runs, newest first; with `builtin`, the models that ship with the workbench before them."""
        shipped = builtin_summaries() if builtin else []
        if not self.root.is_dir():
            return shipped
        runs = [summarize(path) for path in sorted(self.root.iterdir())
                if path.is_dir() and (path / "config.json").is_file()]
        return shipped + sorted(runs, key=lambda run: run.date, reverse=True)


def builtin_summaries() -> list[RunSummary]:
    from workbench.runs.builtin import BUILTIN_MODELS

    return [replace(summarize(model.path), name=f"Built-in: {model.title}", builtin=True)
            for model in BUILTIN_MODELS.values() if (model.path / "config.json").is_file()]


def summarize(path: str | Path) -> RunSummary:
    """The RunSummary of one run folder; never raises for a damaged folder."""
    path = Path(path)
    date = time.strftime("%Y-%m-%d %H:%M", time.localtime((path / "config.json").stat().st_mtime))
    folder = RunFolder(path)
    notes, problem = load_annotations(path)
    own = {"name": notes.name or path.name, "note": notes.note, "tags": notes.tags, "annotation_problem": problem}
    try:
        config = folder.read_config()
        status = folder.read_status()
    except WorkbenchError as exc:
        return replace(RunSummary(str(path), path.name, "?", {}, "", 0, 0, math.nan, "damaged", str(exc), 0, 0, date,
                                  False), **own)
    best = status.get("best_val_accuracy")
    if not isinstance(best, (int, float)):
        best = _best_from_metrics(folder)
    dataset = ", ".join(Path(p).name for p in config.data)
    return RunSummary(
        path=str(path), algorithm=config.algorithm, hparams=dict(config.hparams), dataset=dataset,
        ways=config.ways, shots=config.shots, best_val_accuracy=float(best), status=str(status.get("status", "unknown")),
        message=str(status.get("message", "")), step=int(status.get("step", 0) or 0), steps=config.steps, date=date,
        evaluated=(path / "evaluation.json").is_file(), **own,
    )


def read_curves(path: str | Path) -> RunCurves:
    """Train and validation accuracy and loss of a run; rows that cannot be read are skipped (a value a row
    lacks is nan, so a row with a loss but no accuracy still draws its loss)."""
    train, val = [], []
    for row in RunFolder(path).read_metrics():
        try:
            point = (int(row["step"]), _number(row.get("accuracy")), _seconds(row.get("elapsed_s")),
                     _number(row.get("loss")))
        except (KeyError, TypeError, ValueError):
            continue
        if math.isnan(point[1]) and math.isnan(point[3]):
            continue
        (val if row.get("phase") == "val" else train).append(point)
    column = lambda points, i: np.array([p[i] for p in points], float)  # noqa: E731
    train_steps, train_seconds = column(train, 0), column(train, 2)
    val_steps, val_seconds = column(val, 0), column(val, 2)
    timed = np.isfinite(train_seconds)
    if timed.any():  # validation rows carry no time of their own: the time of the train step they follow
        untimed = ~np.isfinite(val_seconds)
        val_seconds[untimed] = np.interp(val_steps[untimed], train_steps[timed], train_seconds[timed])
    return RunCurves(train_steps, column(train, 1), val_steps, column(val, 1), train_seconds, val_seconds,
                     column(train, 3), column(val, 3))


def _seconds(text: str | None) -> float:
    try:
        return float(text) if text else float("nan")
    except ValueError:
        return float("nan")


def _number(text: str | None) -> float:
    """A metric's value; nan when the row leaves it empty (a bad number raises ValueError: the row is skipped)."""
    return float(text) if text else float("nan")


def _best_from_metrics(folder: RunFolder) -> float:
    values = [float(r["accuracy"]) for r in folder.read_metrics() if r.get("phase") == "val" and r.get("accuracy")]
    return max(values) if values else math.nan
