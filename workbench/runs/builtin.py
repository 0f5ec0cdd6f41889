"""The models that ship with the workbench: trained runs, read-only, used when a person has trained none.

Each is an ordinary run folder (config, weights, calibration, and `provenance.json`: the command, data,
steps and machine that made it) under resources/models/ in a checkout, workbench/_resources/models/ in a
wheel. `adapt` with no run and the Label page with no run chosen use the drawing model; its `auto` also
weighs the pretrained ImageNet features ("photos") and raw pixels, so photographs are served as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.files import read_json
from workbench.resources import resources_folder

DEFAULT = "drawings"


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    title: str
    summary: str

    @property
    def path(self) -> Path:
        return resources_folder() / "models" / self.name


BUILTIN_MODELS = {
    "drawings": BuiltinModel(
        "drawings", "Drawings and symbols",
        "ProtoNet trained on handwritten characters of 8 alphabets (Omniglot), with the pretrained photo "
        "features and raw pixels weighed beside it when adapting"),
}


def builtin_model(name: str = DEFAULT) -> BuiltinModel:
    return BUILTIN_MODELS[name]


def default_run_dir() -> str | None:
    """The folder of the default built-in model, or None when this installation lacks it."""
    path = builtin_model().path
    return str(path) if (path / "config.json").is_file() else None


def builtin_name(run_dir: str | Path | None) -> str | None:
    """The built-in model `run_dir` is, or None for a person's own run."""
    if not run_dir:
        return None
    try:
        resolved = Path(run_dir).resolve()
    except OSError:
        return None
    return next((m.name for m in BUILTIN_MODELS.values() if m.path.resolve() == resolved), None)


def provenance(run_dir: str | Path) -> dict:
    """How a built-in model was made (provenance.json), or {} when it says nothing readable."""
    try:
        data = read_json(Path(run_dir) / "provenance.json")
    except (WorkbenchError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
