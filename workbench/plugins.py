"""Finding algorithm plugins: files in plugins/ and the `workbench.algorithms` entry points.

A plugin registers its algorithms with `workbench.algorithms.registry.register`,
the same door the built-ins use. A plugin that fails to import is recorded
with its error and skipped; the rest of the workbench works.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ENTRY_POINT_GROUP = "workbench.algorithms"
PROJECT_PLUGINS = Path(__file__).resolve().parent.parent / "plugins"


@dataclass(frozen=True)
class PluginStatus:
    name: str
    origin: str
    loaded: bool
    error: str = ""


_STATUS: dict[str, PluginStatus] = {}


def plugin_folders() -> list[Path]:
    """plugins/ beside the project, plus folders listed in WORKBENCH_PLUGIN_PATH."""
    folders = [PROJECT_PLUGINS]
    extra = os.environ.get("WORKBENCH_PLUGIN_PATH", "")
    folders += [Path(p) for p in extra.split(os.pathsep) if p]
    return folders


def load_plugins() -> list[PluginStatus]:
    """Import every plugin once; return the status of each."""
    for folder in plugin_folders():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(("_", ".")):
                continue
            if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file()):
                _load_file(path)
    try:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution's metadata must not stop the app
        entry_points = []
    for entry in entry_points:
        key = f"entry-point:{entry.name}"
        if key in _STATUS:
            continue
        try:
            entry.load()
        except Exception as exc:
            _STATUS[key] = PluginStatus(entry.name, entry.value, False, _describe(exc))
        else:
            _STATUS[key] = PluginStatus(entry.name, entry.value, True)
    return list(_STATUS.values())


def _load_file(path: Path) -> None:
    key = str(path.resolve())
    if key in _STATUS:
        return
    module_name = f"workbench_plugin_{path.stem}"
    target = path / "__init__.py" if path.is_dir() else path
    try:
        spec = importlib.util.spec_from_file_location(module_name, target)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        _STATUS[key] = PluginStatus(path.stem, str(path), False, _describe(exc))
    else:
        _STATUS[key] = PluginStatus(path.stem, str(path), True)


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}, line {last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def statuses() -> list[PluginStatus]:
    return list(_STATUS.values())
