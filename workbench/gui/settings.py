"""Where the window remembers things between sessions (geometry, last folders, theme, recent projects)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def app_settings() -> QSettings:
    """The user's settings; FEWSHOT_WORKBENCH_SETTINGS=path/to/file.ini keeps them in that file instead
    (tests, portable installs)."""
    path = os.environ.get("FEWSHOT_WORKBENCH_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("fewshot-workbench", "Few-Shot Workbench")


def string_list(settings: QSettings, key: str) -> list[str]:
    value = settings.value(key, [])
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in (value or [])]


def push_recent(settings: QSettings, key: str, path: str) -> list[str]:
    recent = [path] + [p for p in string_list(settings, key) if p != path]
    recent = recent[:MAX_RECENT]
    settings.setValue(key, recent)
    return recent
