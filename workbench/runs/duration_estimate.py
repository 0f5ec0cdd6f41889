"""How long a run will take, estimated before it starts from the runs already in the run list.

Earlier runs of the same algorithm on this machine are the best guide: their metrics.csv records
the seconds since training began at every logged step (validation included), so seconds per step
comes from measurements, not from a formula. Runs with the same ways and shots count first; any
run of the algorithm counts when none matches that closely.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.runs.store import RunStore, RunSummary
from workbench.runs.folder import RunFolder

# A run measured over fewer steps says little about steady speed (start-up dominates).
MIN_MEASURED_STEPS = 20


@dataclass(frozen=True)
class DurationEstimate:
    seconds: float
    runs: int  # how many earlier runs the estimate comes from
    same_protocol: bool  # whether those runs had the same ways and shots

    def describe(self) -> str:
        basis = "same ways and shots" if self.same_protocol else "other ways or shots"
        plural = "run" if self.runs == 1 else "runs"
        return f"about {format_duration(self.seconds)} (from {self.runs} earlier {plural}, {basis})"


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def seconds_per_step(path: str | Path) -> float | None:
    """The run's measured seconds per training step, or None when it has too few steps or none."""
    try:
        rows = RunFolder(path).read_metrics()
    except (WorkbenchError, OSError):
        return None
    best: tuple[int, float] | None = None
    for row in rows:
        try:
            step, elapsed = int(row["step"]), float(row.get("elapsed_s") or "nan")
        except (KeyError, TypeError, ValueError):
            continue
        if elapsed == elapsed and elapsed > 0 and (best is None or step > best[0]):
            best = (step, elapsed)
    if best is None or best[0] < MIN_MEASURED_STEPS:
        return None
    return best[1] / best[0]


def estimate_duration(runs_root: str | Path, algorithm: str, steps: int, ways: int, shots: int,
                      runs: list[RunSummary] | None = None) -> DurationEstimate | None:
    """Seconds `steps` training steps of `algorithm` should take, or None when no earlier run says."""
    runs = RunStore(runs_root).scan() if runs is None else runs
    of_algorithm = [run for run in runs if run.algorithm == algorithm]
    same = [run for run in of_algorithm if (run.ways, run.shots) == (ways, shots)]
    for group, same_protocol in ((same, True), (of_algorithm, False)):
        rates = [rate for rate in (seconds_per_step(run.path) for run in group) if rate is not None]
        if rates:
            return DurationEstimate(statistics.median(rates) * steps, len(rates), same_protocol)
    return None
