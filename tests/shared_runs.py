"""Run folders trained once per worker (tests/conftest.py) and shared by test modules."""

import shutil
from pathlib import Path


def copy_of_run(run: Path, tmp_path_factory, name: str) -> Path:
    """A module's own copy of a shared run folder: commands may write into a run (calibration, caches)."""
    copy = tmp_path_factory.mktemp(name) / "run"
    shutil.copytree(run, copy)
    return copy
