"""Listing the images of a folder to label, within bounds, on the window's thread.

A folder is opened by a person, or named by a session file that anyone may have written
("folder": "/"). Walking "/" or a home folder of millions of files would freeze the window
for minutes, so the walk stops past LIST_ENTRY_LIMIT files and folders, or LIST_SECONDS,
and says so. It is a loop over a stack, not recursion, so a tree thousands of folders deep
is walked like a shallow one. Only regular files (links followed) are images: a named pipe,
a device, a socket or a link to nothing named like an image is left out, and counted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.problems import printable
from workbench.data.sources import check_folder, is_image_name, is_litter
from workbench.errors import DataError

# Far above a folder of images to label by hand (thousands, tens of thousands), far below what "/" or a home
# folder holds; 200 000 directory entries are listed in well under a second from a warm local disk.
LIST_ENTRY_LIMIT = 200_000
LIST_SECONDS = 15.0  # a slow network share: better a sentence than a window frozen for minutes
_CLOCK_EVERY = 1024  # entries between two looks at the clock


class FolderTooLargeError(DataError):
    """The folder holds more than a folder to label may (or takes too long to list)."""


@dataclass
class Listing:
    """The images of a folder (sorted paths relative to it), and the names like images that are not files."""

    images: list[str]
    left_out: list[str] = field(default_factory=list)


def walk_images(folder: str | os.PathLike) -> Listing:
    """Every image file under `folder` (nested folders too, hidden and litter ones skipped), bounded as above."""
    root = check_folder(folder, DataError, "Folder")
    shown = printable(str(root))
    listing = Listing([])
    seen, deadline = 0, time.monotonic() + LIST_SECONDS
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            with os.scandir(root / prefix if prefix else root) as entries:
                for entry in entries:
                    seen += 1
                    _check_bounds(shown, seen, deadline)
                    if not is_litter(entry.name):
                        _take(entry, prefix + entry.name, listing, stack)
        except OSError:
            continue  # an unreadable subfolder (or a path past the system's length limit): its images are not listed
    if not listing.images:
        raise DataError(f"No image files in {shown} (looked for .png, .jpg, .bmp, ... in it and its subfolders).")
    listing.images.sort()
    return listing


def _check_bounds(shown: str, seen: int, deadline: float) -> None:
    if seen > LIST_ENTRY_LIMIT:
        raise FolderTooLargeError(f"{shown} holds more than {LIST_ENTRY_LIMIT:,} files and folders, more than a folder "
                                  f"to label here may; choose the folder that holds the images to label.")
    if seen % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
        raise FolderTooLargeError(f"Listing {shown} took more than {LIST_SECONDS:.0f} s ({seen:,} files and folders so "
                                  f"far); choose the folder that holds the images to label, or copy them to a local drive.")


def _take(entry: os.DirEntry, path: str, listing: Listing, stack: list[str]) -> None:
    """Put one directory entry where it belongs: a subfolder to walk, an image, or a name left out."""
    try:
        if entry.is_dir(follow_symlinks=False):
            stack.append(path + "/")
            return
        if not is_image_name(entry.name) or entry.is_dir():  # a link to a folder is not walked (no loops)
            return
        regular = entry.is_file()  # links followed: a link to a pipe or /dev/zero is not a file
    except OSError:
        regular = False
    (listing.images if regular else listing.left_out).append(path)


def list_images(folder: str | os.PathLike) -> list[str]:
    """The sorted image paths of `folder`, relative to it (see walk_images)."""
    return walk_images(folder).images


def left_out_note(folder: str, left_out: list[str]) -> list[str]:
    """The sentence saying which names like images were left out of a folder (none: no sentence)."""
    if not left_out:
        return []
    count = len(left_out)
    return [f"{count} name{'s' if count != 1 else ''} in {printable(folder)} look{'s' if count == 1 else ''} like "
            f"image{'s' if count != 1 else ''} but {'is' if count == 1 else 'are'} not a file (a named pipe, a device "
            f"or a broken link) and {'was' if count == 1 else 'were'} left out (first: {printable(left_out[0])})."]


def resolved(path: str | os.PathLike) -> Path:
    """`path` made absolute with its links followed; a link loop stays as it is (Path.resolve raises on one)."""
    return Path(os.path.realpath(path))
