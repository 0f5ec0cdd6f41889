"""Conv4 that pools after its first two blocks only: the embedding module of Relation Networks.

Sung et al. 2018: four blocks of 64 3x3 filters, batch norm and ReLU; the first
two (unpadded) are followed by 2x2 max-pooling, the last two (padded) are not,
so feature maps keep their spatial layout for the relation module to compare.
28x28 images give 64 x 5 x 5 maps; 84x84 give 64 x 19 x 19.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone

MIN_IMAGE_SIZE = 10  # two unpadded convs and two poolings leave at least 1x1


class _Block(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, padding: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=padding)
        self.norm = nn.BatchNorm2d(out_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        return F.relu(F.max_pool2d(x, 2) if self.pool else x)  # pool first: the same, on a quarter of the pixels


@register_backbone("conv4_2pool")
class Conv4TwoPool(nn.Module):
    """Images (n, C, S, S) -> features (n, 64 * s * s) with s = ((S - 2) // 2 - 2) // 2; maps via `feature_maps`."""

    def __init__(self, in_channels: int, image_size: int, hidden: int = 64) -> None:
        super().__init__()
        side = ((image_size - 2) // 2 - 2) // 2
        if image_size < MIN_IMAGE_SIZE or side < 1:
            raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels for conv4_2pool (got {image_size}).")
        self.blocks = nn.Sequential(
            _Block(in_channels, hidden, padding=0, pool=True),
            _Block(hidden, hidden, padding=0, pool=True),
            _Block(hidden, hidden, padding=1, pool=False),
            _Block(hidden, hidden, padding=1, pool=False),
        )
        self.feature_shape = (hidden, side, side)
        self.feature_dim = hidden * side * side

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x).flatten(1)
