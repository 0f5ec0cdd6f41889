"""Checking the structure of an evaluation.json before the Inspect page shows it.

The file is valid JSON written by `inspect`, but anyone may edit or plant one in a run folder. Its
values index each other (a confusion row per class, an episode's labels index its classes) and feed
Qt models, where a wrong type or a short row raised inside painting (it crashed the window) and a
hundred thousand mistakes made a widget each (minutes). So every field is checked here, each
failure one sentence naming the field, and the lists the page makes widgets of are bounded.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import RunFolderError

# `inspect` writes at most MAX_MISTAKES (24) mistakes, each with a support image per shot (at most 10 000 shots);
# the page makes a row of widgets per mistake, and shows a few support images of each (mistakes_view.py).
MAX_MISTAKES_READ = 100
MAX_SUPPORT_READ = 10_000

_MISTAKE_INTS = ("episode", "query_row", "turns_true", "turns_predicted")
_EPISODE_INT_LISTS = ("class_turns", "support_rows", "support_labels", "query_rows", "query_labels", "predicted")


class _Bad(Exception):
    """A field that is not what the file says it is: (its path, what it must be)."""


def check_evaluation(data: Any, source: str) -> None:
    """Raise RunFolderError saying which field of `data` (an evaluation.json) is malformed, if any is."""
    try:
        _check(data)
    except _Bad as bad:
        where, problem = bad.args
        raise RunFolderError(f"{source} is damaged: field '{where}' {problem}; evaluate the run again.") from None


def _check(data: Any) -> None:
    if not isinstance(data, dict):
        raise _Bad("(top)", "must be an object")
    for name in ("run_dir", "class_source"):
        _text(data.get(name), name)
    for name in ("ways", "shots", "queries", "seed"):
        _integer(data.get(name), name)
    for name in ("accuracy", "ci95"):
        _number(data.get(name), name)
    _texts(data.get("data"), "data")
    classes = _texts(data.get("classes"), "classes")
    _per_class(data.get("per_class"))
    _confusion(data.get("confusion"), len(classes))
    mistakes = _list(data.get("mistakes"), "mistakes", MAX_MISTAKES_READ)
    for i, mistake in enumerate(mistakes):
        _mistake(mistake, f"mistakes[{i}]")
    for i, episode in enumerate(_list(data.get("episodes"), "episodes")):
        _episode(episode, f"episodes[{i}]")
    for i, point in enumerate(_list(data.get("task_xy", []), "task_xy")):
        if len(_numbers(point, f"task_xy[{i}]")) != 2:
            raise _Bad(f"task_xy[{i}]", "must be two numbers (a point)")
    if "created" in data:
        _text(data["created"], "created")


def _per_class(rows: Any) -> None:
    for i, row in enumerate(_list(rows, "per_class")):
        where = f"per_class[{i}]"
        _object(row, where)
        _text(row.get("class"), f"{where}.class")
        _integer(row.get("correct"), f"{where}.correct")
        _integer(row.get("total"), f"{where}.total")
        _number(row.get("accuracy"), f"{where}.accuracy")


def _confusion(rows: Any, size: int) -> None:
    rows = _list(rows, "confusion")
    if len(rows) != size:
        raise _Bad("confusion", f"must have one row per class ({size}), not {len(rows)}")
    for i, row in enumerate(rows):
        counts = _integers(row, f"confusion[{i}]")
        if len(counts) != size or any(count < 0 for count in counts):
            raise _Bad(f"confusion[{i}]", f"must be {size} counts of 0 or more, one per class")


def _mistake(mistake: Any, where: str) -> None:
    _object(mistake, where)
    for name in _MISTAKE_INTS:
        _integer(mistake.get(name), f"{where}.{name}")
    for name in ("query_path", "true_class", "predicted_class"):
        _text(mistake.get(name), f"{where}.{name}")
    _number(mistake.get("confidence"), f"{where}.confidence")
    for name in ("true_support", "predicted_support"):
        _integers(mistake.get(name), f"{where}.{name}", MAX_SUPPORT_READ)
    for name in ("true_support_paths", "predicted_support_paths"):
        _texts(mistake.get(name), f"{where}.{name}", MAX_SUPPORT_READ)


def _episode(episode: Any, where: str) -> None:
    _object(episode, where)
    classes = _texts(episode.get("classes"), f"{where}.classes")
    lists = {name: _integers(episode.get(name), f"{where}.{name}") for name in _EPISODE_INT_LISTS}
    confidence = _numbers(episode.get("confidence"), f"{where}.confidence")
    if lists["class_turns"] and len(lists["class_turns"]) != len(classes):
        raise _Bad(f"{where}.class_turns", "must be empty or hold one number per class")
    if len(lists["support_rows"]) != len(lists["support_labels"]):
        raise _Bad(f"{where}.support_labels", "must hold one label per support row")
    queries = len(lists["query_rows"])
    if not len(lists["query_labels"]) == len(lists["predicted"]) == len(confidence) == queries:
        raise _Bad(f"{where}.predicted", "must hold one label, prediction and confidence per query row")
    for name in ("support_labels", "query_labels", "predicted"):
        if any(not 0 <= label < len(classes) for label in lists[name]):
            raise _Bad(f"{where}.{name}", f"must index the episode's {len(classes)} classes (0 to {len(classes) - 1})")


# --- the kinds of values -------------------------------------------------------------------------------------
def _object(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(where, "must be an object")
    return value


def _list(value: Any, where: str, limit: int | None = None) -> list:
    if not isinstance(value, list):
        raise _Bad(where, "must be a list")
    if limit is not None and len(value) > limit:
        raise _Bad(where, f"holds {len(value):,} entries, more than the {limit:,} an evaluation may")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(where, "must be text")
    return value


def _texts(value: Any, where: str, limit: int | None = None) -> list:
    for item in _list(value, where, limit):
        _text(item, where)
    return value


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(where, "must be a whole number")
    return value


def _integers(value: Any, where: str, limit: int | None = None) -> list:
    for item in _list(value, where, limit):
        _integer(item, where)
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(where, "must be a number")
    try:
        float(value)  # an integer of 400 digits is valid JSON, but no percentage can be shown of it
    except OverflowError:
        raise _Bad(where, "is too large a number") from None
    return value


def _numbers(value: Any, where: str) -> list:
    for item in _list(value, where):
        _number(item, where)
    return value
