"""The state of one labelling session: a folder of images, classes, labels and predictions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.problems import printable
from workbench.data.sources import is_image_name, is_litter
from workbench.errors import DataError, WorkbenchError

HUMAN = "human"
ACCEPTED = "accepted prediction"
LABEL_SOURCES = (HUMAN, ACCEPTED)
DEFAULT_THRESHOLD = 0.9


class LabellingError(WorkbenchError):
    """A labelling action cannot be done as asked (a bad class name, too few labels, a damaged session file)."""


@dataclass(frozen=True)
class Label:
    """A class given to an image: by a person (`human`) or by accepting a prediction (with its confidence)."""

    name: str
    source: str = HUMAN
    confidence: float | None = None


@dataclass(frozen=True)
class Prediction:
    """The adapted model's most likely class for an image, and its probability."""

    name: str
    confidence: float


@dataclass
class LabelSession:
    """Images (paths relative to `folder`, in a fixed order), classes in order, labels and predictions by path.

    Promise: every label and prediction names a class in `classes`, and every
    labelled path is one of `images`; the operations keep it so.
    """

    folder: str
    images: list[str]
    classes: list[str] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    predictions: dict[str, Prediction] = field(default_factory=dict)
    model_run_dir: str | None = None
    threshold: float = DEFAULT_THRESHOLD

    @classmethod
    def open_folder(cls, folder: str | os.PathLike) -> LabelSession:
        root = Path(folder)
        return cls(folder=str(root.resolve()), images=list_images(root))

    def absolute(self, path: str) -> str:
        return str(Path(self.folder) / path)

    def class_index(self, name: str) -> int:
        return self.classes.index(name)

    def counts(self) -> dict[str, int]:
        """Labelled images per class (human and accepted together)."""
        counts = {name: 0 for name in self.classes}
        for label in self.labels.values():
            counts[label.name] += 1
        return counts

    def unlabelled(self) -> list[str]:
        return [path for path in self.images if path not in self.labels]


def list_images(folder: str | os.PathLike) -> list[str]:
    """Every image file under `folder` (nested folders too, hidden ones skipped), as sorted relative paths."""
    root = Path(folder)
    if not root.is_dir():
        raise DataError(f"Folder not found: {root}. Choose a folder that holds images.")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not is_litter(d))
        prefix = Path(dirpath).relative_to(root).as_posix()  # once per folder: pathlib per file is slow
        prefix = "" if prefix == "." else prefix + "/"
        found.extend(prefix + name for name in filenames if not is_litter(name) and is_image_name(name))
    found.sort()
    if not found:
        raise DataError(f"No image files in {root} (looked for .png, .jpg, .bmp, ... in it and its subfolders).")
    return found


def class_name_problem(name: str) -> str:
    """Why `name` cannot name a class, or '' when it can. A class becomes a folder name on export, so it is a
    name, never a path: no separators, no '.' or '..', no control characters, at most 255 bytes."""
    if not isinstance(name, str) or not name.strip():
        return "a class needs a name"
    if name != name.strip():
        return "it begins or ends with a space"
    if any(ch in name for ch in '/\\') or name in (".", ".."):
        return "it becomes a folder name, so no '/', '\\' or '..'"
    if any(not ch.isprintable() for ch in name):
        return "it holds a control character (a newline, tab or NUL)"
    try:
        too_long = len(os.fsencode(name)) > 255
    except UnicodeError:  # a lone surrogate: no file system can store it
        return "it holds characters that no file name can"
    if too_long:
        return "it is longer than a folder name may be (255 bytes)"
    return ""


def check_class_name(name: str, existing: list[str]) -> str:
    """The name stripped, or a LabellingError saying why it cannot name a class (it becomes a folder name)."""
    name = name.strip()
    if not name:
        raise LabellingError("A class needs a name.")
    problem = class_name_problem(name)
    if problem:
        raise LabellingError(f"'{printable(name)}' cannot be a class name: {problem}.")
    if name in existing:
        raise LabellingError(f"There is already a class named '{name}'.")
    return name
