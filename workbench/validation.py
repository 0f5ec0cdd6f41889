"""Checking the command line before any work: numbers in range, paths that can be paths, outputs that harm nothing.

`check_arguments` looks at whatever options a command has; each problem is one sentence
naming the option (ConfigError), so `main.py` prints `error: ...` and exits 2 instead of
failing later, or, worse, computing nonsense (an accuracy over zero-way episodes).
`check_output_file` keeps an output from replacing a folder, a device, the run's own files
or the command's inputs.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path

from workbench.errors import ConfigError

SEED_MAX = 2**32 - 1  # numpy's seeds; torch's are wider
# option name in argparse -> (smallest, largest) allowed; None for an option left at "the run's".
WHOLE_NUMBERS = {
    "ways": (2, 1000), "shots": (1, 10_000), "queries": (1, 10_000), "episodes": (1, 10_000_000),
    "train_ways": (0, 1000), "train_queries": (0, 10_000), "image_size": (16, 512), "steps": (1, 10**9),
    "meta_batch": (1, 1_000_000), "seed": (0, SEED_MAX), "val_every": (1, 10**9), "val_episodes": (1, 10_000_000),
    "checkpoint_every": (1, 10**9),
}
NUMBERS = {"cache_mb": (0.0, 1e9), "time_limit": (0.0, 1e9), "val_fraction": (0.0, 0.99), "test_fraction": (0.0, 0.99)}
PATH_OPTIONS = ("data", "support", "query", "out", "resume", "run_dir", "episode_file", "runs")


def option(name: str) -> str:
    return "RUN_DIR" if name == "run_dir" else "--" + name.replace("_", "-")


def check_arguments(args: argparse.Namespace) -> None:
    """Raise ConfigError for the first option out of its range, not finite, or a path holding a NUL."""
    values = vars(args)
    for name, (low, high) in WHOLE_NUMBERS.items():
        value = values.get(name)
        if value is not None and not low <= value <= high:
            raise ConfigError(f"{option(name)} must be a whole number from {low} to {high:,}, not {value}.")
    if values.get("train_ways") == 1:
        raise ConfigError("--train-ways must be 0 (the same as --ways) or at least 2, not 1.")
    for name, (low, high) in NUMBERS.items():
        value = values.get(name)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(f"{option(name)} must be a number from {low:g} to {high:g}, not {value}.")
    for name in PATH_OPTIONS:
        value = values.get(name)
        for path in value if isinstance(value, list) else [value]:
            if isinstance(path, str):
                check_path_text(path, option(name))


def check_path_text(path: str, what: str) -> None:
    if "\0" in path:
        raise ConfigError(f"{what} {path!r} holds a NUL character, which no path can.")
    if not path.strip():
        raise ConfigError(f"{what} is empty; give a path.")


def run_folder_holding(path: str | os.PathLike) -> Path | None:
    """The run folder that `path` is in (a folder above it with config.json and status.json), or None."""
    for folder in Path(os.path.abspath(path)).resolve().parents:
        if (folder / "config.json").is_file() and (folder / "status.json").is_file():
            return folder
    return None


def check_output_file(path: str | os.PathLike, what: str = "--out", inputs: tuple[str | os.PathLike, ...] = ()) -> None:
    """Refuse (ConfigError) an output file that would replace a folder, a device, a pipe, a file of a run
    folder, or land inside one of `inputs` (folders the same command reads), or that cannot be written."""
    from workbench.atomic import UnsafeTargetError, check_target

    check_path_text(str(path), what)
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{what} {target} is a folder; give the name of the file to write inside it.")
    try:
        check_target(target)
    except UnsafeTargetError as exc:
        raise ConfigError(f"{what} {exc}") from None
    run = run_folder_holding(target)
    if run is not None:
        raise ConfigError(f"{what} {target} is inside the run folder {run}, whose files it could overwrite; "
                          f"write it outside the run folder.")
    resolved = Path(os.path.abspath(target)).resolve()
    for folder in inputs:
        folder = Path(folder).resolve()
        if resolved == folder or folder in resolved.parents:
            raise ConfigError(f"{what} {target} is inside {folder}, which this command reads; write it elsewhere.")
    check_writable_location(target, what)


def check_writable_location(target: str | os.PathLike, what: str = "--out") -> None:
    """Refuse (ConfigError) a path whose nearest existing folder cannot be written (read-only, no permission)."""
    here = Path(os.path.abspath(target)).parent
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise ConfigError(f"{what} {target}: {here} is a file, not a folder, so nothing can be written under it.")
    if not os.access(here, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {target}: the folder {here} cannot be written (read-only or no permission).")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}")


def check_registry_name(kind: str, name: object) -> None:
    """Refuse (ConfigError) an algorithm or backbone name that a command line, a file name or a terminal
    could not carry as it is: a newline or an escape sequence in a plugin's name would reach all three."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name)[:80]
        raise ConfigError(f"The {kind} name {shown} cannot be used: a name is 1 to 48 letters, digits, '_' or '-', "
                          f"starting with a letter or digit.")
