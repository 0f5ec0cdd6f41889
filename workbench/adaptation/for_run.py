"""The adapt policy of a trained run: its mode, its measured temperatures and the optional pretrained space."""

from __future__ import annotations

from workbench.adaptation.selection import AdaptPolicy
from workbench.algorithms.base import Algorithm
from workbench.runs.folder import RunFolder


def pretrained_space():
    """The pretrained feature space, or None when its weights are not installed."""
    try:
        from workbench.adaptation.pretrained_space import load_pretrained_space
    except ImportError:
        return None
    return load_pretrained_space()


def policy_for_run(run_dir: str, algorithm: Algorithm, mode: str = "auto", seed: int = 0) -> AdaptPolicy:
    """How `run_dir`'s model adapts: `mode`, with the temperatures fitted at the end of its training."""
    needs_pretrained = mode in ("auto", "pretrained")
    return AdaptPolicy(algorithm, mode, RunFolder(run_dir).read_calibration(),
                       pretrained_space() if needs_pretrained else None, seed)
