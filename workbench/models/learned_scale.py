"""A learned positive factor, e.g. the temperature of a cosine-similarity softmax."""

from __future__ import annotations

import torch
from torch import nn


class LearnedScale(nn.Module):
    """One number, kept as its logarithm so that gradient steps can never flip its sign."""

    def __init__(self, initial: float) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(float(initial)).log())

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp()
