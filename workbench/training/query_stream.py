"""Query images for `adapt`, decoded and predicted a chunk at a time.

Peak memory then depends on the chunk (QUERY_CHUNK images, their pixels and one forward
pass over them), not on how many query images there are: 10 000 images cost what 64 do,
plus one small result per image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.data.problems import Problem
from workbench.data.sources import check_folder, is_image_name, is_litter
from workbench.errors import DataError

QUERY_CHUNK = 64  # images decoded and predicted at once


def query_paths(folder: str) -> tuple[list[Path], list[Problem]]:
    """Every image file under `folder` (flat or nested, OS litter skipped) in path order, and the files that are not images."""
    root = check_folder(folder, DataError, "Query folder")
    paths, problems = [], []
    for path in sorted(root.rglob("*")):
        if any(is_litter(part) for part in path.relative_to(root).parts) or not path.is_file():
            continue
        if not is_image_name(path.name):
            problems.append(Problem("not-an-image", str(path), "not an image file type; skipped"))
            continue
        paths.append(path)
    return paths, problems


def decoded_chunks(paths: list[Path], size: int, channels: int, invert: bool = False,
                   chunk: int | None = None) -> Iterator[tuple[list[str], torch.Tensor, list[Problem]]]:
    """(paths, images as the model sees them, problems) for each run of `chunk` (QUERY_CHUNK) files;
    unreadable ones are problems."""
    chunk = chunk or QUERY_CHUNK
    for start in range(0, len(paths), chunk):
        kept, images, problems = [], [], []
        for path in paths[start:start + chunk]:
            try:
                images.append(load_image_file(str(path), size, channels))
            except ImageDecodeError as exc:
                problems.append(Problem("unreadable-image", str(path), f"{exc}; skipped"))
                continue
            kept.append(str(path))
        pixels = to_model_pixels(torch.from_numpy(np.stack(images)), invert) if images else torch.empty(0)
        yield kept, pixels, problems
