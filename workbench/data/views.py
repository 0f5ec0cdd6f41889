"""Views of a class: the quarter turns and the mirror image that make new classes from old.

A view is one small integer, so episodes and events can name it cheaply:
`view % 4` is the number of quarter turns (as torch.rot90 over the last two
dims), and `view >= 4` means the image is mirrored left-right before turning.
The sampler, the GUI and the inspect page all orient images through these two
functions, so what a person sees is what the model was trained on.
"""

from __future__ import annotations

import numpy as np
import torch

MIRRORED = 4


def orient(images: torch.Tensor, view: int) -> torch.Tensor:
    """images (..., H, W) seen through `view`."""
    if view >= MIRRORED:
        images = torch.flip(images, dims=(-1,))
    turns = view % 4
    return torch.rot90(images, turns, dims=(-2, -1)) if turns else images


def orient_array(array: np.ndarray, view: int) -> np.ndarray:
    """The numpy twin of `orient`, for display code."""
    if view >= MIRRORED:
        array = array[..., ::-1]
    turns = view % 4
    return np.ascontiguousarray(np.rot90(array, turns, axes=(-2, -1)) if turns else array)


def describe(view: int) -> str:
    """' (rot 90)', ' (mirror)', ' (mirror, rot 180)' or '' for the plain class."""
    parts = (["mirror"] if view >= MIRRORED else []) + ([f"rot {90 * (view % 4)}"] if view % 4 else [])
    return f" ({', '.join(parts)})" if parts else ""
