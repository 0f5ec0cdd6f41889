"""Conv4: four blocks of 3x3 conv (64 filters), batch norm, ReLU, 2x2 max-pool.

The backbone of Vinyals et al. 2016, Snell et al. 2017 and Finn et al. 2017.
Besides the usual forward (standard batch norm), `forward_with_stats` lets a
caller normalise with statistics of its choice: those of the support set, so
that a prediction for one query never depends on the other queries.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone
from workbench.models.task_groups import grouped_blocks_with_stats

BN_EPS = 1e-5
MIN_IMAGE_SIZE = 16  # four 2x2 poolings need at least 16 pixels


class ConvBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Pooling before the ReLU: the same values and gradients (both are monotone), and the ReLU and its
        # backward touch a quarter of the pixels (benchmarks/protonet_step.py).
        return F.relu(F.max_pool2d(self.norm(self.conv(x)), 2))


@register_backbone("conv4")
class Conv4(nn.Module):
    """Images (n, C, S, S) -> features (n, 64 * (S // 16) ** 2)."""

    def __init__(self, in_channels: int, image_size: int, hidden: int = 64) -> None:
        super().__init__()
        if image_size < MIN_IMAGE_SIZE:
            raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels for Conv4 (got {image_size}).")
        self.blocks = nn.ModuleList(
            [ConvBlock(in_channels if i == 0 else hidden, hidden) for i in range(4)]
        )
        side = image_size
        for _ in range(4):
            side //= 2
        self.feature_dim = hidden * side * side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x.flatten(1)

    def forward_with_stats(
        self, x: torch.Tensor, stats: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Forward that normalises with `stats` (per block mean, var) or, if None, with x's own.

        Returns the features and the statistics used, so the support pass can
        hand its statistics to the query pass.
        """
        return blocks_with_stats(self.blocks, x, stats, pool=True)

    first_stride = 1  # of the first convolution: sizes groups of tasks (models/task_groups.py)

    def grouped_forward_with_stats(self, params, x: torch.Tensor, stats, tasks: int):
        """forward_with_stats for `tasks` tasks at once under their own weights (models/task_groups.py)."""
        return grouped_blocks_with_stats(self.blocks, params, x, stats, True, tasks)


def blocks_with_stats(blocks, x: torch.Tensor, stats, pool: bool):
    """conv -> batch norm (with `stats`, or the batch's own when None) -> ReLU [-> 2x2 max-pool] per block.

    Shared by Conv4 and its strided variant; returns flat features and the statistics used.
    Batch norm is written out, not F.batch_norm: the statistics may carry gradients (second-order MAML).
    With given statistics it is a fixed per-channel affine map, so it is folded into the convolution's
    weight and bias: the same function, without three full-size elementwise passes (and their double
    backward) over the query images, which dominate MAML's time on a CPU.
    """
    used = []
    for i, block in enumerate(blocks):
        conv, norm = block.conv, block.norm
        if stats is None:
            h = conv(x)
            var, mean = torch.var_mean(h, dim=(0, 2, 3), unbiased=False)
            scale = norm.weight * torch.rsqrt(var + BN_EPS)
            h = torch.addcmul((norm.bias - mean * scale)[None, :, None, None], h, scale[None, :, None, None])
        else:
            mean, var = stats[i]
            scale = norm.weight * torch.rsqrt(var + BN_EPS)
            h = F.conv2d(x, conv.weight * scale[:, None, None, None], (conv.bias - mean) * scale + norm.bias,
                         conv.stride, conv.padding, conv.dilation, conv.groups)
        used.append((mean, var))
        # Pooling before the ReLU gives the same values and gradients (both are monotone) on a quarter of the pixels.
        x = F.relu(F.max_pool2d(h, 2)) if pool else F.relu(h)
    return x.flatten(1), used
