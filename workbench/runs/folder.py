"""A run is a folder a person can read.

    config.json         what was asked for: data, split, protocol, algorithm, seed, ...
    environment.json    versions and the device actually used
    status.json         running | completed | cancelled | failed, with a message
    metrics.csv         step, phase (train / val), loss, accuracy, episodes/s, elapsed
    data_problems.txt   what was wrong with the data, one problem per line
    log.txt             messages, one per line
    model.pt            best-validation weights (a state dict)
    architecture.json   beside model.pt when the algorithm has files to go with it (Algorithm.artifacts):
                        the cell a MetaNAS search found
    checkpoints/last.pt everything to resume: weights, optimiser, sampler and step
    annotations.json    the person's own: the name shown for the run, a note and tags (runs/annotations.py)

Everything is written atomically, so the folder is valid at every instant.
Weights load with torch.load(weights_only=True): a file that would run code is refused.
Every file is read through workbench/files.py: special files are refused by type, and every
file has a size bound checked before it is read.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, RunFolderError
from workbench.weights import load_weights
from workbench.files import SETTINGS_LIMIT, TABLE_LIMIT, check_regular, read_json, read_text
from workbench.atomic import save_torch_atomic, write_json_atomic, write_text_atomic
from workbench.runs.config import RunConfig
from workbench.runs.lock import LOCK_NAME, RunLock, RunLockedError

METRIC_FIELDS = ("step", "phase", "loss", "accuracy", "ci95", "episodes_per_s", "elapsed_s")
# What the calibration fit can produce (adaptation/calibration.py): a value outside was not fitted here, and
# one far outside would flatten every probability until float rounding, not the model, picks the label.
TEMPERATURE_RANGE = (1e-3, 1e4)
POWER_RANGE = (0.2, 2.0)


class RunFolder:
    """Reads and writes one run folder. Open an existing one with `RunFolder.open(path)`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # --- files -------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def model_path(self) -> Path:
        return self.path / "model.pt"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.csv"

    # --- creating ------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, config: RunConfig, environment: dict, lock: RunLock | None = None,
               unique: bool = False) -> "RunFolder":
        """A new run folder at `path`, holding `lock` (taken in it) before a file is written, so that of two
        trainings given one folder at once, one writes it and the other is refused having touched nothing.
        `unique`: `path` is only a suggested name (no --out given): when it is taken, `path-2`, `path-3`, ..."""
        folder = cls(_claim_unique(Path(path)) if unique else path)
        if folder.path.exists() and not folder.path.is_dir():
            raise RunFolderError(f"{folder.path} is a file, not a folder; choose a new --out folder for the run.")
        folder._check_empty()
        first_new = _first_missing(folder.path)  # what to remove again if the folder cannot be made whole
        if unique:
            first_new = folder.path  # claimed (made empty) just now
        if lock is not None:
            try:
                folder.path.mkdir(parents=True, exist_ok=True)
                lock.path = folder.path / LOCK_NAME
                lock.acquire()
            except OSError as exc:
                _remove_half_made(folder.path, first_new)
                raise RunFolderError(f"Cannot create the run folder {folder.path}: {describe_os_error(exc)}; "
                                     f"nothing was left behind.") from None
            except RunLockedError:
                raise RunFolderError(f"{folder.path} is being made into a run by another training right now; "
                                     f"choose a new --out folder for this one.") from None
            folder._check_empty()  # the other training may have finished making it in between
        try:
            (folder.path / "checkpoints").mkdir(parents=True, exist_ok=True)
            write_json_atomic(folder.config_path, config.to_dict())
            write_json_atomic(folder.path / "environment.json", environment)
            write_text_atomic(folder.metrics_path, ",".join(METRIC_FIELDS) + "\n")
            folder.write_status("running", "Training started.", step=0)
        except OSError as exc:
            _remove_half_made(folder.path, first_new)
            raise RunFolderError(f"Cannot create the run folder {folder.path}: {describe_os_error(exc)}; "
                                 f"nothing was left behind.") from None
        return folder

    def _check_empty(self) -> None:
        if not self.path.is_dir():
            return
        held = [p for p in self.path.iterdir() if p.name != LOCK_NAME]
        if held:
            if self.config_path.exists():
                raise RunFolderError(
                    f"{self.path} already holds a run; choose a new --out folder or resume that run."
                )
            raise RunFolderError(f"{self.path} is not empty; choose a new or empty folder for the run.")

    # --- opening -------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> "RunFolder":
        folder = cls(path)
        if not folder.path.is_dir():
            raise RunFolderError(f"Run folder not found: {folder.path}")
        if not folder.config_path.exists():
            raise RunFolderError(f"{folder.path} is not a run folder (it has no config.json).")
        try:
            check_regular(folder.config_path, RunFolderError, "run settings file")
        except OSError as exc:
            raise RunFolderError(f"Cannot read {folder.config_path}: {exc.strerror or exc}") from None
        return folder

    def read_config(self, check_algorithm: bool = True) -> RunConfig:
        """The run's settings, validated; a bad field is named with the file.

        `check_algorithm` also checks that the algorithm is registered (its plugin
        loaded) and that its hyperparameters are valid, as needed to load or resume.
        """
        source = str(self.config_path)
        config = RunConfig.from_dict(self._read_json(self.config_path), source=source)
        if check_algorithm:
            from workbench import catalogue
            from workbench.algorithms.hyperparams import resolve_hyperparams

            try:
                cls = catalogue.get(config.algorithm)
            except ConfigError as exc:
                raise ConfigError(f"{source}: field 'algorithm': {exc} (Is the plugin that provides it enabled?)") from None
            try:
                resolve_hyperparams(cls.hyperparams, dict(config.hparams), config.algorithm)
            except ConfigError as exc:
                raise ConfigError(f"{source}: field 'hparams': {exc}") from None
        return config

    def read_status(self) -> dict:
        """status.json as a dict with at least 'status' (text); 'unknown' when absent."""
        path = self.path / "status.json"
        if not path.exists():
            return {"status": "unknown"}
        data = self._read_json(path)
        if not isinstance(data, dict):
            raise RunFolderError(f"{path} is damaged: expected a JSON object, found {type(data).__name__}.")
        if not isinstance(data.get("status"), str):
            raise RunFolderError(f"{path} is damaged: field 'status' is missing or not text.")
        for key in ("step", "best_step"):
            if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int) or data[key] < 0):
                raise RunFolderError(f"{path} is damaged: field '{key}' must be a whole number from 0, "
                                     f"not {data[key]!r}.")
        accuracy = data.get("best_val_accuracy")
        if accuracy is not None and (isinstance(accuracy, bool) or not isinstance(accuracy, (int, float))
                                     or not 0 <= accuracy <= 1):
            raise RunFolderError(f"{path} is damaged: field 'best_val_accuracy' must be a fraction from 0 to 1, "
                                 f"not {accuracy!r}.")
        return data

    def read_calibration(self) -> dict[str, dict[str, float]]:
        """{"temperatures": {space: T}, "powers": {space: power}} fitted on the run's validation episodes;
        empty dicts when the run has none (a run from before powers has temperatures only: power 1).

        A damaged file, or a value outside what the fit produces, costs only that calibration (confidences are
        then fitted on the labelled images alone)."""
        found: dict[str, dict[str, float]] = {"temperatures": {}, "powers": {}}
        path = self.path / "calibration.json"
        if not path.exists():
            return found
        try:
            data = self._read_json(path)
        except RunFolderError:
            return found
        for key, (low, high) in (("temperatures", TEMPERATURE_RANGE), ("powers", POWER_RANGE)):
            values = data.get(key) if isinstance(data, dict) else None
            if isinstance(values, dict):
                found[key] = {str(k): float(v) for k, v in values.items()
                              if isinstance(v, (int, float)) and not isinstance(v, bool) and low <= v <= high}
        if set(found["powers"]) - set(found["temperatures"]):  # a power belongs with the temperature fitted for it
            found["powers"] = {k: v for k, v in found["powers"].items() if k in found["temperatures"]}
        return found

    def write_calibration(self, report: dict) -> None:
        write_json_atomic(self.path / "calibration.json", report)

    def read_environment(self) -> dict:
        path = self.path / "environment.json"
        return self._read_json(path) if path.exists() else {}

    def _read_json(self, path: Path) -> Any:
        try:
            return read_json(path, SETTINGS_LIMIT, RunFolderError, "run settings file")
        except OSError as exc:
            raise RunFolderError(f"Cannot read {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(f"{path} is damaged (not valid JSON: {exc}).") from None

    # --- writing as the run goes ----------------------------------------------
    def write_status(self, status: str, message: str, **extra: Any) -> None:
        data = {"status": status, "message": message, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        try:
            previous = self.read_status()
        except RunFolderError:
            previous = {}  # a damaged status is replaced, not a reason to stop the run
        for key in ("best_val_accuracy", "best_step", "step"):
            if key in previous:
                data[key] = previous[key]
        data.update(extra)
        write_json_atomic(self.path / "status.json", data)

    def append_metrics(self, rows: list[dict]) -> None:
        """Rewrite metrics.csv with `rows` appended (atomic; the file stays small)."""
        existing = (read_text(self.metrics_path, TABLE_LIMIT, RunFolderError, "metrics file")
                    if self.metrics_path.exists() else ",".join(METRIC_FIELDS) + "\n")
        out = io.StringIO()
        writer = csv.DictWriter(out, METRIC_FIELDS, extrasaction="ignore", lineterminator="\n")
        for row in rows:
            writer.writerow({k: _fmt(row.get(k, "")) for k in METRIC_FIELDS})
        write_text_atomic(self.metrics_path, existing + out.getvalue())

    def truncate_metrics(self, after_step: int) -> None:
        """Drop metric rows past `after_step` (a resumed run repeats those steps)."""
        rows = [r for r in self.read_metrics() if int(r["step"]) <= after_step]
        write_text_atomic(self.metrics_path, ",".join(METRIC_FIELDS) + "\n")
        self.append_metrics(rows)

    def read_metrics(self) -> list[dict]:
        """The rows of metrics.csv (values as text), checked: a damaged row is named by line and field."""
        path = self.metrics_path
        if not path.exists():
            return []
        try:
            text = read_text(path, TABLE_LIMIT, RunFolderError, "metrics file")
            reader = csv.DictReader(io.StringIO(text, newline=""))
            if reader.fieldnames is None or "step" not in reader.fieldnames or "phase" not in reader.fieldnames:
                raise RunFolderError(f"{path} is damaged: its first line must name the columns "
                                     f"({','.join(METRIC_FIELDS)}). Fix or delete the file.")
            rows = []
            for row in reader:
                line = reader.line_num
                if None in row or None in row.values():
                    raise RunFolderError(f"{path} is damaged: line {line} has the wrong number of values. "
                                         "Fix or delete the file.")
                if not row["step"].isdigit():
                    raise RunFolderError(f"{path} is damaged: line {line}, field 'step' must be a whole number, "
                                         f"not {row['step']!r}. Fix or delete the file.")
                for key in ("loss", "accuracy"):
                    if row.get(key):
                        try:
                            float(row[key])
                        except ValueError:
                            raise RunFolderError(f"{path} is damaged: line {line}, field '{key}' must be a number, "
                                                 f"not {row[key]!r}. Fix or delete the file.") from None
                rows.append(row)
            return rows
        except OSError as exc:
            raise RunFolderError(f"Cannot read {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RunFolderError(f"{path} is damaged ({exc}). Fix or delete the file.") from None

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete temporary files left by a write that was killed half-way (never read by anyone).

        Call only when no other process writes this run (e.g. when resuming it).
        """
        removed = []
        for folder in (self.path, self.path / "checkpoints"):
            for path in folder.glob(".*.tmp") if folder.is_dir() else ():
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
        return removed

    def append_log(self, line: str) -> None:
        with (self.path / "log.txt").open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def write_problems(self, lines: list[str]) -> None:
        write_text_atomic(self.path / "data_problems.txt", "".join(f"{line}\n" for line in lines))

    def save_model(self, state: dict, artifacts: dict[str, Any] | None = None) -> None:
        """model.pt, then the algorithm's files that go with it (`Algorithm.artifacts`), each as JSON beside it."""
        save_torch_atomic(self.model_path, state)
        for name, data in (artifacts or {}).items():
            write_json_atomic(self.path / _artifact_name(name), data)

    def save_checkpoint(self, checkpoint: dict) -> None:
        save_torch_atomic(self.checkpoint_path, checkpoint)

    # --- loading weights -------------------------------------------------------
    def load_model(self) -> dict:
        path = self.model_path if self.model_path.exists() else None
        if path is None:
            if self.checkpoint_path.exists():
                return self.load_checkpoint()["model"]
            raise RunFolderError(f"{self.path} has no trained model yet (no model.pt or checkpoint).")
        state = safe_torch_load(path)
        if not isinstance(state, dict):
            raise RunFolderError(f"{path} is damaged: expected a dictionary of weights.")
        return state

    def check_checkpoint_folder(self) -> None:
        """A `checkpoints` that is not a folder (a file, a pipe) is said before any training is done."""
        place = self.checkpoint_path.parent
        if (place.exists() or place.is_symlink()) and not place.is_dir():
            raise RunFolderError(f"{place} is not a folder: the run keeps its checkpoints there. "
                                 "Move it away and resume again.")

    def check_nothing_to_lose(self, checkpoint_every: int) -> None:
        """Refuse to start a run again from step 0 when its checkpoint should be there but is not: a
        run killed before its first checkpoint starts again, but one that had written a checkpoint
        (or finished) would lose its model and its curves."""
        try:
            status = self.read_status()
            step = int(status.get("step") or 0)
        except (RunFolderError, ValueError, TypeError):
            return
        if status.get("status") in ("completed", "stopped") or step >= max(1, checkpoint_every):
            raise RunFolderError(f"{self.path} trained {step} steps but its checkpoint {self.checkpoint_path} is "
                                 "missing, so it cannot be resumed; starting it again would replace its model. "
                                 "Start a new run instead, or put the checkpoint back.")

    def load_checkpoint(self) -> dict:
        if not self.checkpoint_path.exists():
            raise RunFolderError(f"{self.path} has no checkpoint to resume from.")
        checkpoint = safe_torch_load(self.checkpoint_path)
        expected = {"step": int, "model": dict, "optimizer": dict, "sampler": dict}
        if not isinstance(checkpoint, dict):
            raise RunFolderError(f"{self.checkpoint_path} is damaged: expected a dictionary of training state.")
        for key, kind in expected.items():
            if not isinstance(checkpoint.get(key), kind) or isinstance(checkpoint.get(key), bool):
                raise RunFolderError(f"{self.checkpoint_path} is damaged: entry '{key}' is missing or of the wrong type.")
        return checkpoint


# The run's own files, which an algorithm's files may not replace.
_RUN_FILES = {"config.json", "environment.json", "status.json", "calibration.json", "dataset.json", "evaluation.json",
              "annotations.json"}


def _artifact_name(name: str) -> str:
    """`name` if it is a plain .json file name that is not one of the run's own files; RunFolderError otherwise."""
    if (not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.json", name)
            or name in _RUN_FILES):
        raise RunFolderError(f"The algorithm asked to save a file called {name!r:.80} beside model.pt; only a plain "
                             f".json file name that is not one of the run's own files ({', '.join(sorted(_RUN_FILES))}) may be.")
    return name


def safe_torch_load(path: Path) -> Any:
    """Load weights without running code from the file (see workbench/weights.py); problems as RunFolderError."""
    return load_weights(path, RunFolderError)


def describe_os_error(exc: OSError) -> str:
    """An OSError in words a person acts on."""
    words = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
             errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
             errno.EPERM: "permission denied", errno.ENAMETOOLONG: "the name is too long"}
    return words.get(exc.errno, exc.strerror or str(exc))


def _claim_unique(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`, ... : the first name this process makes itself (mkdir is atomic, so two
    trainings started in the same second never share one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        candidate = path if number == 1 else path.with_name(f"{path.name}-{number}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RunFolderError(f"No free name for a new run next to {path}; give --out.")


def _first_missing(path: Path) -> Path | None:
    """The highest folder on the way to `path` that does not exist yet (None: `path` exists)."""
    missing = None
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing = folder
    return missing


def _remove_half_made(path: Path, first_new: Path | None) -> None:
    if first_new is not None:
        shutil.rmtree(first_new, ignore_errors=True)
        return
    for name in ("config.json", "environment.json", "metrics.csv", "status.json", LOCK_NAME):  # the folder was there, empty
        (path / name).unlink(missing_ok=True)
    shutil.rmtree(path / "checkpoints", ignore_errors=True)
    for leftover in path.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)


def _fmt(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value
