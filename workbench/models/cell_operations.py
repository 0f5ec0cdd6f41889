"""The candidate operations of a DARTS-style cell, and the two ways their batch norms run.

The operations are those of DARTS (Liu, Simonyan and Yang, ICLR 2019), made small for few-shot
images: a separable convolution here is a ReLU, one depthwise k x k convolution, one pointwise
1 x 1 and batch norm (DARTS stacks that twice).
Every operation maps `channels` to `channels`; with stride 2 it halves the side (rounding up, so
odd sides such as 7 work: every operation of one edge gives the same shape).

An operation is written once and runs in two ways (`Normalise`): as a plain module (`ModuleNorm`:
batch norm as the module does it, running statistics and all, what ProtoNet and `embed` use) or
with statistics given by the caller (`StatsNorm`: the support set's, for the gradient-based inner
loop, so one query's prediction never depends on the others; see `Conv4.forward_with_stats`).
"""

from __future__ import annotations

from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-5
NONE = "none"  # the zero operation: an edge that is better absent
# Name -> (kernel, dilation) of the convolutions; the rest are pooling, skip and none.
CONVOLUTIONS = {"sep_conv_3x3": (3, 1), "sep_conv_5x5": (5, 1), "dil_conv_3x3": (3, 2)}
POOLS = ("max_pool_3x3", "avg_pool_3x3")
SKIP = "skip_connect"
OPERATIONS = (NONE, *POOLS, SKIP, *CONVOLUTIONS)
# The sets a search may choose from (the `operations` setting). Every set holds `none`, so that the
# search can say an edge is better absent; the derived cell never keeps it (as in DARTS).
OPERATION_SETS = {
    "darts": OPERATIONS,
    "separable": (NONE, SKIP, *CONVOLUTIONS),
    "pooling": (NONE, *POOLS, SKIP),
}

Stats = list[tuple[torch.Tensor, torch.Tensor]]


class ModuleNorm:
    """Batch norm as the module runs it (the batch's statistics in training, running ones in eval)."""

    def __call__(self, norm: nn.BatchNorm2d, h: torch.Tensor) -> torch.Tensor:
        return norm(h)


class StatsNorm:
    """Batch norm with the statistics given (in the order the network meets its norms), or, with
    None, each batch's own; `used` collects what was used, to hand the support set's to the queries.

    Written out rather than F.batch_norm: the statistics may carry gradients, and it runs under vmap.
    """

    def __init__(self, given: Stats | None = None) -> None:
        self._given: Iterator | None = iter(given) if given is not None else None
        self.used: Stats = []

    def __call__(self, norm: nn.BatchNorm2d, h: torch.Tensor) -> torch.Tensor:
        if self._given is None:
            var, mean = torch.var_mean(h, dim=(0, 2, 3), unbiased=False)
        else:
            mean, var = next(self._given)
        self.used.append((mean, var))
        scale = torch.rsqrt(var + norm.eps)
        if norm.affine:
            scale = norm.weight * scale
            shift = norm.bias - mean * scale
        else:
            shift = -mean * scale
        return torch.addcmul(shift[None, :, None, None], h, scale[None, :, None, None])


Normalise = Callable[[nn.BatchNorm2d, torch.Tensor], torch.Tensor]


class ReluConvNorm(nn.Module):
    """ReLU, 1 x 1 convolution (no bias: batch norm follows), batch norm: how a cell takes its inputs, and
    the strided skip."""

    def __init__(self, channels_in: int, channels_out: int, stride: int, affine: bool) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(channels_in, channels_out, 1, bias=False)
        self.norm = nn.BatchNorm2d(channels_out, eps=BN_EPS, affine=affine)

    def run(self, x: torch.Tensor, normalise: Normalise) -> torch.Tensor:
        if self.stride > 1:
            # The same as a strided 1 x 1 convolution, whose backward in channels-last on 2 CPU threads
            # corrupted memory in torch 2.14 (28 and 14 px sides).
            x = x[:, :, ::self.stride, ::self.stride]
        return normalise(self.norm, self.conv(F.relu(x)))


class SeparableConv(nn.Module):
    """ReLU, depthwise k x k convolution (dilated for dil_conv), pointwise 1 x 1, batch norm."""

    def __init__(self, channels: int, kernel: int, dilation: int, stride: int, affine: bool) -> None:
        super().__init__()
        padding = dilation * (kernel - 1) // 2
        self.depthwise = nn.Conv2d(channels, channels, kernel, stride, padding, dilation, groups=channels, bias=False)
        self.pointwise = nn.Conv2d(channels, channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(channels, eps=BN_EPS, affine=affine)

    def run(self, x: torch.Tensor, normalise: Normalise) -> torch.Tensor:
        return normalise(self.norm, self.pointwise(self.depthwise(F.relu(x))))


class Pool(nn.Module):
    """3 x 3 max or average pooling (the average over the pixels inside the image only), then batch norm.

    DARTS normalises after pooling in its search so that a pooled output is on the scale of the
    convolutions' beside it; otherwise the mix favours whichever operation changes the scale of the
    features, not the one that tells the classes apart."""

    def __init__(self, kind: str, channels: int, stride: int, affine: bool) -> None:
        super().__init__()
        self.kind, self.stride = kind, stride
        self.norm = nn.BatchNorm2d(channels, eps=BN_EPS, affine=affine)

    def run(self, x: torch.Tensor, normalise: Normalise) -> torch.Tensor:
        if self.kind == "max_pool_3x3":
            return normalise(self.norm, F.max_pool2d(x, 3, self.stride, 1))
        return normalise(self.norm, F.avg_pool2d(x, 3, self.stride, 1, count_include_pad=False))


class Skip(nn.Module):
    """The identity; with stride 2 a ReLU, a strided 1 x 1 convolution and batch norm, so that it still
    passes the input on at half the side (DARTS reduces with two offset convolutions instead, which
    needs an even side)."""

    def __init__(self, channels: int, stride: int, affine: bool) -> None:
        super().__init__()
        self.reduce = ReluConvNorm(channels, channels, stride, affine) if stride > 1 else None

    def run(self, x: torch.Tensor, normalise: Normalise) -> torch.Tensor:
        return x if self.reduce is None else self.reduce.run(x, normalise)


def make_operation(name: str, channels: int, stride: int, affine: bool) -> nn.Module:
    """The operation called `name` (one of OPERATIONS but `none`, which a derived cell never keeps),
    `channels` to `channels`, with `stride` 1 or 2."""
    if name in CONVOLUTIONS:
        kernel, dilation = CONVOLUTIONS[name]
        return SeparableConv(channels, kernel, dilation, stride, affine)
    if name in POOLS:
        return Pool(name, channels, stride, affine)
    if name == SKIP:
        return Skip(channels, stride, affine)
    raise ValueError(f"unknown operation {name!r}")
