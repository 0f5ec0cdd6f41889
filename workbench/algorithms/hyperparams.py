"""Declared hyperparameters: name, type, default, range and one line of help.

The GUI builds its form from these, the CLI checks `--set NAME=VALUE` against
them, and `algorithms --json` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class HyperParam:
    """One setting of an algorithm. `kind` is 'int', 'float', 'bool', 'choice' or 'path'.

    A 'path' is a file the user picks (a string, default ""): empty means none,
    otherwise it must name an existing file.
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    log_scale: bool = False  # a hint for the GUI: learning rates are edited on a log scale
    # True when the setting only changes how a trained model adapts and predicts (not the weights),
    # so `evaluate` / `adapt` may change it on a trained run with --set.
    after_training: bool = False
    # What the form shows (empty: made from the name, see hyperparam_labels.py) and whether the
    # setting sits under "Advanced" (None: the usual rule for its name).
    label: str = ""
    advanced: bool | None = None

    def coerce(self, value: Any, owner: str = "") -> Any:
        """Return `value` as this parameter's type, or raise ConfigError saying why not."""
        where = f" of {owner}" if owner else ""
        label = f"'{self.name}'{where}"
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ConfigError(f"{label} must be true or false, not '{value}'.")
        if self.kind == "path":
            return _existing_file_or_empty(value, label)
        if self.kind == "choice":
            text = str(value)
            if {"on", "off"} <= set(self.choices) and (isinstance(value, bool) or text.lower() in _TRUE | _FALSE):
                # An on/off choice that was once a bool: true/false (old run folders, old scripts) still work.
                text = "on" if value is True or text.lower() in _TRUE else "off"
            if text not in self.choices:
                raise ConfigError(f"{label} must be one of {', '.join(self.choices)}, not '{value}'.")
            return text
        try:
            if self.kind == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                number: float = int(str(value).strip()) if isinstance(value, str) else int(value)
            else:
                number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{label} must be {'an integer' if self.kind == 'int' else 'a number'}, not '{value}'.") from None
        if number != number:  # NaN
            raise ConfigError(f"{label} must be a number, not NaN.")
        if self.minimum is not None and number < self.minimum or self.maximum is not None and number > self.maximum:
            raise ConfigError(f"{label} must be in [{self.minimum}, {self.maximum}], not {value}.")
        return number

    def to_json(self) -> dict:
        data = {"name": self.name, "type": self.kind, "default": self.default, "help": self.help,
                "after_training": self.after_training}
        if self.kind in ("int", "float"):
            data["min"], data["max"] = self.minimum, self.maximum
        if self.kind == "choice":
            data["choices"] = list(self.choices)
        return data


def _existing_file_or_empty(value: Any, label: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        return ""
    path = Path(text).expanduser()
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise ConfigError(f"{label} must name an existing file or be empty; '{text}' is {what}.")
    return str(path.absolute())  # a run resumed from another folder finds the same file


def resolve_hyperparams(params: tuple[HyperParam, ...], given: dict[str, Any], owner: str) -> dict[str, Any]:
    """Defaults overlaid with `given`, every value checked; unknown names are refused."""
    known = {p.name: p for p in params}
    unknown = [name for name in given if name not in known]
    if unknown:
        raise ConfigError(
            f"Unknown hyperparameter '{unknown[0]}' for {owner}. Known: {', '.join(known) or 'none'}."
        )
    return {p.name: p.coerce(given[p.name], owner) if p.name in given else p.default for p in params}
