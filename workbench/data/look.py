"""What a dataset's images look like, read from the pixels: light or dark background, drawings or photos.

The defaults that give the best model depend on it, and a person should not have
to know the tricks:
- dark strokes on light paper (Omniglot, scans, handwriting) train better inverted
  (see pixels.py: the background then matches the convolutions' zero padding);
- for drawings, a rotated or mirrored class is a different symbol, so rotations and
  mirror images make new training classes (Snell et al. 2017, Santoro et al. 2016);
  for photos a mirrored dog is still a dog, so they are off.

The decision is made once on a sample of training images and written into the run,
with the reason, so evaluate, adapt, labelling and export prepare images the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

SAMPLE_IMAGES = 256  # enough to be stable, cheap on any dataset
BACKGROUND_TOLERANCE = 0.2  # a pixel this close to the background value counts as background
DRAWING_BACKGROUND_SHARE = 0.6  # drawings are mostly background
GRAY_TOLERANCE = 0.04  # mean |R-G|, |G-B| below this: a grayscale image stored as RGB


@dataclass(frozen=True)
class DataLook:
    """The look of a sample of images and the settings it implies."""

    light_background: bool
    drawings: bool
    background_share: float
    images: int

    @property
    def invert(self) -> bool:
        return self.light_background and self.drawings

    @property
    def new_classes_from_turns(self) -> bool:
        return self.drawings

    def describe(self) -> str:
        kind = "drawings" if self.drawings else "photos or textured images"
        paper = "dark strokes on a light background" if self.light_background else "a dark background"
        return (f"{self.images} sampled images look like {kind} with {paper} "
                f"({self.background_share:.0%} of pixels are background)")


def look_of(images: torch.Tensor) -> DataLook:
    """Read the look of uint8 images (n, C, S, S)."""
    if len(images) == 0:
        return DataLook(False, False, 0.0, 0)
    pixels = images.float() / 255.0
    gray = pixels.mean(dim=1)  # (n, S, S)
    border = torch.cat([gray[:, 0, :], gray[:, -1, :], gray[:, :, 0], gray[:, :, -1]], dim=1)
    background = border.median(dim=1).values  # per image: the paper's value
    share = ((gray - background[:, None, None]).abs() < BACKGROUND_TOLERANCE).float().mean().item()
    colourful = pixels.shape[1] == 3 and (
        (pixels[:, 0] - pixels[:, 1]).abs().mean().item() > GRAY_TOLERANCE
        or (pixels[:, 1] - pixels[:, 2]).abs().mean().item() > GRAY_TOLERANCE
    )
    light = float(background.median()) > 0.5
    drawings = share >= DRAWING_BACKGROUND_SHARE and not colourful
    return DataLook(light, drawings, share, len(images))


def sample_rows(class_images: list[np.ndarray], classes: list[int], limit: int = SAMPLE_IMAGES, seed: int = 0) -> np.ndarray:
    """Up to `limit` image rows spread over `classes` (seeded, so a run decides the same way twice)."""
    rows = np.concatenate([class_images[c] for c in classes]) if classes else np.empty(0, dtype=np.int64)
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))
