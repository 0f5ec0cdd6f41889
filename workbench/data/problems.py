"""Problems found in a dataset, kept as a list a person can read."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import DataError


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
        return f"{printable(self.path)}: {printable(self.message)}" if self.path else printable(self.message)


def printable(text: str) -> str:
    """`text` safe to print or write as one line of UTF-8: control characters (a newline in a
    file name) and undecodable bytes of a file name are shown as escapes instead."""
    if text.isprintable() and not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    out = []
    for ch in text:
        if "\udc80" <= ch <= "\udcff":  # a byte of a name that is not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii") if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


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


def no_usable_classes(problems: list) -> DataError:
    """The error for data of which nothing could be used, naming why with the first problem seen."""
    reason = ""
    if problems:
        reason = f" ({'the first of ' + str(len(problems)) + ' problems: ' if len(problems) > 1 else ''}{problems[0]})"
    return DataError(f"No usable classes: no class folder holds a readable image{reason}.")
