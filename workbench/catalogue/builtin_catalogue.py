"""What the built-in algorithms and backbones are, known without importing torch.

Importing the algorithm modules means importing torch (seconds), yet a script
that only lists algorithms, or asks for `--help`, should not wait for it. So the
descriptions of the built-ins (name, title, summary, hyperparameters: what
`algorithms --json` prints) and the built-in backbone names are kept in a small
JSON file in the user's cache folder (one per installed copy of the workbench), stamped with a fingerprint of the source
files they come from (workbench/algorithms, workbench/models). When the stamp
matches, the file is the answer; when any of those files changed, or there is
no file yet, the modules are imported, described, and the file is written again.
A cache folder that cannot be written only costs the import.

WORKBENCH_CACHE_DIR moves the cache folder (tests use a temporary one).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import workbench
from workbench.errors import WorkbenchError
from workbench.files import SETTINGS_LIMIT, read_json

_PACKAGE = Path(workbench.__file__).resolve().parent
# One file per installed copy (named by its folder), so two copies side by side do not overwrite each other's.
CACHE_FILE = f"builtin-algorithms-{hashlib.sha256(str(_PACKAGE).encode()).hexdigest()[:12]}.json"
# The files whose contents decide what the built-ins look like.
_SOURCES = ("algorithms", "models")
_state: dict[str, "Catalogue"] = {}


@dataclass(frozen=True)
class Catalogue:
    """The built-in algorithms' descriptions (as `registry.describe` gives them) and built-in backbone names."""

    algorithms: tuple[dict, ...]
    backbones: tuple[str, ...]
    functional_backbones: tuple[str, ...] = ()  # those the gradient-based inner loop can run

    @property
    def algorithm_names(self) -> tuple[str, ...]:
        return tuple(item["name"] for item in self.algorithms)

    def module_of(self, name: str) -> str | None:
        return next((item["module"] for item in self.algorithms if item["name"] == name), None)


def user_cache_dir() -> Path:
    """WORKBENCH_CACHE_DIR, else the platform's usual cache folder."""
    from workbench.catalogue.plugin_settings import user_folder

    return user_folder("cache")


def fingerprint() -> str:
    """A hash of the workbench's version and of every source file the built-ins are defined in."""
    digest = hashlib.sha256(f"{workbench.__version__}|{sys.version_info[:2]}".encode())
    for folder in _SOURCES:
        for path in sorted((_PACKAGE / folder).glob("*.py")):
            digest.update(f"{folder}/{path.name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def builtin() -> Catalogue:
    """The catalogue of this process: from the cache file when it is current, else built (and saved)."""
    if "current" not in _state:
        stamp = fingerprint()
        _state["current"] = _read(stamp) or _build_and_save(stamp)
    return _state["current"]


def _read(stamp: str) -> Catalogue | None:
    try:
        data = read_json(user_cache_dir() / CACHE_FILE, SETTINGS_LIMIT, what="catalogue cache file")
        if data.get("fingerprint") != stamp:
            return None
        algorithms, backbones, functional = data["algorithms"], data["backbones"], data["functional_backbones"]
        if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in algorithms):
            return None
        return Catalogue(tuple(algorithms), tuple(str(b) for b in backbones), tuple(str(b) for b in functional))
    except (OSError, WorkbenchError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, damaged or from another version: rebuild


def _build_and_save(stamp: str) -> Catalogue:
    catalogue = build()
    try:
        from workbench.atomic import write_text_atomic

        payload = {"fingerprint": stamp, "algorithms": list(catalogue.algorithms), "backbones": list(catalogue.backbones),
                   "functional_backbones": list(catalogue.functional_backbones)}
        write_text_atomic(user_cache_dir() / CACHE_FILE, json.dumps(payload, indent=1))
    except OSError:
        pass  # a read-only home: every listing imports the modules instead
    return catalogue


def build() -> Catalogue:
    """Import every built-in algorithm and backbone module and describe what they register."""
    from workbench.algorithms import registry
    from workbench.models import backbones

    modules = registry.builtin_modules()
    for module in modules:
        importlib.import_module(module)
    described = [
        registry.describe(cls) for name, cls in sorted(registry.entries().items())
        if isinstance(cls, type) and cls.__module__ in modules
    ]
    builtin = backbones.builtin_backbones()
    functional = tuple(name for name in backbones.functional_backbones() if name in builtin)
    return Catalogue(tuple(described), builtin, functional)
