"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant for mobile CPUs), written for ImageNet weights.

Lite0 is EfficientNet-B0 made friendlier to plain hardware: no squeeze-and-
excitation, ReLU6 instead of swish, and the stem (32 channels) and head (1280
channels) kept at their base widths. The network here is laid out so that the
ImageNet weights converted from the TensorFlow release load into it key for key
(`load_lite0_state_dict`, strict), and computes what those weights expect:

- TensorFlow's "same" padding: a strided convolution pads one pixel more at the
  bottom and right than at the top and left (PyTorch pads both sides alike);
- batch normalisation with epsilon 1e-3;
- inputs scaled as (pixel - 127) / 128 from 0..255 (`LITE_MEAN`, `LITE_STD`).

This module holds the network only; `workbench.models.pretrained` wraps it as a
backbone (grayscale, resizing, normalisation) and finds the weights.
"""

from __future__ import annotations

import math
import re

import torch
from torch import nn
from torch.nn import functional as F

# The Lite models were trained on (x - 127) / 128 for x in 0..255; for pixels in [0, 1] that is
# (x - 127/255) / (128/255), the same for all three channels.
LITE_MEAN = 127.0 / 255.0
LITE_STD = 128.0 / 255.0
BN_EPS = 1e-3
FEATURE_DIM = 1280
STEM_CHANNELS = 32

# One row per stage: (repeats, kernel, stride of the first block, expansion, channels out).
LITE0_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)


class SamePadConv2d(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding: output side ceil(S / stride), extra pixel bottom/right."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1):
        # Stride 1 with an odd kernel pads symmetrically, which PyTorch does itself (and faster).
        padding = kernel_size // 2 if stride == 1 else 0
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] > 1:
            x = F.pad(x, _same_padding(x.shape[-2], x.shape[-1], self.kernel_size[0], self.stride[0]))
        return super().forward(x)


def _same_padding(height: int, width: int, kernel: int, stride: int) -> list[int]:
    def sides(size: int) -> tuple[int, int]:
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2

    (top, bottom), (left, right) = sides(height), sides(width)
    return [left, right, top, bottom]


def _conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1,
             activation: bool = True) -> nn.Sequential:
    layers = [SamePadConv2d(in_channels, out_channels, kernel, stride, groups),
              nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=0.01)]
    if activation:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MBConv without squeeze-excitation: 1x1 expand, depthwise k x k, 1x1 project; a skip when shapes agree."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        self.expand = _conv_bn(in_channels, hidden, 1) if expansion != 1 else None
        self.depthwise = _conv_bn(hidden, hidden, kernel, stride, groups=hidden)
        self.project = _conv_bn(hidden, out_channels, 1, activation=False)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(x) if self.expand is not None else x
        out = self.project(self.depthwise(out))
        return out + x if self.residual else out


class EfficientNetLite0(nn.Module):
    """Normalised images (n, 3, S, S) -> ImageNet logits (n, 1000); `features` gives (n, 1280).

    With `num_classes=0` there is no classifier layer: `forward` returns the features (a backbone).
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = _conv_bn(3, STEM_CHANNELS, 3, stride=2)
        blocks, channels = [], STEM_CHANNELS
        for repeats, kernel, stride, expansion, out_channels in LITE0_STAGES:
            for index in range(repeats):
                blocks.append(InvertedResidual(channels, out_channels, kernel, stride if index == 0 else 1, expansion))
                channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.head = _conv_bn(channels, FEATURE_DIM, 1)
        self.classifier = nn.Linear(FEATURE_DIM, num_classes) if num_classes else None

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.features(x)
        return self.classifier(features) if self.classifier is not None else features


# The released weights name layers as the TensorFlow port did; these rules rename them to ours.
_KEY_RULES = (
    (r"^_conv_stem\.", "stem.0."),
    (r"^_bn0\.", "stem.1."),
    (r"^_conv_head\.", "head.0."),
    (r"^_bn1\.", "head.1."),
    (r"^_fc\.", "classifier."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.0."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.1."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.0."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.1."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.0."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.1."),
)


def released_key_to_ours(key: str) -> str:
    """A key of the released Lite0 weights file ('_blocks.3._bn1.weight') as ours ('blocks.3.depthwise.1.weight')."""
    for pattern, replacement in _KEY_RULES:
        renamed, count = re.subn(pattern, replacement, key)
        if count:
            return renamed
    return key  # already ours (a state_dict saved from this module)


def load_lite0_state_dict(model: EfficientNetLite0, state: dict) -> None:
    """Load released or own Lite0 weights, strictly: every key present, none left over, every shape equal.

    A model without a classifier drops the ImageNet layer's keys first (a backbone has no use for them).
    """
    renamed = {released_key_to_ours(key): value for key, value in state.items()}
    if model.classifier is None:
        renamed = {key: value for key, value in renamed.items() if not key.startswith("classifier.")}
    model.load_state_dict(renamed, strict=True)
