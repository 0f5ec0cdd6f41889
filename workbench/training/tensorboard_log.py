"""TensorBoard scalars for a run (RunConfig.tensorboard, CLI --tensorboard), in RUN_DIR/tensorboard/.

The same numbers as metrics.csv, under the tags train/loss, train/accuracy,
train/episodes_per_s, val/loss, val/accuracy and val/ci95, with the meta-update
as the step; view them with `tensorboard --logdir RUN_DIR` (or a folder of runs).
"""

from __future__ import annotations

import weakref
from pathlib import Path

from workbench.errors import ConfigError

FOLDER = "tensorboard"
SCALARS = ("loss", "accuracy", "ci95", "episodes_per_s")


def check_available() -> None:
    """Raise ConfigError, in words, when the tensorboard package is missing (before a run starts)."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise ConfigError("TensorBoard logging needs the 'tensorboard' package: pip install tensorboard "
                          "(or train without --tensorboard).") from None


class TensorBoardLog:
    """Appends metric rows (as the runner writes them to metrics.csv) to a TensorBoard event file."""

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / FOLDER
        self._writer = None

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.path))
            # The writer has a background thread; close it when the run's loop is gone.
            weakref.finalize(self, self._writer.close)
        for row in rows:
            for name in SCALARS:
                value = row.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._writer.add_scalar(f"{row['phase']}/{name}", float(value), int(row["step"]))
        self._writer.flush()  # on disk at once: TensorBoard shows a live run

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
