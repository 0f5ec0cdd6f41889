"""A run is a folder a person can read.

    config.json         what was asked for: data, split, protocol, algorithm, seed, ...
    environment.json    versions and the device actually used
    status.json         running | completed | cancelled | failed, with a message
    metrics.csv         step, phase (train / val), loss, accuracy, episodes/s, elapsed
    data_problems.txt   what was wrong with the data, one problem per line
    log.txt             messages, one per line
    model.pt            best-validation weights (a state dict)
    checkpoints/last.pt everything to resume: weights, optimiser, sampler and step

Everything is written atomically, so the folder is valid at every instant.
Weights load with torch.load(weights_only=True): a file that would run code is refused.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import time
from pathlib import Path
from typing import Any

import torch

from workbench.errors import RunFolderError
from workbench.runs.atomic import save_torch_atomic, write_json_atomic, write_text_atomic
from workbench.training.config import RunConfig

METRIC_FIELDS = ("step", "phase", "loss", "accuracy", "ci95", "episodes_per_s", "elapsed_s")


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
    def create(cls, path: str | Path, config: RunConfig, environment: dict) -> "RunFolder":
        folder = cls(path)
        if folder.path.exists() and any(folder.path.iterdir()):
            if folder.config_path.exists():
                raise RunFolderError(
                    f"{folder.path} already holds a run; choose a new --out folder or resume that run."
                )
            raise RunFolderError(f"{folder.path} is not empty; choose a new or empty folder for the run.")
        (folder.path / "checkpoints").mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder.config_path, config.to_dict())
        write_json_atomic(folder.path / "environment.json", environment)
        write_text_atomic(folder.metrics_path, ",".join(METRIC_FIELDS) + "\n")
        folder.write_status("running", "Training started.", step=0)
        return folder

    # --- opening -------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> "RunFolder":
        folder = cls(path)
        if not folder.path.is_dir():
            raise RunFolderError(f"Run folder not found: {folder.path}")
        if not folder.config_path.is_file():
            raise RunFolderError(f"{folder.path} is not a run folder (it has no config.json).")
        return folder

    def read_config(self) -> RunConfig:
        return RunConfig.from_dict(self._read_json(self.config_path), source=str(self.config_path))

    def read_status(self) -> dict:
        path = self.path / "status.json"
        return self._read_json(path) if path.exists() else {"status": "unknown"}

    def read_environment(self) -> dict:
        path = self.path / "environment.json"
        return self._read_json(path) if path.exists() else {}

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RunFolderError(f"Cannot read {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RunFolderError(f"{path} is damaged (not valid JSON: {exc}).") from None

    # --- writing as the run goes ----------------------------------------------
    def write_status(self, status: str, message: str, **extra: Any) -> None:
        data = {"status": status, "message": message, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        previous = self.read_status() if (self.path / "status.json").exists() else {}
        for key in ("best_val_accuracy", "best_step", "step"):
            if key in previous:
                data[key] = previous[key]
        data.update(extra)
        write_json_atomic(self.path / "status.json", data)

    def append_metrics(self, rows: list[dict]) -> None:
        """Rewrite metrics.csv with `rows` appended (atomic; the file stays small)."""
        existing = self.metrics_path.read_text(encoding="utf-8") if self.metrics_path.exists() else ",".join(METRIC_FIELDS) + "\n"
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
        if not self.metrics_path.exists():
            return []
        with self.metrics_path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def append_log(self, line: str) -> None:
        with (self.path / "log.txt").open("a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    def write_problems(self, lines: list[str]) -> None:
        write_text_atomic(self.path / "data_problems.txt", "".join(f"{line}\n" for line in lines))

    def save_model(self, state: dict) -> None:
        save_torch_atomic(self.model_path, state)

    def save_checkpoint(self, checkpoint: dict) -> None:
        save_torch_atomic(self.checkpoint_path, checkpoint)

    # --- loading weights -------------------------------------------------------
    def load_model(self) -> dict:
        path = self.model_path if self.model_path.exists() else None
        if path is None:
            if self.checkpoint_path.exists():
                return self.load_checkpoint()["model"]
            raise RunFolderError(f"{self.path} has no trained model yet (no model.pt or checkpoint).")
        return safe_torch_load(path)

    def load_checkpoint(self) -> dict:
        if not self.checkpoint_path.exists():
            raise RunFolderError(f"{self.path} has no checkpoint to resume from.")
        return safe_torch_load(self.checkpoint_path)


def safe_torch_load(path: Path) -> Any:
    """Load weights without running code from the file (weights_only=True)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise RunFolderError(
            f"Refused to load {path}: it contains code or objects other than weights "
            f"(only plain tensors and numbers are loaded, for safety). Detail: {str(exc).splitlines()[0]}"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise RunFolderError(f"{path} is damaged or not a weights file ({str(exc).splitlines()[0]}).") from None


def _fmt(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value
