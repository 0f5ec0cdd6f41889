"""Conv4 with strided convolutions instead of max-pooling: the Omniglot network of MAML.

Finn, Abbeel and Levine 2017 (after Vinyals et al. 2016) use, for Omniglot, four
blocks of 3x3 convolution with 64 filters and stride 2, batch norm and ReLU, and
no pooling. 28x28 images become 64 x 2 x 2 maps, flattened to 256 features. (The
paper's code and learn2learn's `OmniglotCNN` average those 2 x 2 maps to 64
features; flattening keeps where a stroke is, for the same convolutions.) The
strides leave about a quarter of the max-pool Conv4's multiply-adds, so each
meta-update of the gradient-based methods is that much cheaper.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone
from workbench.models.conv4 import BN_EPS, blocks_with_stats
from workbench.models.task_groups import grouped_blocks_with_stats

MIN_IMAGE_SIZE = 8  # four stride-2 convolutions leave at least 1x1


class StridedBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x)))


@register_backbone("conv4_strided")
class Conv4Strided(nn.Module):
    """Images (n, C, S, S) -> features (n, 64 * s * s), s = S halved (rounding up) four times; maps via `feature_maps`."""

    def __init__(self, in_channels: int, image_size: int, hidden: int = 64) -> None:
        super().__init__()
        if image_size < MIN_IMAGE_SIZE:
            raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels for conv4_strided (got {image_size}).")
        self.blocks = nn.ModuleList([StridedBlock(in_channels if i == 0 else hidden, hidden) for i in range(4)])
        side = image_size
        for _ in range(4):
            side = (side + 1) // 2  # 3x3, stride 2, padding 1
        self.feature_dim = hidden * side * side

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(x).flatten(1)

    def forward_with_stats(self, x: torch.Tensor, stats=None):
        """As Conv4.forward_with_stats: batch norm with the given statistics, or x's own (the support pass)."""
        return blocks_with_stats(self.blocks, x, stats, pool=False)

    first_stride = 2  # of the first convolution: sizes groups of tasks (models/task_groups.py)

    def grouped_forward_with_stats(self, params, x: torch.Tensor, stats, tasks: int):
        """forward_with_stats for `tasks` tasks at once under their own weights (models/task_groups.py)."""
        return grouped_blocks_with_stats(self.blocks, params, x, stats, False, tasks)
