"""The training loop: a generator of events that writes a run folder as it goes.

    for event in train_run(config, "runs/a", control):
        ...  # TrainStep, Validation, EpisodePredictions, Message, RunFinished

It never touches a widget; the GUI's bridge runs it on a thread and the CLI
prints its events. `control` pauses and cancels it within a second.
"""

from __future__ import annotations

import errno
import platform
from dataclasses import replace
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

import workbench
from workbench.adaptation.run_calibration import fit_run_temperatures
from workbench.algorithms.base import Algorithm
from workbench.training.prepare_data import PreparedData, prepare_data
from workbench.training.recalibrate import calibration_episodes, calibration_sampler
from workbench.data.sampler import EpisodeSampler
from workbench.errors import NonFiniteLossError, RunFolderError, WorkbenchError
from workbench.training import distributed, tensorboard_log
from workbench.runs.fingerprint import check_unchanged, data_changes, read_fingerprint, write_fingerprint
from workbench.runs.folder import RunFolder
from workbench.runs.lock import RunLock
from workbench.runs.model_loading import build_algorithm
from workbench.runs.config import AUTO_FLAGS, RunConfig
from workbench.training.control import RunCancelled, RunControl
from workbench.device import describe_device, resolve_device, resolve_precision
from workbench.training.scoring import evaluate, predict_episode
from workbench.training.events import ArchitectureUpdate, Message, RunFinished, RunStarted, TrainStep, Validation
from workbench.models.genotype import FILE_NAME as ARCHITECTURE_FILE
from workbench.training.memory_estimate import check_meta_batch_fits

RATE_SMOOTHING = 0.9  # exponential smoothing of episodes/s for a steady ETA


def environment(device: torch.device, precision: str) -> dict:
    # The installed version, read without importing torchvision (seconds, for one string).
    from importlib.metadata import PackageNotFoundError, version

    try:
        torchvision_version = version("torchvision")
    except PackageNotFoundError:
        torchvision_version = None
    return {
        "workbench": workbench.__version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision_version,
        "platform": platform.platform(),
        "device": str(device),
        "device_name": describe_device(device),
        "precision": precision,
    }


def train_run(
    config: RunConfig,
    run_dir: str | Path,
    control: RunControl | None = None,
    resume: bool = False,
    on_data: Callable[[PreparedData], None] | None = None,
    allow_changed_data: bool = False,
    unique: bool = False,
):
    """Train per `config` into `run_dir` (or continue the run there when `resume`); with `unique`, `run_dir`
    is only a suggested name, made unique (`-2`, ...) when taken (RunStarted names the folder used).

    Yields events; the last is always RunFinished. Errors in the data or the
    settings are raised as WorkbenchError before the run folder is created.
    `on_data` receives the prepared data once (the GUI draws episode images
    from its cache, which the events name by row). One process at a time writes
    a run folder (runs/lock.py); resuming checks that the data is the run's
    (runs/fingerprint.py) unless `allow_changed_data`.
    """
    lock = RunLock(run_dir)
    try:
        yield from _train_run(config, run_dir, control, resume, on_data, allow_changed_data, lock, unique)
    finally:
        lock.release()


def _train_run(config, run_dir, control, resume, on_data, allow_changed_data, lock: RunLock, unique=False):
    control = control or RunControl()
    session = distributed.DistributedSession.from_environment()  # None unless started by torchrun
    device = resolve_device(config.device)
    if session:
        device = session.start(device, config.meta_batch)
    check_meta_batch_fits(config, device)  # before allocating anything, and before a run folder exists
    precision = resolve_precision(config.precision, device)
    if device.type == "cpu":
        # Second-order MAML's gradients underflow into denormal floats, each ~100x slower on x86; flushing
        # them to zero changes no result (they are below 1e-38) and measured 1.3-1.7x faster meta-updates
        # (benchmarks/maml_profile.py). The setting belongs to the calling thread: the one that trains.
        torch.set_flush_denormal(True)
    if config.tensorboard:
        tensorboard_log.check_available()
    torch.manual_seed(config.seed)
    if resume:
        folder = RunFolder.open(run_dir)
        config = _as_decided(config, folder)
        if not session or session.is_main:
            lock.acquire()  # a second writer is refused before it touches anything
            folder.remove_stale_temp_files()  # left by a write that a kill cut short
        folder.check_checkpoint_folder()
        # Killed before its first checkpoint: the run starts again in its own folder. A run that got
        # further and lost its checkpoint is refused: starting it again would replace what it learnt.
        checkpoint = folder.load_checkpoint() if folder.checkpoint_path.exists() else None
        if checkpoint is None:
            folder.check_nothing_to_lose(config.checkpoint_every)
        if session and not session.is_main:
            folder = distributed.FollowerFolder(run_dir)
    algorithm = build_algorithm(config, device, precision)  # checks hyperparameters before any work
    # Made now, not in the first step (an algorithm may make its optimisers on first use, and a process's
    # first optimiser imports torch's compiler: seconds in which Stop would wait).
    algorithm.optimizers()
    data = yield from _prepare_unless_cancelled(config, control, algorithm, resume)
    if data is None:
        yield RunFinished("cancelled", "Stopped while loading the data, before training began; no run was saved.",
                          0, None, str(run_dir))
        return
    config = data.config or config  # every "auto" decided from the data: the run folder records the decisions
    if on_data:
        on_data(data)
    counts = {entry.key: len(entry.images) for entry in data.scan.classes}
    if resume and (not session or session.is_main):
        if allow_changed_data:
            changes = data_changes(read_fingerprint(run_dir) or counts, counts)
            if changes:
                yield Message(f"The data changed since this run began ({changes}); going on as asked.", "warning")
        else:
            check_unchanged(run_dir, counts)
        write_fingerprint(run_dir, counts)
    if resume and checkpoint is not None:
        try:
            algorithm.load_state_dict(checkpoint["model"])
            algorithm.load_optimizer_state_dict(checkpoint["optimizer"])
            data.train.load_state_dict(checkpoint["sampler"])
            if isinstance(checkpoint.get("torch_rng"), torch.Tensor):
                torch.set_rng_state(checkpoint["torch_rng"])  # dropout and random inits continue as if never stopped
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise RunFolderError(f"{folder.checkpoint_path} does not fit this run's settings "
                                 f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).") from None
        start_step = checkpoint.get("step")
        if isinstance(start_step, bool) or not isinstance(start_step, int) or not 0 <= start_step <= config.steps:
            raise RunFolderError(f"{folder.checkpoint_path} is damaged: its step {start_step!r} is not one of this "
                                 f"run's 0 to {config.steps} steps; delete it to train the run again from the start.")
        best = checkpoint.get("best_val_accuracy")
        folder.truncate_metrics(start_step)
        folder.write_status("running", f"Resumed at step {start_step}.", step=start_step)
        folder.append_log(f"resumed at step {start_step}")
    elif resume:
        start_step, best = 0, None
        folder.truncate_metrics(0)
        folder.write_problems([str(p) for p in data.problems])
        folder.write_status("running", "No checkpoint had been written; training starts again.", step=0)
        folder.append_log("no checkpoint to resume from; started again at step 0")
    else:
        if session and not session.is_main:
            folder = distributed.FollowerFolder(run_dir)  # only rank 0 writes the run folder
        else:
            folder = RunFolder.create(run_dir, config, environment(device, precision), lock=lock, unique=unique)
            write_fingerprint(folder.path, counts)
            for choice in data.choices:
                folder.append_log(choice)
        folder.write_problems([str(p) for p in data.problems])
        start_step, best = 0, None
    algorithm.between_episodes = algorithm.between_steps = control.checkpoint
    if session:
        session.attach(algorithm, config.meta_batch)
        # Processes agree on cancelling once per step instead.
        algorithm.between_episodes = algorithm.between_steps = lambda: None
    yield RunStarted(
        str(folder.path), config.steps, start_step, describe_device(device), precision,
        len(data.split.train), len(data.split.val), len(data.split.test),
    )
    yield from architecture_update(algorithm, start_step)
    display = data.test or data.val or data.train
    display_ways = config.ways if display is data.train else display.ways
    display_sampler = EpisodeSampler(
        data.cache, display.pool, display_ways, config.shots, config.queries, seed=config.seed + 3, invert=config.invert
    )
    loop = _Loop(config, algorithm, data, folder, control, start_step, best, session)
    try:
        yield from loop.run(display_sampler)
    except RunCancelled:
        loop.save_checkpoint()
        message = f"Stopped at step {loop.step} of {config.steps}; the run can be resumed."
        folder.write_status("cancelled", message, step=loop.step)
        yield RunFinished("cancelled", message, loop.step, loop.best, str(folder.path))
        return
    except NonFiniteLossError as exc:
        loop.flush_metrics()
        message = f"{exc} {loop.kept_checkpoint()}"
        folder.write_status("failed", message, step=loop.step)
        folder.append_log(message)
        yield Message(message, "error")
        yield RunFinished("failed", message, loop.step, loop.best, str(folder.path))
        return
    except Exception as exc:  # a crash of the algorithm must end the run, not the app
        message = f"Training failed at step {loop.step}: {_failure_reason(exc)}. {loop.kept_checkpoint()} Details in log.txt."
        try:
            loop.flush_metrics()
            folder.append_log("".join(traceback.format_exception(exc)))
            folder.write_status("failed", message, step=loop.step)
        except OSError:  # a full disk may refuse these too: the message still reaches the person
            message += " (The run folder could not be updated either.)"
        yield Message(message, "error")
        yield RunFinished("failed", message, loop.step, loop.best, str(folder.path))
        return
    message = f"Time limit reached after {loop.step} steps." if loop.time_limited else f"Finished {config.steps} steps."
    if loop.best is not None:
        message += f" Best validation accuracy {loop.best:.1%}."
    if not session or session.is_main:
        try:
            yield from _calibrate(algorithm, data, config, folder, control)
        except RunCancelled:
            message += " Stopped before the confidence was calibrated."
    folder.write_status("completed", message, step=loop.step)
    yield RunFinished("completed", message, loop.step, loop.best, str(folder.path))


def _as_decided(config: RunConfig, folder: RunFolder) -> RunConfig:
    """`config` with what the run decided from its data when it began (a resumed run keeps its episodes)."""
    saved = folder.read_config(check_algorithm=False)
    return replace(config, **{name: getattr(saved, name) for name in (*AUTO_FLAGS, "train_ways", "train_queries")})


def _calibrate(algorithm: Algorithm, data: PreparedData, config: RunConfig, folder: RunFolder, control: RunControl):
    """Fit the confidence temperatures of the kept weights on validation episodes (calibration.json)."""
    sampler = calibration_sampler(data, config)
    if sampler is None:
        yield Message("No validation classes: confidences are calibrated on the labelled images alone when adapting.",
                      "warning")
        return
    episodes = calibration_episodes()
    yield Message(f"Calibrating confidence on {episodes} validation episodes.")
    algorithm.load_state_dict(folder.load_model())  # the weights a person will use: the best validated ones
    algorithm.train_mode(False)
    report = fit_run_temperatures(algorithm, sampler, episodes, between=control.checkpoint)
    folder.write_calibration(report)
    model_t = report["temperatures"]["model"]
    yield Message(f"Confidence calibrated: temperature {model_t:.3g}, expected calibration error "
                  f"{report['ece_before']['model']:.1%} -> {report['ece_after']['model']:.1%} on validation episodes.")


def _failure_reason(exc: BaseException) -> str:
    """What went wrong, in words a person can act on."""
    if isinstance(exc, torch.OutOfMemoryError):
        return "the device ran out of memory (try a smaller meta-batch or image size)"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        where = exc.filename or "a run file"
        return (f"there was no room to write {where} (the disk is full or a file size limit was reached); "
                "free some space, then resume")
    return f"{type(exc).__name__}: {exc}"


def _prepare_unless_cancelled(config: RunConfig, control: RunControl, algorithm: Algorithm, resume: bool):
    """prepare_data's events, stopping early (returning None) when the user cancels."""
    # A resumed run keeps its own episodes: in run folders written before train ways were decided, 0 meant "same".
    wide = (0, 0) if resume else (algorithm.wide_training_ways, algorithm.wide_training_queries)
    steps = prepare_data(config, *wide)
    while True:
        if control.cancelled:
            steps.close()
            return None
        try:
            event = next(steps)
        except StopIteration as finished:
            return finished.value
        yield event


def architecture_update(algorithm: Algorithm, step: int, searching_only: bool = False):
    """The architecture the network points at now, for a live view; `searching_only`: only while it can still
    change (a search records every edge's mix, a fixed searched cell does not)."""
    record = algorithm.artifacts().get(ARCHITECTURE_FILE)
    if record is not None and (not searching_only or "edges" in record.get("normal", {})):
        yield ArchitectureUpdate(step, record)


class _Loop:
    """State of one training loop, so the error paths can checkpoint what was done."""

    def __init__(self, config, algorithm, data, folder, control, start_step, best, session=None) -> None:
        self.config, self.algorithm, self.data, self.folder, self.control = config, algorithm, data, folder, control
        self.session = session
        main = session is None or session.is_main
        self.tensorboard = tensorboard_log.TensorBoardLog(folder.path) if config.tensorboard and main else None
        self.step = self.saved_step = start_step
        self.best = best
        self.rows: list[dict] = []
        self.time_limited = False

    def run(self, display_sampler: EpisodeSampler):
        config, algorithm = self.config, self.algorithm
        started = last = time.perf_counter()
        rate = None
        if self.step == 0 and self.data.val is None:
            yield Message("No validation classes: validation is skipped and model.pt is the latest weights.", "warning")
        for step in range(self.step + 1, config.steps + 1):
            if self.session is None:
                self.control.checkpoint()
            elif self.session.any(self.control.cancelled):  # all processes stop at the same step
                raise RunCancelled()
            episodes = [self.data.train.sample().to(algorithm.device) for _ in range(config.meta_batch)]
            algorithm.train_mode(True)
            stats = algorithm.meta_train(episodes)
            self.step = step
            now = time.perf_counter()
            instant = config.meta_batch / max(now - last, 1e-9)
            rate = instant if rate is None else RATE_SMOOTHING * rate + (1 - RATE_SMOOTHING) * instant
            last = now
            elapsed = now - started
            self.rows.append({"step": step, "phase": "train", "loss": stats.loss, "accuracy": stats.accuracy,
                              "episodes_per_s": rate, "elapsed_s": elapsed})
            eta = (config.steps - step) * config.meta_batch / rate
            yield TrainStep(step, config.steps, stats.loss, stats.accuracy, rate, eta, elapsed)
            if step % config.val_every == 0 or step == config.steps:
                yield from self.validate(display_sampler)
            out_of_time = bool(config.time_limit_s) and elapsed >= config.time_limit_s
            if self.session:
                out_of_time = self.session.any(out_of_time)
            if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
                if out_of_time and step % config.val_every and step != config.steps:
                    yield from self.validate(display_sampler)
                self.save_checkpoint()
            if out_of_time:
                self.time_limited = True
                yield Message(f"Time limit of {config.time_limit_s:g} s reached at step {step}.")
                return

    def validate(self, display_sampler: EpisodeSampler):
        config, algorithm = self.config, self.algorithm
        if self.session and not self.session.is_main:
            return  # rank 0 validates; the others wait for it at the next step
        algorithm.train_mode(False)
        if self.data.val is not None:
            # The same validation episodes every time, so the curve compares like with like.
            sampler = EpisodeSampler(self.data.cache, self.data.val.pool, self.data.val.ways, config.shots,
                                     config.queries, seed=config.seed + 1, invert=config.invert)
            between = self.control.checkpoint if self.session is None else None  # see run(): agreed per step
            algorithm.validating = True
            try:
                result = evaluate(algorithm, sampler, config.val_episodes, between=between)
            finally:
                algorithm.validating = False
            improved = self.best is None or result.accuracy > self.best
            if improved:
                self.best = result.accuracy
                self.save_model()
                self.folder.write_status("running", f"Step {self.step}: new best validation accuracy.",
                                         step=self.step, best_val_accuracy=self.best, best_step=self.step)
            self.rows.append({"step": self.step, "phase": "val", "loss": result.loss, "accuracy": result.accuracy,
                              "ci95": result.ci95})
            yield Validation(self.step, result.loss, result.accuracy, result.ci95, self.best)
        else:
            self.save_model()
        yield from architecture_update(algorithm, self.step, searching_only=True)
        yield predict_episode(algorithm, display_sampler.sample(), self.step)
        self.flush_metrics()

    def save_model(self) -> None:
        """model.pt, and the files the algorithm keeps with it (MetaNAS: the architecture of those weights)."""
        self.folder.save_model(self.algorithm.state_dict(), self.algorithm.artifacts())

    def kept_checkpoint(self) -> str:
        if self.saved_step:
            return f"The last good checkpoint (step {self.saved_step}) is kept."
        first = min(self.config.checkpoint_every, self.config.steps)
        return f"No checkpoint had been written yet (the first comes at step {first})."

    def flush_metrics(self) -> None:
        if self.rows:
            if self.tensorboard:
                self.tensorboard.write(self.rows)
            self.folder.append_metrics(self.rows)
            self.rows = []

    def save_checkpoint(self) -> None:
        self.flush_metrics()
        self.folder.save_checkpoint({
            "step": self.step,
            "model": self.algorithm.state_dict(),
            "optimizer": self.algorithm.optimizer_state_dict(),
            "sampler": self.data.train.state_dict(),
            "best_val_accuracy": self.best,
            "torch_rng": torch.get_rng_state(),
        })
        self.saved_step = self.step
        self.folder.write_status("running", f"Checkpoint at step {self.step}.", step=self.step)


def run_to_end(events) -> RunFinished:
    """Drain a run's events (for scripts and tests); returns the RunFinished event."""
    finished = None
    for event in events:
        if isinstance(event, RunFinished):
            finished = event
    if finished is None:
        raise WorkbenchError("The run ended without reporting how.")
    return finished
