"""Finding algorithm and backbone plugins: files in plugin folders and `workbench.algorithms` entry points.

A plugin is a Python file (or a package folder with __init__.py) that registers
algorithms with `workbench.algorithms.registry.register` and/or backbones with
`workbench.models.backbones.register_backbone`: the same doors the built-ins use.
Plugins come from the places the user switched on (see plugin_settings):

    project folder   plugins/ shipped with the workbench (inside the package when installed)
    user folder      folders listed in the settings file
    environment      folders in WORKBENCH_PLUGIN_PATH (os.pathsep-separated)
    entry point      pip-installed packages declaring the `workbench.algorithms` group

A plugin that fails to import is recorded with its error, whatever it had
registered before failing is taken out again, and the rest of the workbench works.
So is a plugin that tries to end the program (SystemExit, KeyboardInterrupt), one
that hangs while importing (see plugin_import), and one that registers a name that
is taken, a built-in's above all (see plugin_registrations).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from workbench.algorithms import registry
from workbench.catalogue.plugin_import import PATIENCE_VARIABLE, run_bounded
from workbench.catalogue.process_state import ProcessState
from workbench.catalogue.plugin_registrations import Snapshot, clash
from workbench.catalogue.plugin_settings import PluginSettings, plugins_disabled_by_environment
from workbench.errors import ConfigError, NameTakenError
from workbench.models import backbones

ENTRY_POINT_GROUP = "workbench.algorithms"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the workbench package

SOURCE_PROJECT = "project folder"
SOURCE_USER = "user folder"
SOURCE_ENVIRONMENT = "WORKBENCH_PLUGIN_PATH"
SOURCE_ENTRY_POINT = "entry point"


def project_plugins_folder() -> Path:
    """plugins/ beside the package in a source checkout; workbench/_plugins inside an installed wheel."""
    bundled = PACKAGE_DIR / "_plugins"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "plugins"


PROJECT_PLUGINS = project_plugins_folder()


@dataclass(frozen=True)
class PluginStatus:
    """One plugin the workbench tried to load: where from, and whether it works (else why not)."""

    name: str
    origin: str  # the file, folder or entry point it came from
    loaded: bool
    error: str = ""
    source: str = ""  # one of the SOURCE_* places
    algorithms: tuple[str, ...] = ()
    backbones: tuple[str, ...] = ()
    clashes: tuple[str, ...] = ()  # names it registered that were taken (it was refused for them)


_STATUS: dict[str, PluginStatus] = {}
_state = {"disabled": False, "settings": None, "settings_problem": "", "report": None}


def report_failures_to(report: Callable[[PluginStatus], None] | None) -> None:
    """Call `report` with each plugin that fails to load from now on (the CLI prints a warning at once)."""
    _state["report"] = report


# --- which places are on -------------------------------------------------------
def disable() -> None:
    """Load no plugins in this process (the CLI's --no-plugins); already loaded ones stay."""
    _state["disabled"] = True


def enabled() -> bool:
    return not _state["disabled"] and not plugins_disabled_by_environment() and current_settings().enabled


def current_settings() -> PluginSettings:
    """The settings file's choices, read once per process (use_settings changes them)."""
    if _state["settings"] is None:
        try:
            _state["settings"] = PluginSettings.load()
        except ConfigError as exc:
            # A damaged settings file must not stop the app: say so and use the defaults.
            _state["settings_problem"] = str(exc)
            _state["settings"] = PluginSettings()
    return _state["settings"]


def settings_problem() -> str:
    """Why the settings file was not used (empty when it was fine or absent)."""
    current_settings()
    return _state["settings_problem"]


def use_settings(settings: PluginSettings, save: bool = True) -> list[PluginStatus]:
    """Adopt new settings (saved to the settings file) and load plugins from newly enabled places.

    A place switched off takes effect at the next start: Python cannot unload imported code.
    """
    if save:
        settings.save()
    _state["settings"] = settings
    _state["settings_problem"] = ""
    return load_plugins()


def plugin_folders() -> list[tuple[Path, str]]:
    """The enabled plugin folders with the place each comes from, in loading order."""
    if not enabled():
        return []
    settings = current_settings()
    folders: list[tuple[Path, str]] = []
    if settings.project_folder:
        folders.append((PROJECT_PLUGINS, SOURCE_PROJECT))
    folders += [(Path(p).expanduser(), SOURCE_USER) for p in settings.folders]
    extra = os.environ.get("WORKBENCH_PLUGIN_PATH", "")
    folders += [(Path(p).expanduser(), SOURCE_ENVIRONMENT) for p in extra.split(os.pathsep) if p]
    return folders


# --- loading ------------------------------------------------------------------------
def load_plugins() -> list[PluginStatus]:
    """Import every plugin from the enabled places once; return the status of each."""
    if not enabled():
        return statuses()
    for folder, source in plugin_folders():
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(("_", ".")):
                continue
            if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file()):
                _load_file(path, source)
    if current_settings().entry_points:
        _load_entry_points()
    return statuses()


def _load_entry_points() -> None:
    try:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution's metadata must not stop the app
        entry_points = []
    for entry in entry_points:
        key = f"entry-point:{entry.name}={entry.value}"
        if key not in _STATUS:
            _record(key, _import_recording(entry.name, entry.value, SOURCE_ENTRY_POINT, entry.load))


def _load_file(path: Path, source: str) -> None:
    key = str(path.resolve())
    if key in _STATUS:
        return
    module_name = _module_name(path)
    target = path / "__init__.py" if path.is_dir() else path

    def load() -> None:
        spec = importlib.util.spec_from_file_location(
            module_name, target, submodule_search_locations=[str(path)] if path.is_dir() else None
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pickling look the module up by name
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise

    _record(key, _import_recording(path.stem, str(path), source, load))


def _record(key: str, status: PluginStatus) -> None:
    _STATUS[key] = status
    if not status.loaded and _state["report"] is not None:
        _state["report"](status)


def _module_name(path: Path) -> str:
    """A unique module name: two folders may both hold a plugin called `mine.py`."""
    base = f"workbench_plugin_{path.stem}"
    name, n = base, 1
    while name in sys.modules:
        n += 1
        name = f"{base}_{n}"
    return name


def _import_recording(name: str, origin: str, source: str, load: Callable[[], None]) -> PluginStatus:
    """Run `load` (bounded, see plugin_import), noting what it registered; a plugin that fails, ends
    early or registers a taken name has its registrations taken out again and keeps the reason."""
    before, state_before = Snapshot.take(), ProcessState.take()
    outcome = run_bounded(name, load)
    state_changed = [] if outcome.gave_up else state_before.restore()  # a thread still running could undo it
    if outcome.gave_up:  # it may still be running: what it registers from now on is refused
        registry.refuse_registrations_from(outcome.thread)
        backbones.refuse_registrations_from(outcome.thread)
        before.restore()
        return PluginStatus(name, origin, False, (
            f"it did not finish loading: {outcome.stalled_s:g} s went by without progress, so the workbench went "
            f"on without it ({PATIENCE_VARIABLE} sets how long to wait)"), source)
    error = outcome.error
    clashes = (clash(error.kind, error.name, error.holder),) if isinstance(error, NameTakenError) else ()
    if error is not None and not clashes:
        before.restore()
        return PluginStatus(name, origin, False, _describe(error), source)
    removed = before.removed()
    if removed:
        before.restore()
        return PluginStatus(name, origin, False, (
            f"it took out names that were registered ({', '.join(removed)}); they were put back and the plugin "
            "refused: a plugin may add algorithms and backbones, never remove one"), source)
    if state_changed:
        before.restore()
        return PluginStatus(name, origin, False, (
            f"it changed what the whole program shares while loading ({'; '.join(state_changed)}); that was put "
            "back and the plugin refused: change such things inside its own code, when it runs"), source)
    clashes = clashes or before.clashes()  # the registries refuse a built-in's name; the rest is found here
    if clashes:
        before.restore()
        return PluginStatus(name, origin, False, (
            f"it registers names that are taken ({', '.join(clashes)}); a plugin may add algorithms and "
            "backbones but never replace one, so it was refused: rename them"), source, clashes=clashes)
    added_algorithms, added_backbones = before.added()
    return PluginStatus(name, origin, True, "", source, added_algorithms, added_backbones)


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}, line {last[0].lineno})" if last else ""
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: in the loader's thread it would end the program
        return f"it tried to stop the program while loading ({what}{where}); the workbench went on without it"
    return f"{what}{where}"


def statuses() -> list[PluginStatus]:
    return list(_STATUS.values())


def describe_status(status: PluginStatus) -> dict:
    """The JSON form of a plugin's status, as `plugins --json` prints it."""
    return {
        "name": status.name, "origin": status.origin, "source": status.source, "loaded": status.loaded,
        "error": status.error, "algorithms": list(status.algorithms), "backbones": list(status.backbones),
        "clashes": list(status.clashes),
    }
