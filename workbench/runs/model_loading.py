"""Loading a trained model from a run folder, ready to adapt."""

from __future__ import annotations


from workbench.algorithms.base import Algorithm
from workbench.errors import RunFolderError
from workbench.runs.folder import RunFolder
from workbench.training.config import RunConfig
from workbench.training.device import resolve_device, resolve_precision
from workbench.training.runner import build_algorithm


def load_trained(run_dir: str, device: str = "auto") -> tuple[Algorithm, RunConfig]:
    """The run's algorithm with its best weights, in eval mode, and the run's config."""
    folder = RunFolder.open(run_dir)
    config = folder.read_config()
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
