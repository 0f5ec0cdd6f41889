"""Many tasks through one network at once, each under its own weights, as convolution groups.

MAML-like methods adapt a copy of the backbone per task. One task at a time, a meta-batch is
hundreds of small operators; vmap batches them but, on a CPU, its double backward measured
slower than the loop. Stacking T tasks along the channels instead turns each layer into one
grouped convolution (groups=T) of plain autograd: the same maths as T separate passes, with
per-task batch-norm statistics for free, since batch norm is per channel.

Layout: images (T, n, C, H, W) become (n, T*C, H, W); weights (T, out, in, k, k) become
(T*out, in, k, k); features come back as (T, n, D), flattened per task as `flatten(1)` would.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# First-layer output pixels per group (images x height x width, all tasks together): a measured
# sweet spot on a 2-core CPU, where larger groups outgrow the caches (benchmarks/maml_profile.py).
PIXELS_PER_GROUP = 1 << 18


def stack_tasks(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """(T, n, C, H, W) -> (n, T*C, H, W)."""
    tasks, n, c, h, w = x.shape
    out = x.transpose(0, 1).reshape(n, tasks * c, h, w)
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out.contiguous()


def tasks_per_group(query_shape: torch.Size, first_stride: int, tasks: int, budget: int = PIXELS_PER_GROUP) -> int:
    """How many tasks of this query shape (n, C, H, W) share a pass: a power of two within the budget."""
    n, _, h, w = query_shape
    pixels = max(1, n * -(-h // first_stride) * -(-w // first_stride))
    fit = max(1, budget // pixels)
    return min(tasks, 1 << (fit.bit_length() - 1))


def grouped_blocks_with_stats(blocks, params: dict[str, torch.Tensor], x: torch.Tensor, stats, pool: bool, tasks: int):
    """`conv4.blocks_with_stats` for `tasks` tasks at once: params "blocks.i.conv.weight" ... shaped (T, ...),
    x (n, T*C, H, W); stats None (each task's own batch statistics) or those a previous call returned.

    Returns features (T, n, D) and the statistics used (per block, (T*out,) mean and variance).
    """
    used = []
    for i, block in enumerate(blocks):
        conv, eps = block.conv, block.norm.eps
        weight, bias = params[f"blocks.{i}.conv.weight"], params[f"blocks.{i}.conv.bias"]
        gamma, beta = params[f"blocks.{i}.norm.weight"].reshape(-1), params[f"blocks.{i}.norm.bias"].reshape(-1)
        weight = weight.reshape(-1, *weight.shape[2:])
        bias = bias.reshape(-1)
        if stats is None:
            h = F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, tasks)
            var, mean = torch.var_mean(h, dim=(0, 2, 3), unbiased=False)
            scale = gamma * torch.rsqrt(var + eps)
            h = torch.addcmul((beta - mean * scale)[None, :, None, None], h, scale[None, :, None, None])
        else:
            # Given statistics make batch norm a fixed affine map: folded into the convolution (as blocks_with_stats).
            mean, var = stats[i]
            scale = gamma * torch.rsqrt(var + eps)
            h = F.conv2d(x, weight * scale[:, None, None, None], (bias - mean) * scale + beta,
                         conv.stride, conv.padding, conv.dilation, tasks)
        used.append((mean, var))
        x = F.relu(F.max_pool2d(h, 2)) if pool else F.relu(h)
    n = x.shape[0]
    return x.reshape(n, tasks, -1).transpose(0, 1), used
