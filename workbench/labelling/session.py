"""The state of one labelling session: a folder of images, classes, labels and predictions."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.problems import printable
from workbench.errors import WorkbenchError
from workbench.labelling.listing import list_images, resolved, walk_images  # noqa: F401 (list_images: its home was here)

HUMAN = "human"
ACCEPTED = "accepted prediction"
LABEL_SOURCES = (HUMAN, ACCEPTED)
DEFAULT_THRESHOLD = 0.9
# Far more than a person labels by hand; each class is a button, a list row and a filter entry on the page.
MAX_CLASSES = 500


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
    # Names like images in the folder that are not files (pipes, devices, broken links): not in `images`.
    left_out: list[str] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open_folder(cls, folder: str | os.PathLike) -> LabelSession:
        listing = walk_images(folder)  # first: it says what `folder` is when it is not a folder
        return cls(folder=str(resolved(folder)), images=listing.images, left_out=listing.left_out)

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


def folder_key(name: str) -> str:
    """What a class's folder is called on a drive that ignores case and how accents are encoded (Windows,
    macOS): two classes with one key would share one folder there, their images mixed."""
    return unicodedata.normalize("NFC", name).casefold()


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
    twin = next((other for other in existing if folder_key(other) == folder_key(name)), None)
    if twin is not None:
        raise LabellingError(f"'{printable(name)}' differs from the class '{printable(twin)}' only in upper and lower "
                             f"case or in how its accents are encoded; on Windows and macOS both would be one folder.")
    if len(existing) >= MAX_CLASSES:
        raise LabellingError(f"A labelling session may have at most {MAX_CLASSES} classes.")
    return name
