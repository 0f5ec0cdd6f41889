"""What a run was trained on, cheaply: class names and image counts, kept in RUN/dataset.json.

Resuming compares it with the data as it is now, so a dataset that lost or gained classes
(or images) since the run began is noticed instead of trained on in silence. Runs made
before this file existed have none and resume as before.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.errors import DataError, RunFolderError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.atomic import write_json_atomic

FILE_NAME = "dataset.json"


def fingerprint(class_counts: dict[str, int]) -> dict:
    return {"classes": dict(sorted(class_counts.items())), "images": sum(class_counts.values())}


def write_fingerprint(run_dir: str | Path, class_counts: dict[str, int]) -> None:
    write_json_atomic(Path(run_dir) / FILE_NAME, fingerprint(class_counts))


def read_fingerprint(run_dir: str | Path) -> dict[str, int] | None:
    """The stored class counts, or None for a run without the file (made by an older version)."""
    path = Path(run_dir) / FILE_NAME
    if not path.exists():
        return None
    try:
        data = read_json(path, SETTINGS_LIMIT * 4, RunFolderError, "dataset fingerprint file")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path} is damaged ({exc}); delete it to resume without the data check.") from None
    classes = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(classes, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in classes.values()):
        raise RunFolderError(f"{path} is damaged (no class counts); delete it to resume without the data check.")
    return classes


def data_changes(before: dict[str, int], now: dict[str, int]) -> str:
    """'' when the data is as it was; else what changed, in words."""
    gone = sorted(set(before) - set(now))
    new = sorted(set(now) - set(before))
    resized = sorted(k for k in set(before) & set(now) if before[k] != now[k])
    parts = []
    if gone:
        parts.append(f"{len(gone)} of its {len(before)} classes are gone (e.g. {gone[0]})")
    if new:
        parts.append(f"{len(new)} new classes appeared (e.g. {new[0]})")
    if resized:
        k = resized[0]
        parts.append(f"{len(resized)} classes have a different number of images (e.g. {k}: {before[k]} then, {now[k]} now)")
    return "; ".join(parts)


def check_unchanged(run_dir: str | Path, now: dict[str, int]) -> None:
    """Raise DataError when the run's stored fingerprint differs from `now`."""
    before = read_fingerprint(run_dir)
    if before is None:
        return
    changes = data_changes(before, now)
    if changes:
        raise DataError(f"The data changed since this run began: {changes}. Resuming would train on other classes "
                        f"than the run's; resume with --allow-changed-data to go on anyway, or start a new run.")
