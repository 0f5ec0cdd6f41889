"""The one place decoded images become what a model sees: uint8 pixels -> floats in [0, 1], inverted if asked.

Every path from pixels to a model (training and validation episodes, evaluation,
inspection, adapt-and-predict, labelling, export) goes through `to_model_pixels`
with the run's `invert` setting, so a model never sees images prepared two ways.
Images shown to a person are never passed through here: they stay as the files look.

Why invert: datasets of dark strokes on light paper (Omniglot, scans, handwriting)
have a background of 1.0; convolutions pad with zeros, so every image border looks
like a strong edge. With 1 - x the background is 0 and matches the padding
(Snell et al., 2017, feed Omniglot this way).
"""

from __future__ import annotations

import torch


def to_model_pixels(images: torch.Tensor, invert: bool = False) -> torch.Tensor:
    """uint8 images (..., C, S, S) in 0..255 -> a new float32 tensor in [0, 1]; with `invert`, 1 - x."""
    if images.dtype != torch.uint8:
        raise TypeError(f"to_model_pixels expects uint8 images, got {images.dtype}")
    pixels = images.float().div_(255.0)
    return invert_pixels_(pixels) if invert else pixels


def invert_pixels_(pixels: torch.Tensor) -> torch.Tensor:
    """1 - x in place for float pixels in [0, 1] (the same value, bit for bit, as `1.0 - pixels`)."""
    return pixels.neg_().add_(1.0)
