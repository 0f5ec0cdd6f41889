"""What the Training page says before the first run: the next step, given what is true now."""

from __future__ import annotations

from workbench.data.sources import DatasetScan
from workbench.gui.readable_counts import ReadableCounts, describe_counts


def before_training(scan: DatasetScan | None, counts: ReadableCounts | None, scanning: bool,
                    blocker: str | None, start_keys: str) -> str:
    """The sentence for the run status before any run: choose data, wait for the scan, fix the data,
    or press Start training (naming `start_keys`, its shortcut, when it has one)."""
    start = f"<b>Start training</b> ({start_keys})" if start_keys else "<b>Start training</b>"
    if scanning:
        return f"Not started. Reading the dataset… press {start} to train as soon as it is read."
    if scan is None:
        return f"Not started. Choose a dataset (File › Open dataset folder… or zip…), then press {start}."
    if counts is None or counts.classes == 0:
        return "Not started. No class of this dataset holds a readable image (see the Dataset page): choose another."
    found = ", ".join(describe_counts(scan, counts))
    if blocker and len(scan.classes) < 2:  # Start is off: the data must change first
        return f"Not started. {blocker}"
    if blocker:
        return f"Not started. Dataset loaded: {found}. {blocker}"
    return f"Not started. Dataset loaded: {found}. Press {start} to train on it."
