"""Choosing the device and the fastest precision it offers."""

from __future__ import annotations

import os
from functools import lru_cache

import torch

from workbench.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("CUDA was asked for, but no CUDA GPU is available here; use --device cpu or auto.")
    return torch.device(name)


@lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16 or AMX-BF16), where bf16 autocast
    roughly doubles Conv4 throughput (measured: ProtoNet 15 -> 35 episodes/s)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line.split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(name: str, device: torch.device) -> str:
    """'auto' -> bf16 where the hardware runs it fast (bf16 CPUs, bf16 GPUs), else fp32."""
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index or 0
        props = torch.cuda.get_device_properties(index)
        return f"CUDA {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    threads = torch.get_num_threads()
    return f"CPU ({os.cpu_count()} cores, {threads} thread{'s' if threads != 1 else ''})"
