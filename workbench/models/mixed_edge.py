"""One edge of a searchable cell: every candidate operation applied to the input, mixed by weights.

The sum is DARTS's mixed operation (Liu, Simonyan and Yang, ICLR 2019), sum_o w_o * o(x), over the
operations of cell_operations.py, but computed the way a CPU likes it: an edge is a few large
operators instead of some fifty small ones. The separable and dilated convolutions share one ReLU,
run as one depthwise convolution of 5 x 5 kernels (a 3 x 3 kernel is a 5 x 5 one with a zero
border, the 3 x 3 dilated one a 5 x 5 one with holes; the mask keeps those entries at zero, in the
inner loop too), one grouped pointwise convolution and one batch norm; the two poolings share
one batch norm. Batch norm is per channel, so each operation's output is exactly what it would be
alone. `none` gives zeros, adds nothing to the sum and is not computed; its weight still takes its
share of the softmax, which is how the search says an edge is better absent.

Measured against one module per operation, interleaved in one process on a 2-core CPU (5-way 1-shot,
15 queries, 28 px, the default network): evaluating an episode (3 inner steps, then the queries)
288 ms against 477, a meta-update 245 ms against 277; the copy of the network each adapt makes,
17 ms against 88, since the edge holds 4 to 7 modules instead of about 20.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from workbench.models.cell_operations import BN_EPS, CONVOLUTIONS, NONE, POOLS, SKIP, Normalise, Skip

KERNEL = 5  # every depthwise kernel, as the largest of the candidates


def kernel_mask(name: str) -> torch.Tensor:
    """Where the 5 x 5 kernel of convolution `name` may be non-zero."""
    kernel, dilation = CONVOLUTIONS[name]
    mask = torch.zeros(KERNEL, KERNEL)
    offset = (KERNEL - dilation * (kernel - 1) - 1) // 2
    taps = [offset + dilation * i for i in range(kernel)]
    mask[torch.tensor(taps)[:, None], torch.tensor(taps)[None, :]] = 1.0
    return mask


class MixedEdge(nn.Module):
    """`operations` (names, `none` among them) from `channels` to `channels` with `stride`; `run` mixes
    them with weights in the order of `operations`."""

    def __init__(self, operations: tuple[str, ...], channels: int, stride: int) -> None:
        super().__init__()
        self.channels, self.stride = channels, stride
        self.convolutions = [name for name in operations if name in CONVOLUTIONS]
        self.pools = [name for name in operations if name in POOLS]
        # Where each computed output's weight is: convolutions, then pools, then skip, as they are stacked.
        self.order = [operations.index(name) for name in (*self.convolutions, *self.pools)]
        count = len(self.convolutions)
        if count:
            # Initialised as nn.Conv2d does, each from the fan-in of its own (unmasked) kernel.
            masks = torch.stack([kernel_mask(name) for name in self.convolutions])  # (count, 5, 5)
            bounds = torch.tensor([1 / math.sqrt(CONVOLUTIONS[name][0] ** 2) for name in self.convolutions])
            depthwise = (torch.rand(count, channels, 1, KERNEL, KERNEL) * 2 - 1) * bounds[:, None, None, None, None]
            self.register_buffer("depthwise_mask", masks[:, None, None].expand(-1, channels, -1, -1, -1).reshape(
                count * channels, 1, KERNEL, KERNEL).clone())
            self.depthwise = nn.Parameter(depthwise.reshape(count * channels, 1, KERNEL, KERNEL) * self.depthwise_mask)
            bound = 1 / math.sqrt(channels)
            self.pointwise = nn.Parameter((torch.rand(count * channels, channels, 1, 1) * 2 - 1) * bound)
            self.conv_norm = nn.BatchNorm2d(count * channels, eps=BN_EPS, affine=False)
        if self.pools:
            self.pool_norm = nn.BatchNorm2d(len(self.pools) * channels, eps=BN_EPS, affine=False)
        self.skip = Skip(channels, stride, affine=False) if SKIP in operations else None
        if self.skip is not None:
            self.order.append(operations.index(SKIP))
        if not self.order:
            raise ValueError(f"an edge needs an operation besides {NONE}")

    def run(self, x: torch.Tensor, normalise: Normalise, weights: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.convolutions:
            count = len(self.convolutions)
            active = F.relu(x).repeat(1, count, 1, 1)  # one copy of the input per convolution, as the groups want
            h = F.conv2d(active, self.depthwise * self.depthwise_mask, None, self.stride, KERNEL // 2, 1, count * self.channels)
            h = normalise(self.conv_norm, F.conv2d(h, self.pointwise, None, 1, 0, 1, count))
            parts.append(h.unflatten(1, (count, self.channels)))
        if self.pools:
            pooled = [F.max_pool2d(x, 3, self.stride, 1) if name == "max_pool_3x3"
                      else F.avg_pool2d(x, 3, self.stride, 1, count_include_pad=False) for name in self.pools]
            h = normalise(self.pool_norm, torch.cat(pooled, 1))
            parts.append(h.unflatten(1, (len(self.pools), self.channels)))
        if self.skip is not None:
            parts.append(self.skip.run(x, normalise).unsqueeze(1))
        stacked = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
        mix = weights[self.order]
        return (stacked * mix[None, :, None, None, None]).sum(1)
