"""The settings of one training run, saved as config.json in the run folder."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from workbench.data.splits import SplitSpec
from workbench.errors import ConfigError
from workbench.runs.group_episodes import DEFAULT_GROUP_EPISODES

AUTO = "auto"
AUTO_FLAGS = ("rotations", "mirror", "invert")  # decided from the images when "auto" (data/look.py)
PURPOSES = ("use", "measure")
# What a field that a config.json lacks meant when that file was written (before the default changed).
WRITTEN_BEFORE_DEFAULTS = {"rotations": False, "mirror": False, "augment": False, "invert": False, "purpose": "measure",
                           "group_episodes": 0.0}
SEED_MAX = 2**32 - 1  # numpy's seeds; torch's are wider
MAX_CACHE_MB = 1e9  # a petabyte: anything above is a typo, and would overflow the byte count


@dataclass
class RunConfig:
    """Everything needed to repeat a run: data, split, protocol, algorithm, budget, seed, device."""

    data: list[str]
    algorithm: str = "protonet"
    hparams: dict[str, Any] = field(default_factory=dict)
    ways: int = 5
    shots: int = 1
    queries: int = 15
    train_ways: int = 0  # 0: the algorithm's choice (metric methods train with more ways: see Algorithm.train_ways_for)
    train_queries: int = 0  # 0: the algorithm's choice with many ways, else the same as queries
    image_size: int = 28  # new runs from the CLI and the GUI: runs/image_size.py
    channels: int = 1
    # "auto" (the default) is decided from the training images (data/look.py) and saved as true/false in the run.
    rotations: bool | str = "auto"  # 90/180/270-degree turns of training classes as new classes (x4); auto: for drawings
    mirror: bool | str = "auto"  # mirror images of training classes as new classes (x2); auto: for drawings
    augment: bool = True  # small random shifts/rotations/scales of each training image
    invert: bool | str = "auto"  # model sees 1 - x; auto: for dark strokes on light paper (Omniglot, scans)
    group_episodes: float = DEFAULT_GROUP_EPISODES  # share of training episodes drawn from one group (the folder above the classes)
    # "use": every class trains (a little held back to pick the best weights); "measure": classes are held out for test.
    purpose: str = "measure"
    split: SplitSpec = field(default_factory=SplitSpec)
    steps: int = 1000
    meta_batch: int = 1
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    val_every: int = 100
    val_episodes: int = 100
    checkpoint_every: int = 100
    time_limit_s: float = 0.0  # stop after this much training time (0: no limit)
    max_cache_mb: float = 0.0  # decoded images kept in memory, least recently used evicted (0: no limit)
    tensorboard: bool = False  # also write TensorBoard scalars into RUN_DIR/tensorboard/

    def __post_init__(self) -> None:
        checks = [
            ("ways", self.ways >= 2, "ways must be at least 2"),
            ("shots", self.shots >= 1, "shots must be at least 1"),
            ("queries", self.queries >= 1, "queries must be at least 1"),
            ("train_ways", self.train_ways == 0 or self.train_ways >= 2, "train ways must be 0 (same as ways) or at least 2"),
            ("train_queries", self.train_queries >= 0, "train queries must be 0 (same as queries) or more"),
            ("channels", self.channels in (1, 3), "channels must be 1 (grayscale) or 3 (RGB)"),
            ("image_size", 16 <= self.image_size <= 512, "image size must be between 16 and 512 pixels"),
            ("group_episodes", math.isfinite(self.group_episodes) and 0 <= self.group_episodes <= 1,
             "group episodes must be a share from 0 to 1"),
            ("steps", self.steps >= 1, "steps must be at least 1"),
            ("meta_batch", self.meta_batch >= 1, "meta-batch must be at least 1"),
            ("val_every", self.val_every >= 1, "validation interval must be at least 1"),
            ("val_episodes", self.val_episodes >= 1, "validation episodes must be at least 1"),
            ("checkpoint_every", self.checkpoint_every >= 1, "checkpoint interval must be at least 1"),
            ("seed", 0 <= self.seed <= SEED_MAX, f"seed must be a whole number from 0 to {SEED_MAX}"),
            ("time_limit_s", math.isfinite(self.time_limit_s) and self.time_limit_s >= 0,
             "time limit must be 0 (none) or a positive number of seconds"),
            ("max_cache_mb", math.isfinite(self.max_cache_mb) and 0 <= self.max_cache_mb <= MAX_CACHE_MB,
             f"image cache limit must be 0 (no limit) or a number of MB up to {MAX_CACHE_MB:g}"),
            ("data", all(isinstance(p, str) and "\0" not in p and p.strip() for p in self.data),
             "dataset paths must be non-empty and hold no NUL character"),
            ("device", self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
             "device must be auto, cpu or cuda"),
            ("precision", self.precision in ("auto", "fp32", "bf16"), "precision must be auto, fp32 or bf16"),
            ("purpose", self.purpose in PURPOSES, "purpose must be 'use' (train on every class) or 'measure' (hold classes out)"),
            *((name, getattr(self, name) in (True, False, AUTO), f"{name} must be true, false or \"auto\"")
              for name in AUTO_FLAGS),
        ]
        for name, ok, message in checks:
            if not ok:
                error = ConfigError(message[0].upper() + message[1:] + ".")
                error.field = name
                raise error

    @property
    def effective_train_ways(self) -> int:
        """Training ways as far as the config alone says (0 is decided with the algorithm: see prepare_data)."""
        return self.train_ways or self.ways

    @property
    def effective_train_queries(self) -> int:
        return self.train_queries or self.queries

    @property
    def unresolved(self) -> tuple[str, ...]:
        """Settings still "auto": decided from the data by prepare_data before a run folder is written."""
        return tuple(name for name in AUTO_FLAGS if getattr(self, name) == AUTO)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["split"] = self.split.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config.json") -> "RunConfig":
        """Rebuild from JSON; a missing, mistyped or out-of-range field is named in the error."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object, found {type(data).__name__}.")
        defaults = cls(data=[])
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = spec.name
            if name not in data:
                if name == "data":
                    raise ConfigError(f"{source}: field 'data' is missing (the list of dataset paths).")
                if name in WRITTEN_BEFORE_DEFAULTS:
                    values[name] = WRITTEN_BEFORE_DEFAULTS[name]
                continue  # older run folders lack newer fields: their defaults apply
            value = data[name]
            if name == "split":
                try:
                    value = SplitSpec.from_dict(value)
                except ConfigError as exc:
                    raise ConfigError(f"{source}: field 'split' is invalid ({exc}).") from None
            elif name == "data":
                if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{source}: field 'data' must be a non-empty list of paths, not {value!r}.")
            elif name in AUTO_FLAGS:
                if value not in (True, False, AUTO) or isinstance(value, (int, float)) and not isinstance(value, bool):
                    raise ConfigError(f"{source}: field '{name}' must be true, false or \"auto\", not {value!r}.")
            elif name == "hparams":
                if not isinstance(value, dict):
                    raise ConfigError(f"{source}: field 'hparams' must be an object, not {value!r}.")
            else:
                value = _checked(source, name, value, type(getattr(defaults, name)))
            values[name] = value
        try:
            return cls(**values)
        except ConfigError as exc:
            field_name = getattr(exc, "field", None)
            where = f"field '{field_name}' is out of range: " if field_name else ""
            raise ConfigError(f"{source}: {where}{exc}") from None


def _checked(source: str, name: str, value: Any, expected: type) -> Any:
    """`value` if it has the field's JSON type (an int is a fine float); else ConfigError naming the field."""
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is float and isinstance(value, float) and value != value:
        raise ConfigError(f"{source}: field '{name}' must be a number, not NaN.")
    if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
        kind = {float: "a number", int: "a whole number", bool: "true or false", str: "text"}.get(expected, expected.__name__)
        raise ConfigError(f"{source}: field '{name}' must be {kind}, not {value!r}.")
    return value
