"""ResNet-12: four residual blocks of three 3x3 convolutions, each block followed by 2x2 max-pooling.

The backbone of TADAM (Oreshkin et al. 2018) and MetaOptNet (Lee et al. 2019):
each block is conv-BN-LeakyReLU(0.1) three times (no activation after the third
BN), a 1x1 conv + BN shortcut added before the final LeakyReLU, then max-pool.
Features are the global average of the last block's maps.

Two widths are registered: `resnet12` with the papers' 64-160-320-640 channels
(about 12.4M weights, meant for 84x84 images and a GPU), and `resnet12_narrow`
with a quarter of them, 16-40-80-160 (about 0.8M weights), which suits 28x28
Omniglot on a CPU. DropBlock, used by MetaOptNet on mini-ImageNet, is left out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone

PAPER_WIDTHS = (64, 160, 320, 640)
NARROW_WIDTHS = (16, 40, 80, 160)
MIN_IMAGE_SIZE = 16  # four 2x2 poolings


class ResidualBlock(nn.Module):
    """Three 3x3 convs with a 1x1 shortcut, then LeakyReLU and 2x2 max-pool (halves the side)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1, bias=False) for i in range(3)]
        )
        self.norms = nn.ModuleList([nn.BatchNorm2d(out_channels) for _ in range(3)])
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = norm(conv(h))
            if i < 2:
                h = F.leaky_relu(h, 0.1)
        return F.leaky_relu(F.max_pool2d(h + self.shortcut(x), 2), 0.1)  # pool first: the same, on a quarter of the pixels


class ResNet12(nn.Module):
    """Images (n, C, S, S) -> features (n, widths[-1]); `feature_maps` gives (n, widths[-1], S//16, S//16)."""

    def __init__(self, in_channels: int, image_size: int, widths: tuple[int, ...] = PAPER_WIDTHS) -> None:
        super().__init__()
        if image_size < MIN_IMAGE_SIZE:
            raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels for ResNet-12 (got {image_size}).")
        channels = (in_channels, *widths)
        self.blocks = nn.Sequential(*[ResidualBlock(channels[i], channels[i + 1]) for i in range(len(widths))])
        self.feature_dim = widths[-1]

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(x).mean(dim=(2, 3))


@register_backbone("resnet12")
def resnet12(in_channels: int, image_size: int) -> ResNet12:
    return ResNet12(in_channels, image_size, PAPER_WIDTHS)


@register_backbone("resnet12_narrow")
def resnet12_narrow(in_channels: int, image_size: int) -> ResNet12:
    return ResNet12(in_channels, image_size, NARROW_WIDTHS)
