"""Small random affine distortions of training images (shift, rotation, scale, shear).

With only a few hundred training classes (Omniglot's minimal background sets),
a metric or MAML learner overfits to the exact strokes it saw; jittering every
image independently makes it learn features that survive the small variations
between people's handwriting. Each image gets its own transform (never one per
task), and only training episodes are distorted: support and query alike, but
never validation or test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random affine transform; each image draws its own values uniformly."""

    max_shift: float = 0.08  # fraction of the image side
    max_rotation_deg: float = 10.0
    max_scale_change: float = 0.1  # scale in [1 - s, 1 + s]
    max_shear: float = 0.1

    def apply(self, images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """images (n, C, S, S) float in [0, 1] -> distorted copies; draws from `rng` (seeded, saved with the sampler)."""
        n = len(images)
        if n == 0:
            return images
        draw = rng.uniform(-1.0, 1.0, size=(n, 5))
        angle = np.deg2rad(self.max_rotation_deg) * draw[:, 0]
        scale = 1.0 + self.max_scale_change * draw[:, 1]
        shear = self.max_shear * draw[:, 2]
        # affine_grid maps output to input coordinates in [-1, 1]: a shift of f of the side is 2f.
        shift = 2.0 * self.max_shift * draw[:, 3:5]
        cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
        theta = np.zeros((n, 2, 3), dtype=np.float32)
        theta[:, 0, 0] = cos
        theta[:, 0, 1] = -sin + shear * cos
        theta[:, 1, 0] = sin
        theta[:, 1, 1] = cos + shear * sin
        theta[:, :, 2] = shift
        grid = F.affine_grid(torch.from_numpy(theta), list(images.shape), align_corners=False)
        # Border padding repeats the background (white paper for Omniglot, black once inverted: the sampler
        # inverts before distorting) instead of adding edges the images do not have.
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)

