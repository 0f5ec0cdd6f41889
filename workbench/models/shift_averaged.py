"""Test-time augmentation by small shifts: an embedding averaged over shifted copies of the image.

A handwritten character or a photographed object is rarely centred the same way twice; averaging
the embedding over copies moved by a pixel or two each way makes it depend less on where exactly
the object sits. Edge pixels are repeated to fill the gap a shift leaves (never wrapped round).
Plain tensor ops only, so an exported model (ONNX, TorchScript) averages the same way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ShiftAveraged(nn.Module):
    """`backbone(x)` averaged over the (2p + 1)^2 copies of x shifted by up to p pixels each way."""

    def __init__(self, backbone: nn.Module, pixels: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.pixels = int(pixels)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        p = self.pixels
        if p <= 0:
            return self.backbone(images)
        height, width = images.shape[-2:]
        padded = F.pad(images, (p, p, p, p), mode="replicate")
        total = None
        for dy in range(2 * p + 1):
            for dx in range(2 * p + 1):
                features = self.backbone(padded[..., dy:dy + height, dx:dx + width]).float()
                total = features if total is None else total + features
        return total / (2 * p + 1) ** 2
