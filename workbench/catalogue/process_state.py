"""The process-wide state a plugin could change while importing, read before and put back after.

Every algorithm and command shares it: a plugin that set torch's default dtype to float64 made `adapt`
fail inside a convolution ("Input type (float) and bias type (double)"); one that changed the working
folder made `train --out ../run` write its run somewhere else. The loader refuses a plugin that changes
any of it and puts it back; a plugin may still set what it needs inside its own code, when it runs. The
environment is left out: importing torch itself sets variables there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

def _fresh(torch: Any) -> dict[str, Any]:
    """A fresh torch's values, for a plugin that is the first to import torch (its thread count depends on
    the machine, so it is not among them)."""
    return {"default dtype": torch.float32, "float32 matmul precision": "highest", "deterministic algorithms": False}


def _settings(torch: Any) -> dict[str, tuple[Any, Callable[[Any], None]]]:
    """Each setting: (its value now, how to set it)."""
    return {
        "default dtype": (torch.get_default_dtype(), torch.set_default_dtype),
        "threads": (torch.get_num_threads(), torch.set_num_threads),
        "float32 matmul precision": (torch.get_float32_matmul_precision(), torch.set_float32_matmul_precision),
        "deterministic algorithms": (torch.are_deterministic_algorithms_enabled(), torch.use_deterministic_algorithms),
    }


@dataclass
class ProcessState:
    cwd: str | None
    torch_values: dict[str, Any] | None  # None: torch was not imported yet

    @classmethod
    def take(cls) -> "ProcessState":
        try:
            cwd = os.getcwd()
        except OSError:  # the working folder was deleted: nothing to go back to
            cwd = None
        torch = sys.modules.get("torch")
        if torch is None or not hasattr(torch, "get_default_dtype"):  # absent, or half-imported by another thread
            return cls(cwd, None)
        return cls(cwd, {name: value for name, (value, _) in _settings(torch).items()})

    def restore(self) -> list[str]:
        """Put back what changed since `take`; what it was, in words, e.g. "default dtype torch.float32 -> torch.float64"."""
        changed = self._restore_cwd()
        torch = sys.modules.get("torch")
        if torch is None or not hasattr(torch, "get_default_dtype"):
            return changed
        expected = self.torch_values if self.torch_values is not None else _fresh(torch)
        for name, (now, setter) in _settings(torch).items():
            if name not in expected:
                continue
            before = expected[name]
            if now != before:
                setter(before)
                changed.append(f"torch's {name} {before} -> {now}")
        return changed

    def _restore_cwd(self) -> list[str]:
        try:
            now = os.getcwd()
        except OSError:
            now = None
        if self.cwd is None or now == self.cwd:
            return []
        os.chdir(self.cwd)
        return [f"working folder {self.cwd} -> {now}"]
