"""Where the files the app ships (style sheet, icons) are: resources/ in a source checkout,
workbench/_resources inside an installed wheel (setup.py maps one onto the other)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resources_folder() -> Path:
    bundled = PACKAGE_DIR / "_resources"
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent / "resources"


def resource_path(name: str) -> Path:
    """The path of a shipped file, e.g. resource_path("style.qss"); it may not exist (callers check)."""
    return resources_folder() / name
