"""Refitting the confidence calibration of a finished run, with this version's procedure.

Training fits calibration.json once, when it ends; a run trained by an earlier version keeps what
that version fitted (for example no calibration of refined predictions). `main.py calibrate RUN`
fits it again on the same validation episodes the run would have used, without training.
"""

from __future__ import annotations

import os

from workbench.adaptation.run_calibration import CALIBRATION_EPISODES, fit_run_temperatures
from workbench.data.sampler import EpisodeSampler
from workbench.errors import ConfigError
from workbench.runs.builtin import builtin_name
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder
from workbench.runs.lock import RunLock
from workbench.runs.model_loading import load_trained
from workbench.training.prepare_data import PreparedData, prepare_data

CALIBRATION_SEED_OFFSET = 5  # the calibration episodes differ from the validation curve's (seed + 1)
EPISODES_VARIABLE = "WORKBENCH_CALIBRATION_EPISODES"


def calibration_episodes() -> int:
    """How many validation episodes calibration fits on: CALIBRATION_EPISODES, or the whole number >= 1 in
    WORKBENCH_CALIBRATION_EPISODES. The test suite sets a few: its runs are tiny, and each of the 50 episodes
    costs 9 forward passes per image with test-time shifts, most of such a run's time."""
    try:
        episodes = int(os.environ.get(EPISODES_VARIABLE, ""))
    except ValueError:
        return CALIBRATION_EPISODES
    return episodes if episodes >= 1 else CALIBRATION_EPISODES


def calibration_sampler(data: PreparedData, config: RunConfig) -> EpisodeSampler | None:
    """The episodes a run calibrates on: from its validation classes (else its test classes); None if it has neither."""
    part = data.val or data.test
    if part is None:
        return None
    return EpisodeSampler(data.cache, part.pool, part.ways, config.shots, config.queries,
                          seed=config.seed + CALIBRATION_SEED_OFFSET, invert=config.invert)


def recalibrate_run(run_dir: str, device: str = "auto") -> dict:
    """Fit and write the run's calibration.json again from its best weights; returns the report."""
    if builtin_name(run_dir) is not None:  # it ships inside the package, calibrated where it was trained
        raise ConfigError(f"{run_dir} is a built-in model and read-only; calibrate a run you trained instead.")
    folder = RunFolder.open(run_dir)
    with RunLock(run_dir, then="calibrate again"):  # taken first: a training of this run, or a read-only folder,
        return _refit(folder, run_dir, device)       # is said before minutes of fitting


def _refit(folder: RunFolder, run_dir: str, device: str) -> dict:
    algorithm, config = load_trained(run_dir, device)
    steps = prepare_data(config)
    while True:  # decode the run's data and split it as training did (the split is seeded)
        try:
            next(steps)
        except StopIteration as finished:
            data = finished.value
            break
    sampler = calibration_sampler(data, config)
    if sampler is None:
        raise ConfigError(f"The run {folder.path.name} has no validation classes to calibrate on; "
                          "its confidences are calibrated on the labelled images alone when adapting.")
    algorithm.train_mode(False)
    report = fit_run_temperatures(algorithm, sampler, calibration_episodes())
    folder.write_calibration(report)
    return report
