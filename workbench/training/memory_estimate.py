"""A rough upper guess of the memory one meta-update needs, checked before any is allocated.

A meta-batch far beyond memory would otherwise grow until the system kills the process,
with the run left "running". The guess: every episode's images (ways x (shots + queries),
C x S x S as float32) plus ACTIVATION_VALUES per pixel of each for what the network keeps
for the backward pass (Conv4, 64 channels: about four tensors at full size, then quarters).
It is coarse on purpose: it only refuses settings that are wrong by orders of magnitude.
"""

from __future__ import annotations

import torch

from workbench.errors import ConfigError
from workbench.runs.config import RunConfig

ACTIVATION_VALUES = 256
BYTES_PER_VALUE = 4


def meta_update_bytes(config: RunConfig) -> int:
    images = config.effective_train_ways * (config.shots + config.effective_train_queries)
    pixels = config.image_size * config.image_size
    return config.meta_batch * images * pixels * BYTES_PER_VALUE * (config.channels + ACTIVATION_VALUES)


def available_bytes(device: torch.device) -> int | None:
    """Free memory on `device` (CUDA: the device's; otherwise the machine's), or None when unknown."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except Exception:  # no driver answer: do not guess
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def check_meta_batch_fits(config: RunConfig, device: torch.device) -> None:
    """ConfigError naming the estimate and the memory available when one meta-update cannot fit."""
    need = meta_update_bytes(config)
    have = available_bytes(device)
    if have is not None and need > have:
        per_episode = need // config.meta_batch
        fits = max(1, have // max(per_episode, 1))
        raise ConfigError(
            f"A meta-batch of {config.meta_batch:,} episodes needs about {_gib(need)} of memory "
            f"({_gib(per_episode)} per episode of {config.effective_train_ways} ways x "
            f"{config.shots + config.effective_train_queries} images at {config.image_size}x{config.image_size}), "
            f"but only {_gib(have)} is available on {device}; use --meta-batch {fits:,} or less."
        )


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**28 else f"{size / 2**20:.0f} MiB"
