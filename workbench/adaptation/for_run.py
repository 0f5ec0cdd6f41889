"""The adapt policy of a trained run: its mode, its measured calibration and the optional pretrained space."""

from __future__ import annotations

from workbench.adaptation.selection import AdaptPolicy
from workbench.algorithms.base import Algorithm
from workbench.runs.folder import RunFolder


def pretrained_space():
    """The pretrained feature space, or None when its weights are not installed."""
    from workbench.adaptation.pretrained_space import load_pretrained_space

    return load_pretrained_space()


def policy_for_run(run_dir: str, algorithm: Algorithm, mode: str = "auto", seed: int = 0,
                   fine_tune: bool = False, refine: bool = True, own_domain: bool = False) -> AdaptPolicy:
    """How `run_dir`'s model adapts: `mode`, with the calibration fitted at the end of its training;
    `refine`: whether the images to be predicted refine the prototypes (adaptation/refine.py).

    In `auto`, the pretrained network is a candidate whatever the run was trained on (grayscale images
    are repeated to three channels): a person's images are often of a domain the run never saw, where
    ImageNet features beat the run's model (docs/benchmarks.md). Its features are cached on disk by
    image (adaptation/feature_cache.py), so a folder pays for them once. `own_domain`: the images are
    held-out classes of the run's own data (its test score, Inspect on its data), where `auto` leaves the
    pretrained network out: the run's model wins there, and encoding each image at 224 pixels would turn a
    seconds-long test score into minutes.
    """
    folder = RunFolder(run_dir)
    wants_pretrained = mode == "pretrained" or (mode == "auto" and not own_domain)
    calibration = folder.read_calibration()
    return AdaptPolicy(algorithm, mode, calibration["temperatures"], pretrained_space() if wants_pretrained else None, seed,
                       fine_tune, powers=calibration["powers"], refine=refine)
