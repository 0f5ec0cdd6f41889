"""Two runs' settings side by side: every field of config.json and every hyperparameter, in words,
with the ones that differ marked (what the Runs page's "Compare settings" lists)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from workbench.algorithms import registry
from workbench.algorithms.hyperparam_labels import label_of
from workbench.algorithms.hyperparams import HyperParam
from workbench.errors import WorkbenchError
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder

# config.json's fields in words, in the order a person reads them; a field added later and not named here is
# still listed, by its own name, after these.
CONFIG_LABELS = {
    "algorithm": "Algorithm", "data": "Datasets", "purpose": "Purpose (use / measure)",
    "ways": "Ways", "shots": "Shots", "queries": "Queries per class",
    "train_ways": "Training ways (0: the algorithm's choice)", "train_queries": "Training queries (0: as queries)",
    "image_size": "Image size (pixels)", "channels": "Channels", "rotations": "Rotated classes",
    "mirror": "Mirrored classes", "augment": "Augmentation", "invert": "Inverted images",
    "group_episodes": "Episodes from one group (share)", "steps": "Steps", "meta_batch": "Meta-batch",
    "seed": "Seed", "device": "Device", "precision": "Precision", "val_every": "Validate every (steps)",
    "val_episodes": "Validation episodes", "checkpoint_every": "Checkpoint every (steps)",
    "time_limit_s": "Time limit (s, 0: none)", "max_cache_mb": "Image cache (MB, 0: no limit)",
    "tensorboard": "TensorBoard files",
}
SPLIT_LABELS = {"mode": "Split", "val_fraction": "Validation share", "test_fraction": "Test share",
                "test_groups": "Test groups", "val_groups": "Validation groups", "seed": "Split seed"}
MISSING = "—"  # a setting the other run's algorithm does not have
DEFAULT_MARK = " (default)"


@dataclass(frozen=True)
class SettingRow:
    label: str
    first: str
    second: str
    section: str  # "Run", "Split" or "Algorithm"

    @property
    def differs(self) -> bool:
        """Whether the values differ; a default is the same as that value given by hand."""
        return self.first.removesuffix(DEFAULT_MARK) != self.second.removesuffix(DEFAULT_MARK)


# One run's settings: {key: (section, label, value in words)}.
Settings = dict[str, tuple[str, str, str]]


def read_settings(run_dir: str | Path) -> tuple[Settings, str]:
    """The run's settings, and a sentence when its config.json cannot be read ({} then)."""
    try:
        config = RunFolder(run_dir).read_config(check_algorithm=False)
    except (WorkbenchError, OSError) as exc:
        return {}, str(exc)
    return settings_of(config), ""


def compare_settings(first: str | Path, second: str | Path) -> tuple[list[SettingRow], list[str]]:
    """The rows of both runs' settings (run fields, split, then hyperparameters by name), and what could not be read."""
    (a, problem_a), (b, problem_b) = read_settings(first), read_settings(second)
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        section, label, _value = a.get(key) or b[key]
        rows.append(SettingRow(label, a[key][2] if key in a else MISSING, b[key][2] if key in b else MISSING, section))
    return rows, [p for p in (problem_a, problem_b) if p]


def settings_of(config: RunConfig) -> Settings:
    data = config.to_dict()
    later = [f.name for f in fields(RunConfig) if f.name not in CONFIG_LABELS and f.name not in ("split", "hparams")]
    out: Settings = {}
    for name in [n for n in CONFIG_LABELS if n in data] + later:
        out[f"config:{name}"] = ("Run", CONFIG_LABELS.get(name, name), _words(data[name]))
    for name, value in data["split"].items():
        out[f"split:{name}"] = ("Split", SPLIT_LABELS.get(name, name), _words(value))
    declared = {p.name: p for p in getattr(registry.entries().get(config.algorithm), "hyperparams", ())}
    # Every setting of the algorithm: the value the run was given, else the default it ran with.
    for name in list(config.hparams) + [n for n in declared if n not in config.hparams]:
        label = f"{label_of(declared.get(name) or HyperParam(name, '', None, ''))} ({name})"
        value = _words(config.hparams[name]) if name in config.hparams else _words(declared[name].default) + DEFAULT_MARK
        out[f"hparam:{name}"] = ("Algorithm", label, value)
    return out


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_words(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_words(v)}" for k, v in value.items()) or "none"
    return str(value) if value != "" else "none"
