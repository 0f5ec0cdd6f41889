"""Fetching Omniglot's background set (Lake et al., Science 2015) through torchvision, when online."""

from __future__ import annotations

import socket
import urllib.error
from pathlib import Path

from workbench.errors import DataError

BACKGROUND_FOLDER = "images_background"


def omniglot_background(root: str | Path) -> Path:
    """Download (or reuse) Omniglot's background set under root/omniglot-py; returns its folder of alphabets.

    No network gives a DataError that says so and what to do instead.
    """
    root = Path(root)
    folder = root / "omniglot-py" / BACKGROUND_FOLDER
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    try:
        from torchvision.datasets import Omniglot
    except ImportError as exc:  # torchvision is a dependency; a broken install says so
        raise DataError(f"Cannot fetch Omniglot: torchvision does not import here ({exc}).") from None
    try:
        root.mkdir(parents=True, exist_ok=True)
        Omniglot(str(root), background=True, download=True)
    except (urllib.error.URLError, socket.timeout, ConnectionError, TimeoutError) as exc:
        raise DataError(
            "Could not download Omniglot: no network connection (" + _reason(exc) + "). Use File › Create demo "
            "dataset to train without data, or copy Omniglot's images_background.zip here and open it."
        ) from None
    except OSError as exc:
        raise DataError(f"Could not download Omniglot into {root}: {exc.strerror or exc}.") from None
    except RuntimeError as exc:  # torchvision's "File not found or corrupted"
        raise DataError(f"Omniglot's download was incomplete or damaged ({exc}); try again.") from None
    if not folder.is_dir():
        raise DataError(f"Omniglot was downloaded but {folder} is missing; try again.")
    return folder


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).splitlines()[0] if str(reason) else type(exc).__name__
