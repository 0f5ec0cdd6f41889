"""Reading one image again by the path an ImageCache reports (a file, or `archive.zip!member`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from workbench.data.images import ImageDecodeError, decode_image


def read_display_image(display_path: str, size: int, channels: int) -> np.ndarray:
    """(channels, size, size) uint8; raises ImageDecodeError when the file is gone or unreadable."""
    try:
        source, sep, member = display_path.partition("!")
        if sep and zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                payload = archive.read(member)
        else:
            payload = Path(display_path).read_bytes()
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ImageDecodeError(f"cannot read {display_path} ({exc})") from None
    return decode_image(payload, size, channels)
