"""The settings of one training run, saved as config.json in the run folder."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from workbench.data.splits import SplitSpec
from workbench.errors import ConfigError


@dataclass
class RunConfig:
    """Everything needed to repeat a run: data, split, protocol, algorithm, budget, seed, device."""

    data: list[str]
    algorithm: str = "protonet"
    hparams: dict[str, Any] = field(default_factory=dict)
    ways: int = 5
    shots: int = 1
    queries: int = 15
    train_ways: int = 0  # 0: same as ways (ProtoNet papers often train with more ways)
    train_queries: int = 0  # 0: same as queries
    image_size: int = 28
    channels: int = 1
    rotations: bool = False
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
    tensorboard: bool = False  # also write TensorBoard scalars into RUN_DIR/tensorboard/

    def __post_init__(self) -> None:
        checks = [
            (self.ways >= 2, "ways must be at least 2"),
            (self.shots >= 1, "shots must be at least 1"),
            (self.queries >= 1, "queries must be at least 1"),
            (self.train_ways == 0 or self.train_ways >= 2, "train ways must be 0 (same as ways) or at least 2"),
            (self.train_queries >= 0, "train queries must be 0 (same as queries) or more"),
            (self.channels in (1, 3), "channels must be 1 (grayscale) or 3 (RGB)"),
            (16 <= self.image_size <= 512, "image size must be between 16 and 512 pixels"),
            (self.steps >= 1, "steps must be at least 1"),
            (self.meta_batch >= 1, "meta-batch must be at least 1"),
            (self.val_every >= 1 and self.val_episodes >= 1, "validation interval and episodes must be at least 1"),
            (self.checkpoint_every >= 1, "checkpoint interval must be at least 1"),
            (self.time_limit_s >= 0, "time limit must be 0 (none) or positive"),
            (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"), "device must be auto, cpu or cuda"),
            (self.precision in ("auto", "fp32", "bf16"), "precision must be auto, fp32 or bf16"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message[0].upper() + message[1:] + ".")

    @property
    def effective_train_ways(self) -> int:
        return self.train_ways or self.ways

    @property
    def effective_train_queries(self) -> int:
        return self.train_queries or self.queries

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["split"] = self.split.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config.json") -> "RunConfig":
        """Rebuild from JSON; a missing or mistyped field is named in the error."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object.")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, spec in known.items():
            if name not in data:
                if name == "data":
                    raise ConfigError(f"{source}: field 'data' is missing.")
                continue
            value = data[name]
            if name == "split":
                if not isinstance(value, dict):
                    raise ConfigError(f"{source}: field 'split' must be an object.")
                try:
                    value = SplitSpec.from_dict(value)
                except (TypeError, ValueError, ConfigError) as exc:
                    raise ConfigError(f"{source}: field 'split' is invalid ({exc})") from None
            elif name == "data":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{source}: field 'data' must be a list of paths.")
            elif name == "hparams":
                if not isinstance(value, dict):
                    raise ConfigError(f"{source}: field 'hparams' must be an object.")
            else:
                expected = type(getattr(cls(data=[]), name)) if name != "data" else list
                if expected is float and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if expected is float and not isinstance(value, float):
                    raise ConfigError(f"{source}: field '{name}' must be a number, not {value!r}.")
                if expected is bool and not isinstance(value, bool) or expected is int and (
                    isinstance(value, bool) or not isinstance(value, int)
                ) or expected is str and not isinstance(value, str):
                    raise ConfigError(f"{source}: field '{name}' must be {expected.__name__}, not {value!r}.")
            values[name] = value
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
