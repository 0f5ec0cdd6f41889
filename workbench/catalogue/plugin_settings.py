"""Which places the workbench may load plugins from, kept in a JSON file in the user's config folder.

Plugins are Python code, so they run only from places the user switched on:

    {"enabled": true, "project_folder": false, "entry_points": true, "folders": ["/home/me/my-plugins"]}

`enabled` false turns every plugin off (built-in algorithms still work);
`project_folder` is the plugins/ folder shipped with the workbench, which holds the example plugins
(off unless switched on: examples are for reading and copying, not for a person's algorithm list);
`entry_points` are pip-installed packages that declare `workbench.algorithms`;
`folders` are the user's own plugin folders. The environment variable
WORKBENCH_PLUGIN_PATH adds folders for one session, WORKBENCH_NO_PLUGINS=1 (or
the CLI's --no-plugins) turns plugins off for one session, and
WORKBENCH_CONFIG_DIR moves the settings file (tests use a temporary one).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.errors import ConfigError
from workbench.files import SETTINGS_LIMIT, read_json
from workbench.atomic import write_json_atomic

SETTINGS_FILE = "plugins.json"
APP_FOLDER = "fewshot-workbench"


# Where each kind of per-user folder lives: (override variable, Windows variable and fallback under the
# home folder, macOS folder under the home folder, XDG variable and fallback under the home folder).
_USER_FOLDERS = {
    "config": ("WORKBENCH_CONFIG_DIR", "APPDATA", ("AppData", "Roaming"), ("Library", "Application Support"),
               "XDG_CONFIG_HOME", (".config",)),
    "cache": ("WORKBENCH_CACHE_DIR", "LOCALAPPDATA", ("AppData", "Local"), ("Library", "Caches"),
              "XDG_CACHE_HOME", (".cache",)),
}


def user_folder(kind: str) -> Path:
    """The workbench's per-user folder of `kind` ('config' or 'cache'): its override variable, else the
    platform's usual place."""
    override, windows_env, windows, mac, xdg_env, xdg = _USER_FOLDERS[kind]
    if os.environ.get(override):
        return Path(os.environ[override])
    if sys.platform == "win32":
        base = Path(os.environ.get(windows_env) or Path.home().joinpath(*windows))
    elif sys.platform == "darwin":
        base = Path.home().joinpath(*mac)
    else:
        # The XDG rule: a relative (or empty) value is invalid and ignored; it would put the settings in
        # whatever folder the command happens to start in.
        value = os.environ.get(xdg_env, "")
        base = Path(value) if os.path.isabs(value) else Path.home().joinpath(*xdg)
    return base / APP_FOLDER


def user_config_dir() -> Path:
    """The folder for the user's settings: WORKBENCH_CONFIG_DIR, else the platform's usual place."""
    return user_folder("config")


def settings_path() -> Path:
    return user_config_dir() / SETTINGS_FILE


@dataclass
class PluginSettings:
    """The user's choice of plugin places; missing keys take the defaults (the examples off)."""

    enabled: bool = True
    project_folder: bool = False
    entry_points: bool = True
    folders: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None = None) -> "PluginSettings":
        """The saved settings, or the defaults when there is no file yet.

        A damaged file raises ConfigError naming it, so the caller can say so and go on with defaults.
        """
        path = path or settings_path()
        if not path.exists():  # a pipe or device in its place is refused by the reader, not taken for "no file"
            return cls()
        try:
            data = read_json(path, SETTINGS_LIMIT, ConfigError, "plugin settings file")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"The plugin settings file {path} cannot be read ({exc}); delete or fix it.") from None
        if not isinstance(data, dict):
            raise ConfigError(f"The plugin settings file {path} must hold a JSON object; delete or fix it.")
        settings = cls()
        for name in ("enabled", "project_folder", "entry_points"):
            if name in data:
                if not isinstance(data[name], bool):
                    raise ConfigError(f"The plugin settings file {path}: '{name}' must be true or false.")
                setattr(settings, name, data[name])
        folders = data.get("folders", [])
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise ConfigError(f"The plugin settings file {path}: 'folders' must be a list of paths.")
        settings.folders = list(folders)
        return settings

    def save(self, path: Path | None = None) -> Path:
        path = path or settings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(path, asdict(self))
        except OSError as exc:
            raise ConfigError(f"Cannot save the plugin settings to {path}: {exc.strerror or exc}.") from None
        return path

    def add_folder(self, folder: str | Path) -> bool:
        """Add a user plugin folder (absolute path); False when it was already there."""
        text = str(Path(folder).expanduser().resolve())
        if text in self.folders:
            return False
        self.folders.append(text)
        return True

    def remove_folder(self, folder: str | Path) -> bool:
        text = str(folder)
        if text in self.folders:
            self.folders.remove(text)
            return True
        return False


def plugins_disabled_by_environment() -> bool:
    return os.environ.get("WORKBENCH_NO_PLUGINS", "").strip().lower() not in ("", "0", "false", "no")
