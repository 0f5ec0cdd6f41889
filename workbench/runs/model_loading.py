"""Building a run's algorithm from its config, and loading a trained one from a run folder, ready to adapt."""

from __future__ import annotations

from dataclasses import replace

import torch

from workbench import catalogue
from workbench.algorithms.base import Algorithm
from workbench.errors import ConfigError, RunFolderError
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.device import resolve_device, resolve_precision


def build_algorithm(config: RunConfig, device: torch.device, precision: str) -> Algorithm:
    algorithm = catalogue.get(config.algorithm)(config.channels, config.image_size, config.hparams, device, precision)
    # Channels-last in every precision: convolutions and max-pool are faster in it on a CPU, in fp32 as in
    # bf16 (benchmarks/protonet_step.py), and GPUs prefer it too.
    algorithm.use_channels_last()
    return algorithm


def load_trained(run_dir: str, device: str = "auto", overrides: dict[str, str] | None = None) -> tuple[Algorithm, RunConfig]:
    """The run's algorithm with its best weights, in eval mode, and the run's config.

    `overrides` changes hyperparameters that only affect adapting and predicting (declared
    `after_training`, e.g. ProtoNet's test_shifts, MAML's eval_inner_steps); the returned config has them.
    """
    folder = RunFolder.open(run_dir)
    config = folder.read_config()
    if overrides:
        config = replace(config, hparams={**config.hparams, **after_training_overrides(config.algorithm, overrides)})
    torch_device = resolve_device(device)
    precision = resolve_precision(config.precision, torch_device)
    algorithm = build_algorithm(config, torch_device, precision)
    state = folder.load_model()
    try:
        algorithm.load_state_dict(state)
    except (KeyError, RuntimeError, TypeError) as exc:
        raise RunFolderError(f"{folder.model_path} does not match the run's algorithm ({str(exc).splitlines()[0]}).") from None
    algorithm.train_mode(False)
    return algorithm, config


def after_training_overrides(algorithm: str, overrides: dict[str, str]) -> dict[str, str]:
    """`overrides`, checked: each must name a setting of `algorithm` that a trained model can change."""
    declared = {p.name: p for p in catalogue.get(algorithm).hyperparams}
    changeable = [name for name, p in declared.items() if p.after_training]
    allowed = f"settings {algorithm} can change after training: {', '.join(changeable)}" if changeable else \
        f"{algorithm} has no setting that can change after training"
    for name in overrides:
        if name not in declared:
            raise ConfigError(f"'{name}' is not a hyperparameter of {algorithm} ({allowed}).")
        if not declared[name].after_training:
            raise ConfigError(f"'{name}' shaped the trained weights, so it cannot change now; retrain instead ({allowed}).")
    return dict(overrides)
