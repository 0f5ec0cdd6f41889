"""A project file (JSON): what one experiment uses, so it reopens as it was left.

    {"format": 1, "name": "...", "datasets": [paths], "runs_root": path,
     "labelling_sessions": [paths], "settings": {...}}

Paths inside the project's own folder are stored relative to it, so a project
folder can be moved or shared whole. Loading checks every field and names the
file and the field when one is wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.atomic import write_json_atomic

FORMAT_VERSION = 1
SUFFIX = ".fswproj"


class ProjectError(WorkbenchError):
    """A project file that cannot be read or is not valid."""


@dataclass
class Project:
    """The datasets, runs root and labelling sessions of one experiment, plus free-form GUI settings."""

    name: str = "Untitled"
    datasets: list[str] = field(default_factory=list)
    runs_root: str = ""
    labelling_sessions: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        base = _resolved(path).parent
        data = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "datasets": [_relative(p, base) for p in self.datasets],
            "runs_root": _relative(self.runs_root, base) if self.runs_root else "",
            "labelling_sessions": [_relative(p, base) for p in self.labelling_sessions],
            "settings": self.settings,
        }
        try:
            write_json_atomic(path, data)
        except OSError as exc:
            raise ProjectError(f"Cannot save the project to {path}: {exc.strerror or exc}.") from None
        return path


def load_project(path: str | Path) -> Project:
    """Read and check a project file; a problem raises ProjectError naming the file and the field."""
    path = Path(path)
    try:
        data = read_json(path, SETTINGS_LIMIT, ProjectError, "project file")
    except FileNotFoundError:
        raise ProjectError(f"Project file not found: {path}.") from None
    except OSError as exc:
        raise ProjectError(f"Cannot read the project file {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectError(f"The project file {path} is damaged: it is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise ProjectError(f"The project file {path} is not a project: expected a JSON object.")
    if isinstance(data.get("format"), bool) or data.get("format") != FORMAT_VERSION:  # true == 1 in Python
        raise ProjectError(f"The project file {path}: field 'format' must be {FORMAT_VERSION} "
                           f"(found {data.get('format')!r}); it was written by another version or is not a project.")
    base = _resolved(path).parent

    def text(name: str, default: str = "") -> str:
        value = data.get(name, default)
        if not isinstance(value, str):
            raise ProjectError(f"The project file {path}: field '{name}' must be text, not {value!r}.")
        return value

    def paths(name: str) -> list[str]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ProjectError(f"The project file {path}: field '{name}' must be a list of paths.")
        return [_absolute(v, base) for v in value]

    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ProjectError(f"The project file {path}: field 'settings' must be an object.")
    runs_root = text("runs_root")
    return Project(name=text("name", path.stem), datasets=paths("datasets"),
                   runs_root=_absolute(runs_root, base) if runs_root else "",
                   labelling_sessions=paths("labelling_sessions"), settings=settings)


def _resolved(path: Path) -> Path:
    # realpath, not Path.resolve: a link loop named in a project raised RuntimeError from resolve.
    return Path(os.path.realpath(path))


def _relative(value: str, base: Path) -> str:
    path = Path(value)
    try:
        real = _resolved(path)
        return Path(os.path.relpath(real, base)).as_posix() if real.is_relative_to(base) else str(path)
    except (OSError, ValueError):
        return str(path)


def _absolute(value: str, base: Path) -> str:
    path = Path(value)
    return str(path if path.is_absolute() else _resolved(base / path))
