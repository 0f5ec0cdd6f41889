"""The found cells among run folders: which runs searched one, and which cell a run trained on.

A run folder holds architecture.json when its network records one (models/genotype.py): a MetaNAS
search writes the cell it found, and a run with `backbone=searched` keeps a copy of the cell it was
built on. The runs table shows that cell; the settings form offers the searches' cells to train on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.models.genotype import FILE_NAME, describe_cell, read_architecture
from workbench.runs.store import summarize

SEARCHED = "searched"  # the backbone built from an architecture file
UNREADABLE = f"{FILE_NAME} unreadable"
MISSING = "architecture file missing"


@dataclass(frozen=True)
class RunCell:
    """What the runs table says about a run's cell: `text` for its column, `problem` a sentence or ""."""

    text: str
    problem: str = ""


def run_cell(run_dir: str | Path, hparams: dict) -> RunCell:
    """The cell of a run: its own architecture.json, else the file its `backbone=searched` names."""
    own = Path(run_dir) / FILE_NAME
    if own.exists():
        return _described(own)
    if hparams.get("backbone") != SEARCHED:
        return RunCell("")
    named = str(hparams.get("backbone_architecture") or "")
    if not named:
        return RunCell(MISSING, f"{run_dir}: it trained on backbone=searched but names no architecture file.")
    if not Path(named).expanduser().exists():
        return RunCell(MISSING, f"{run_dir}: its architecture file {named} is not there any more.")
    return _described(Path(named).expanduser())


def _described(path: Path) -> RunCell:
    try:
        return RunCell(describe_cell(read_architecture(path)))
    except ConfigError as exc:
        return RunCell(UNREADABLE, str(exc))


@dataclass(frozen=True)
class SearchedCell:
    """A cell a run found, as the settings form offers it."""

    path: str  # its architecture.json
    run: str  # the run folder's name
    label: str  # "RUN · val 61.2%", the best validation accuracy
    summary: str  # describe_cell's line, or why the file cannot be used
    usable: bool


def searched_cells(root: str | Path) -> list[SearchedCell]:
    """The cells found by the runs directly under `root`, newest run first.

    A run that trained on a found cell (backbone=searched) keeps a copy of it; that is not a new
    search, so only the runs that found their cell are listed.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for run in root.iterdir():
        file = run / FILE_NAME
        try:
            if not (file.is_file() and (run / "config.json").is_file()):
                continue
            made = (run / "config.json").stat().st_mtime
        except OSError:
            continue  # gone or unreadable while listed: not offered
        summary = summarize(run)
        if summary.hparams.get("backbone") == SEARCHED:
            continue
        found.append((made, run.name, _offered(file, summary)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [cell for _made, _name, cell in found]


def _offered(file: Path, summary) -> SearchedCell:
    accuracy = summary.best_val_accuracy
    label = summary.name + (f" · val {100 * accuracy:.1f}%" if math.isfinite(accuracy) else " · not validated yet")
    if summary.status not in ("completed", "damaged"):
        label += f" ({summary.status})"
    try:
        return SearchedCell(str(file.absolute()), summary.name, label, describe_cell(read_architecture(file)), True)
    except ConfigError as exc:
        return SearchedCell(str(file.absolute()), summary.name, f"{label} · {UNREADABLE}", str(exc), False)
