"""A labelling session's labels as an export's support set, read as `export` reads class folders.

Classes in name order and each class's images in path order, as read_support_folder lists class
subfolders, so a session exports the very file `export --support` writes for the same images copied
into class folders (the Label page's Class folders › Copy).
"""

from __future__ import annotations

from pathlib import Path, PurePath

import numpy as np
import torch

from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.data.problems import Problem, printable
from workbench.export.adapted import ExportError


def read_labelled(folder: str | Path, labels: dict[str, str], size: int, channels: int,
                  ) -> tuple[list[str], torch.Tensor, torch.Tensor, list[Problem]]:
    """Class names, images as the files look (never inverted), class indices and the problems, from
    `labels` (path relative to `folder` -> class name). A class whose images cannot be read is refused,
    not left out: the exported model would silently lack a class the person made."""
    names = sorted(set(labels.values()))
    if len(names) < 2:
        raise ExportError("Label images of at least two classes before exporting a model "
                          f"(labelled classes now: {', '.join(names) or 'none'}).")
    images: list[np.ndarray] = []
    indices: list[int] = []
    problems: list[Problem] = []
    for index, name in enumerate(names):
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ExportError(f"The class name '{printable(name)}' is not valid text, so it cannot be stored in the "
                              "model; rename the class and export again.") from None
        paths = sorted((p for p, c in labels.items() if c == name), key=PurePath)
        read, first = 0, ""
        for path in paths:
            file = Path(folder) / path
            try:
                images.append(load_image_file(str(file), size, channels))
            except ImageDecodeError as exc:
                problems.append(Problem("unreadable-image", str(file), f"{exc}; skipped"))
                first = first or f"{path}: {exc}"
                continue
            indices.append(index)
            read += 1
        if not read:
            raise ExportError(f"None of the images labelled '{name}' can be read now (first: {first}); label "
                              "readable images as that class, or remove it, and export again.")
    return names, to_model_pixels(torch.from_numpy(np.stack(images)), False), torch.tensor(indices), problems
