"""Saving a labelling session as JSON and reopening it, checking every field on the way in.

    {"format": "fewshot-workbench-labelling", "version": 1, "folder": "/abs/images",
     "classes": ["cat", "dog"], "threshold": 0.9, "model_run_dir": "runs/a" | null,
     "labels": [{"path": "img1.png", "class": "cat", "source": "human", "confidence": null}, ...]}

Predictions are not saved: they are recomputed by adapting the model again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.files import MIB, read_json
from workbench.data.problems import printable
from workbench.labelling.listing import left_out_note, resolved, walk_images
from workbench.labelling.session import (LABEL_SOURCES, MAX_CLASSES, class_name_problem, Label, LabellingError,
                                         LabelSession)
from workbench.atomic import write_json_atomic

FORMAT = "fewshot-workbench-labelling"
VERSION = 1
SUFFIX = ".labels.json"
# What the workbench writes for the most images a folder may list (labelling/listing.py) with long paths:
# 100 000 labels with 60-character paths already take 16 MiB, the bound of other settings files.
SESSION_LIMIT = 64 * MIB


def session_to_json(session: LabelSession) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "folder": session.folder,
        "classes": list(session.classes),
        "threshold": session.threshold,
        "model_run_dir": session.model_run_dir,
        "labels": [{"path": path, "class": label.name, "source": label.source, "confidence": label.confidence}
                   for path, label in sorted(session.labels.items())],
    }


def save_session(session: LabelSession, target: str | os.PathLike) -> None:
    try:
        write_json_atomic(target, session_to_json(session))
    except OSError as exc:
        raise LabellingError(f"Could not save the session to {target}: {exc.strerror or exc}.") from None


@dataclass
class LoadedSession:
    """A reopened session, plus warnings (labelled images no longer in the folder)."""

    session: LabelSession
    warnings: list[str] = field(default_factory=list)


def load_session(source: str | os.PathLike, opened: LabelSession | None = None) -> LoadedSession:
    """Read and check a session file; any problem raises LabellingError naming the file and the field.

    `opened`: the folder the person opened (its images listed), whose autosave this is. Its folder and
    images are the session's; the file's 'folder' field is not followed, so an autosave naming another
    folder (or '/') can neither make opening walk that folder nor put its images in this session.
    Without it, a relative 'folder' is relative to the file (never to wherever the workbench was started),
    and the folder is listed within the bounds of labelling/listing.py.
    """
    path = Path(source)
    try:
        data = read_json(path, SESSION_LIMIT, LabellingError, "labelling session file")
    except OSError as exc:
        raise LabellingError(f"Could not read {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabellingError(f"{path} is not a valid session file: it is not readable JSON ({exc}).") from None

    def bad(field_name: str, problem: str) -> LabellingError:
        return LabellingError(f"{path}: field '{field_name}' {problem}.")

    if not isinstance(data, dict):
        raise LabellingError(f"{path} is not a session file: expected a JSON object.")
    if data.get("format") != FORMAT:
        raise bad("format", f"must be '{FORMAT}' (this is not a labelling session file)")
    if isinstance(data.get("version"), bool) or data.get("version") != VERSION:
        raise bad("version", f"must be {VERSION}, not {data.get('version')!r}")
    folder = data.get("folder")
    if not isinstance(folder, str) or not folder:
        raise bad("folder", "must be the path of the image folder")
    classes = data.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) and c.strip() for c in classes):
        raise bad("classes", "must be a list of class names")
    if len(set(classes)) != len(classes):
        raise bad("classes", "names a class twice")
    if len(classes) > MAX_CLASSES:  # each class is a button on the page: 30 000 of them took seconds per click
        raise bad("classes", f"names {len(classes):,} classes; a labelling session may have at most {MAX_CLASSES}")
    for i, name in enumerate(classes):
        problem = class_name_problem(name)
        if problem:  # a name such as '../elsewhere' would export images outside the target folder
            raise bad(f"classes[{i}]", f"{printable(name)!r} cannot be a class name: {problem}")
    threshold = data.get("threshold")
    # Compared, never converted first: float(10**400) raises, and NaN fails every comparison.
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise bad("threshold", "must be a number between 0 and 1")
    run_dir = data.get("model_run_dir")
    if run_dir is not None and not isinstance(run_dir, str):
        raise bad("model_run_dir", "must be a path or null")
    entries = data.get("labels")
    if not isinstance(entries, list):
        raise bad("labels", "must be a list")
    labels: dict[str, Label] = {}
    known = set(classes)
    twice: list[str] = []  # paths labelled again with another class
    for i, entry in enumerate(entries):
        where = f"labels[{i}]"
        if not isinstance(entry, dict):
            raise bad(where, "must be an object with path, class, source and confidence")
        image, name, source_kind, confidence = (entry.get(k) for k in ("path", "class", "source", "confidence"))
        if not isinstance(image, str) or not image:
            raise bad(f"{where}.path", "must be an image path relative to the folder")
        if not isinstance(name, str) or name not in known:
            raise bad(f"{where}.class", f"names {name!r}, which is not in 'classes'")
        if source_kind not in LABEL_SOURCES:
            raise bad(f"{where}.source", f"must be one of {', '.join(LABEL_SOURCES)}, not {source_kind!r}")
        if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                       or not 0 <= confidence <= 1):
            raise bad(f"{where}.confidence", "must be null or a number between 0 and 1")
        first = labels.get(image)
        if first is not None:  # a hand-merged file: one label per image, and the person is told which
            if first.name != name:
                twice.append(f"{printable(image)}: '{printable(first.name)}', not '{printable(name)}'")
            continue
        labels[image] = Label(name, source_kind, None if confidence is None else float(confidence))
    if opened is not None:
        folder, images, left_out = opened.folder, list(opened.images), opened.left_out
    else:
        folder = str(resolved(path.parent / folder)) if not os.path.isabs(folder) else folder
        try:
            listing = walk_images(folder)
        except WorkbenchError as exc:
            raise LabellingError(f"{path}: field 'folder': {exc}") from None
        images, left_out = listing.images, listing.left_out
    present = set(images)
    missing = [p for p in labels if p not in present]
    warnings = left_out_note(folder, left_out)
    if twice:
        warnings.append(f"{len(twice)} image(s) are labelled twice in {path} with different classes; the first "
                        f"label of each was kept (first: {twice[0]}).")
    if missing:
        warnings.append(f"{len(missing)} labelled image(s) are no longer in {folder} and were left out "
                        f"(first: {missing[0]}).")
        for p in missing:
            del labels[p]
    session = LabelSession(folder=str(Path(folder)), images=images, classes=list(classes), labels=labels,
                           model_run_dir=run_dir, threshold=float(threshold) + 0.0,  # + 0.0: -0.0 becomes 0.0
                           left_out=list(left_out))
    return LoadedSession(session, warnings)
