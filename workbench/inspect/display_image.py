"""Reading one image again by the path an ImageCache reports (a file, or `archive.zip!member`).

The paths come from a run's evaluation.json, which anyone may have edited: each is read through
the same checks as every other file (workbench/files.py), so a pipe, device, folder, `/dev/zero`
or a huge file is refused from its type or size before a byte is read, never hanging or filling memory.
"""

from __future__ import annotations

import os
import stat
import zipfile

import numpy as np

from workbench.data.images import ImageDecodeError, decode_image
from workbench.data.sources import MAX_IMAGE_BYTES, ImageRef
from workbench.files import UnreadableFileError, read_bytes


def read_display_image(display_path: str, size: int, channels: int) -> np.ndarray:
    """(channels, size, size) uint8; raises ImageDecodeError when the file is gone, unreadable or not an image file."""
    source, sep, member = display_path.partition("!")
    try:
        if sep and _is_regular(source) and zipfile.is_zipfile(source):
            payload = ImageRef(source, member, in_zip=True).read_bytes()  # bounded, zip bombs refused
        else:
            payload = read_bytes(display_path, MAX_IMAGE_BYTES, UnreadableFileError, "plain image file")
    except UnreadableFileError as exc:
        raise ImageDecodeError(str(exc)) from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ImageDecodeError(f"cannot read {display_path} ({reason})") from None
    return decode_image(payload, size, channels)


def _is_regular(path: str) -> bool:
    """Whether `path` is a regular file: only then may it be opened to see whether it is a zip (a pipe would block)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
