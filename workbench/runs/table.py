"""A table of runs for a paper: algorithm, hyperparameters, protocol, accuracy +- 95% CI, as CSV or Markdown.

    main.py table runs/ --format markdown

Reads only the run folders' plain files: config.json, status.json, metrics.csv
(validation accuracy and its CI at the best step) and evaluation.json when the run
was evaluated on test episodes (keys accuracy, ci95, ways, shots, queries and episodes,
a count or the list of evaluated episodes, as the Inspect page saves it).

A run with a found cell (a MetaNAS search's architecture.json, or the file `backbone=searched`
named) gets a `cell` column: each node as node=op(input)+op(input), states 0 and 1 being the cell's
inputs, e.g. "normal: 2=sep3(0)+skip(1) 3=max3(0)+sep5(2); reduce: ...". A file that cannot be
read says so there ("architecture.json unreadable"), and why among the warnings.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError, WorkbenchError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.runs.annotations import load_annotations
from workbench.runs.architectures import run_cell
from workbench.runs.folder import RunFolder

FORMATS = ("markdown", "csv")
EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class RunRow:
    """One run's line in the table; accuracies are fractions (None: not measured)."""

    run: str
    algorithm: str
    hyperparameters: str  # the ones set away from their defaults, "name=value; ..."
    data: str
    protocol: str  # "5-way 1-shot, 15 queries"
    image_size: int
    steps: int
    meta_batch: int
    status: str
    val_accuracy: float | None
    val_ci95: float | None
    test_accuracy: float | None
    test_ci95: float | None
    test_episodes: int | None
    test_protocol: str
    cell: str = ""  # the found cell the run searched or trained on (runs/architectures.py)


def find_runs(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Run folders among `paths`; a folder that is not a run but holds runs stands for them. Returns (runs, problems)."""
    runs, problems = [], []
    for text in paths:
        path = Path(text)
        if (path / "config.json").is_file():
            runs.append(path)
        elif path.is_dir() and (inside := sorted(p for p in path.iterdir() if (p / "config.json").is_file())):
            runs += inside
        else:
            problems.append(f"{path}: not a run folder (no config.json), left out")
    # A run named twice (directly and through its parent, or by two spellings of one path) is one row.
    unique, seen = [], set()
    for run in runs:
        key = run.resolve()
        if key in seen:
            problems.append(f"{run}: given more than once, listed once")
            continue
        seen.add(key)
        unique.append(run)
    return unique, problems


def read_row(path: Path, problems: list[str] | None = None) -> RunRow:
    """The row of the run at `path`; what is wrong with its cell's file goes to `problems`."""
    folder = RunFolder.open(path)
    # Not checked against the algorithm as loading would: a run whose plugin is not loaded here, or whose
    # architecture or weights file has gone since, is still a row (the table only reports it).
    config = folder.read_config(check_algorithm=False)
    status = folder.read_status()
    val_accuracy = status.get("best_val_accuracy")
    val_ci95 = None
    best_step = status.get("best_step")
    for row in folder.read_metrics():
        if row.get("phase") == "val" and best_step is not None and str(row.get("step")) == str(best_step):
            val_accuracy, val_ci95 = _number(row.get("accuracy")), _number(row.get("ci95"))
    evaluation = _read_evaluation(path)
    cell = run_cell(path, config.hparams)
    if cell.problem and problems is not None:
        problems.append(cell.problem)
    protocol = _protocol(config.ways, config.shots, config.queries)
    if config.train_ways and config.train_ways != config.ways:
        protocol += f" (trained {config.train_ways}-way)"
    test_protocol = ""
    if evaluation:
        ways, shots = evaluation.get("ways", config.ways), evaluation.get("shots", config.shots)
        test_protocol = _protocol(ways, shots, evaluation.get("queries", config.queries))
    return RunRow(
        run=load_annotations(path)[0].name or path.name,  # the name a person gave it on the Runs page
        algorithm=config.algorithm, hyperparameters=_hyperparameters(config),
        data=", ".join(Path(d).name for d in config.data) + (" +rotations" if config.rotations else "")
        + (" (inverted)" if config.invert else ""),
        protocol=protocol, image_size=config.image_size, steps=int(status.get("step", 0) or 0),
        meta_batch=config.meta_batch, status=str(status.get("status", "unknown")),
        val_accuracy=_number(val_accuracy), val_ci95=val_ci95,
        test_accuracy=_number(evaluation.get("accuracy")), test_ci95=_number(evaluation.get("ci95")),
        test_episodes=_episode_count(evaluation.get("episodes")),
        test_protocol=test_protocol, cell=cell.text,
    )


def runs_table(paths: list[str], fmt: str = "markdown") -> tuple[str, list[str]]:
    """The table text for the runs under `paths`, and the problems met (runs left out, in words)."""
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown table format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    runs, problems = find_runs(paths)
    rows = []
    for path in runs:
        try:
            rows.append(read_row(path, problems))
        except WorkbenchError as exc:
            problems.append(f"{path}: {exc} Left out.")
    if not rows:
        raise ConfigError("No run folders to tabulate" + (f" ({problems[0]})" if problems else "") + ".")
    return (to_markdown(rows) if fmt == "markdown" else to_csv(rows)), problems


def to_csv(rows: list[RunRow]) -> str:
    """Numbers as plain fractions, for spreadsheets and plotting scripts."""
    out = io.StringIO()
    names = list(RunRow.__dataclass_fields__)
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({n: "" if getattr(row, n) is None else getattr(row, n) for n in names})
    return out.getvalue()


def to_markdown(rows: list[RunRow]) -> str:
    """Accuracies in percent with their 95% confidence interval, as papers print them."""
    header = ["Run", "Algorithm", "Hyperparameters", "Data", "Protocol", "Size", "Steps",
              "Val. accuracy (%)", "Test accuracy (%)"]
    align = ["---"] * 5 + ["---:"] * 4
    cells_shown = any(r.cell for r in rows)  # a column for the found cells only where a run has one
    if cells_shown:
        header.append("Cell")
        align.append("---")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for r in rows:
        test = _percent(r.test_accuracy, r.test_ci95)
        if r.test_accuracy is not None and r.test_protocol and r.test_protocol != r.protocol:
            test += f" ({r.test_protocol})"
        cells = [r.run, r.algorithm, r.hyperparameters or "defaults", r.data, r.protocol, str(r.image_size),
                 str(r.steps) + ("" if r.status == "completed" else f" ({r.status})"),
                 _percent(r.val_accuracy, r.val_ci95), test] + ([r.cell or "–"] if cells_shown else [])
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _hyperparameters(config) -> str:
    from workbench import catalogue

    given = dict(config.hparams)
    try:
        declared = {p.name: p for p in catalogue.get(config.algorithm).hyperparams}
    except WorkbenchError:
        declared = {}  # a plugin that is not loaded here: show the values as saved
    parts = []
    for name, value in sorted(given.items()):
        param = declared.get(name)
        if param is not None:
            try:
                value = param.coerce(value, config.algorithm)
            except WorkbenchError:
                pass
            if value == param.default:
                continue
        parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
    return "; ".join(parts)


def _protocol(ways, shots, queries) -> str:
    return f"{ways}-way {shots}-shot, {queries} queries"


def _percent(value: float | None, ci: float | None) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.2f} ± {100 * ci:.2f}" if ci is not None else f"{100 * value:.2f}"


def _number(value) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _episode_count(value) -> int | None:
    """`episodes` is a count, or (as the Inspect page saves it) the list of evaluated episodes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return len(value) if isinstance(value, list) else None


def _read_evaluation(path: Path) -> dict:
    file = path / EVALUATION_FILE
    if not file.is_file():
        return {}
    try:
        data = read_json(file, SETTINGS_LIMIT * 16, what="evaluation file")  # it lists every episode
    except (OSError, WorkbenchError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}
