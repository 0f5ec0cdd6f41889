"""Problems found in a dataset, kept as a list a person can read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data; the usable rest is still used.

    `kind` is a short stable code (for tests and filtering), `path` names the
    file or folder, `message` says in words what happened and what was done.
    """

    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# The kinds, in one place so the GUI can explain and filter them.
NOT_AN_IMAGE = "not-an-image"
UNREADABLE = "unreadable-image"
UNREADABLE_FOLDER = "unreadable-folder"
EMPTY_CLASS = "empty-class"
TOO_FEW_IMAGES = "too-few-images"
TOO_FEW_CLASSES = "too-few-classes"
DUPLICATE_CLASS = "duplicate-class"
TOO_LARGE = "too-large"
UNSAFE_PATH = "unsafe-path"
