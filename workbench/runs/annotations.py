"""A person's own words about a run: the name shown for it, a note and tags, in RUN/annotations.json.

Renaming a run changes only the name shown: the folder keeps its name, because labelling sessions,
projects and evaluations hold the run's path. The file is read like the run's other files (bounded,
by type, every field checked) and written atomically. A file that cannot be read, or holds a field
of the wrong kind, costs nothing: the fields that can be read are shown, the problem is said, and
the next edit keeps the old file aside (annotations.damaged.json) before writing a new one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from workbench.atomic import UnsafeTargetError, write_json_atomic
from workbench.errors import RunFolderError
from workbench.files import read_json

ANNOTATIONS_FILE = "annotations.json"
DAMAGED_NAME = "annotations.damaged"
# Far above what a person types, far below what would slow the run list (read for every run at each refresh).
ANNOTATIONS_LIMIT = 256 * 1024
NAME_MAX = 120
NOTE_MAX = 4000
TAG_MAX = 40
TAGS_MAX = 30
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a note keeps its tabs and line breaks, nothing else invisible


class AnnotationError(RunFolderError):
    """A name, note or tag that cannot be kept as given, or an annotations file that cannot be read."""


@dataclass(frozen=True)
class Annotations:
    name: str = ""  # empty: the folder's name is shown
    note: str = ""
    tags: tuple[str, ...] = ()


def clean_name(text: str) -> str:
    """`text` as one line of plain words; AnnotationError when it is too long."""
    name = " ".join(_CONTROL.sub(" ", str(text)).split())
    if len(name) > NAME_MAX:
        raise AnnotationError(f"A run's name may be at most {NAME_MAX} characters; this one has {len(name)}.")
    return name


def clean_note(text: str) -> str:
    note = _CONTROL.sub("", str(text)).strip()
    if len(note) > NOTE_MAX:
        raise AnnotationError(f"A note may be at most {NOTE_MAX} characters; this one has {len(note)}.")
    return note


def parse_tags(text: str | list | tuple) -> tuple[str, ...]:
    """Tags from 'baseline, lr sweep' (or a list): trimmed, in order, each once (whatever its case)."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    tags: list[str] = []
    for part in parts:
        tag = " ".join(_CONTROL.sub(" ", str(part)).split())
        if not tag or tag.casefold() in (t.casefold() for t in tags):
            continue
        if len(tag) > TAG_MAX:
            raise AnnotationError(f"A tag may be at most {TAG_MAX} characters; '{tag[:TAG_MAX]}…' is longer.")
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise AnnotationError(f"A run may have at most {TAGS_MAX} tags; {len(tags)} were given.")
    return tuple(tags)


def annotations_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / ANNOTATIONS_FILE


def load_annotations(run_dir: str | os.PathLike) -> tuple[Annotations, str]:
    """What the run's annotations file says, and a sentence on what was wrong with it ("" when nothing).
    Never raises: a missing file is no annotations, a damaged one gives the fields that could be read."""
    annotations, problem, _raw = _load(annotations_path(run_dir))
    return annotations, problem


def read_annotations(run_dir: str | os.PathLike) -> Annotations:
    """The run's annotations; AnnotationError with one sentence when the file is damaged."""
    annotations, problem = load_annotations(run_dir)
    if problem:
        raise AnnotationError(problem)
    return annotations


def update_annotations(run_dir: str | os.PathLike, *, name: str | None = None, note: str | None = None,
                       tags: str | list | tuple | None = None) -> tuple[Annotations, str]:
    """Change the fields given (the others stay), written atomically. Returns the new annotations and a
    sentence when a damaged file was kept aside first ("" otherwise). AnnotationError for a value that
    cannot be kept, RunFolderError when the folder cannot be written; either way nothing was saved."""
    path = annotations_path(run_dir)
    changes = {}
    if name is not None:
        changes["name"] = clean_name(name)
    if note is not None:
        changes["note"] = clean_note(note)
    if tags is not None:
        changes["tags"] = parse_tags(tags)
    current, problem, raw = _load(path)
    new = replace(current, **changes)
    data = {**(raw if not problem else {}), "name": new.name, "note": new.note, "tags": list(new.tags)}
    kept = ""
    try:
        if problem and (path.exists() or path.is_symlink()):
            kept_at = _keep_aside(path)
            kept = f"{problem} It was kept as {kept_at.name} beside it, and a new one was written."
        write_json_atomic(path, data)
    except OSError as exc:
        raise RunFolderError(f"Cannot save the run's name, note and tags in {path}: {exc.strerror or exc}; "
                             f"nothing was saved.") from None
    except UnsafeTargetError as exc:  # a folder or a device put there after it was read
        raise RunFolderError(f"Cannot save the run's name, note and tags: {exc}") from None
    return new, kept


def _load(path: Path) -> tuple[Annotations, str, dict[str, Any]]:
    if not path.exists() and not path.is_symlink():
        return Annotations(), "", {}
    try:
        data = read_json(path, ANNOTATIONS_LIMIT, AnnotationError, "run notes file")
    except AnnotationError as exc:
        return Annotations(), str(exc), {}
    except OSError as exc:
        return Annotations(), f"Cannot read {path}: {exc.strerror or exc}.", {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Annotations(), f"{path} is damaged (not valid JSON: {exc}).", {}
    if not isinstance(data, dict):
        return Annotations(), f"{path} is damaged: expected a JSON object, found {type(data).__name__}.", {}
    problems: list[str] = []
    found: dict[str, Any] = {}
    for key, clean in (("name", clean_name), ("note", clean_note)):
        value = data.get(key, "")
        if not isinstance(value, str):
            problems.append(f"field '{key}' must be text, not {type(value).__name__}")
            continue
        try:
            found[key] = clean(value)
        except AnnotationError as exc:
            problems.append(f"field '{key}': {exc}")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append("field 'tags' must be a list of text")
        tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    try:
        found["tags"] = parse_tags(tags)
    except AnnotationError as exc:
        problems.append(f"field 'tags': {exc}")
        # What can be kept is shown: the tags that are short enough, as many as a run may have.
        found["tags"] = parse_tags([t for t in tags if len(" ".join(t.split())) <= TAG_MAX][:TAGS_MAX])
    problem = f"{path} is damaged: {'; '.join(problems)}." if problems else ""
    return Annotations(**found), problem, data


def _keep_aside(path: Path) -> Path:
    """Rename the damaged file to a free annotations.damaged[-N].json beside it; its path."""
    for number in range(1, 1000):
        suffix = "" if number == 1 else f"-{number}"
        target = path.with_name(f"{DAMAGED_NAME}{suffix}.json")
        if not target.exists() and not target.is_symlink():
            os.replace(path, target)
            return target
    raise OSError(f"no free name beside {path} to keep the damaged file under")
