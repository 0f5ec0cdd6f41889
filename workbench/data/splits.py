"""Splitting classes into train / validation / test, and rotated class views.

A split never shares a class between parts. By group, whole groups (Omniglot
alphabets) are held out for test, so no character of a test alphabet is seen
in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.errors import ConfigError

from workbench.data.views import MIRRORED

ROTATIONS = (0, 1, 2, 3)  # multiples of 90 degrees


@dataclass(frozen=True)
class SplitSpec:
    """How to split: `mode` is 'class' (random classes) or 'group' (whole groups held out)."""

    mode: str = "class"
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    test_groups: tuple[str, ...] = ()
    val_groups: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("class", "group"):
            raise ConfigError(f"Unknown split mode '{self.mode}': use 'class' or 'group'.")
        if not 0 <= self.val_fraction < 1 or not 0 <= self.test_fraction < 1 or self.val_fraction + self.test_fraction >= 1:
            raise ConfigError("Validation and test fractions must each be in [0, 1) and sum to less than 1.")
        if not 0 <= self.seed < 2**32:  # numpy's seeds; a negative one fails deep inside the split
            raise ConfigError(f"The split's seed must be a whole number from 0 to {2**32 - 1}, not {self.seed}.")

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
            "test_groups": list(self.test_groups),
            "val_groups": list(self.val_groups),
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SplitSpec":
        """Rebuild from JSON; a field of the wrong type raises ConfigError naming it."""
        if not isinstance(data, dict):
            raise ConfigError("expected an object")
        values: dict = {}
        for name, kind in (("mode", str), ("val_fraction", float), ("test_fraction", float), ("seed", int)):
            if name not in data:
                continue
            value = data[name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"'{name}' must be {'a number' if kind is float else kind.__name__}, not {value!r}")
            values[name] = value
        for name in ("test_groups", "val_groups"):
            if name in data:
                value = data[name]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"'{name}' must be a list of group names, not {value!r}")
                values[name] = tuple(value)
        return cls(**values)


@dataclass(frozen=True)
class ClassSplit:
    """Class indices (into the cache) of each part, and the groups held out."""

    train: list[int]
    val: list[int]
    test: list[int]
    test_groups: tuple[str, ...] = field(default=())
    val_groups: tuple[str, ...] = field(default=())

    def part(self, name: str) -> list[int]:
        return {"train": self.train, "val": self.val, "validation": self.val, "test": self.test}[name]


def split_classes(class_keys: list[str], class_groups: list[str], spec: SplitSpec) -> ClassSplit:
    """Split class indices by `spec`; deterministic for a given seed and class list."""
    if not 0 <= spec.val_fraction < 1 or not 0 <= spec.test_fraction < 1 or spec.val_fraction + spec.test_fraction >= 1:
        raise ConfigError("Validation and test fractions must each be in [0, 1) and sum to less than 1.")
    rng = np.random.default_rng(spec.seed)
    order = sorted(range(len(class_keys)), key=lambda i: class_keys[i])
    if spec.mode == "class":
        shuffled = [order[i] for i in rng.permutation(len(order))]
        n_test = int(round(spec.test_fraction * len(order)))
        n_val = int(round(spec.val_fraction * len(order)))
        test, val, train = shuffled[:n_test], shuffled[n_test:n_test + n_val], shuffled[n_test + n_val:]
        return ClassSplit(sorted(train), sorted(val), sorted(test))
    if spec.mode != "group":
        raise ConfigError(f"Unknown split mode '{spec.mode}': use 'class' or 'group'.")
    groups = sorted(set(class_groups))
    for name in (*spec.test_groups, *spec.val_groups):
        if name not in groups:
            raise ConfigError(f"Unknown group '{name}'. Groups in this data: {', '.join(groups) or 'none'}.")
    test_groups = list(spec.test_groups)
    if not test_groups:
        count = max(1, int(round(spec.test_fraction * len(groups))))
        candidates = [g for g in groups if g not in spec.val_groups]
        test_groups = sorted(candidates[i] for i in rng.permutation(len(candidates))[:count])
    if len(set(test_groups)) >= len(groups):
        raise ConfigError("Holding out every group leaves nothing to train on.")
    test = [i for i in order if class_groups[i] in test_groups]
    rest = [i for i in order if class_groups[i] not in test_groups]
    if spec.val_groups:
        val = [i for i in rest if class_groups[i] in spec.val_groups]
        train = [i for i in rest if class_groups[i] not in spec.val_groups]
    else:
        # No validation groups named: validate on a random share of the remaining classes.
        shuffled = [rest[i] for i in rng.permutation(len(rest))]
        n_val = int(round(spec.val_fraction * len(rest)))
        val, train = shuffled[:n_val], shuffled[n_val:]
    return ClassSplit(sorted(train), sorted(val), sorted(test), tuple(test_groups), tuple(spec.val_groups))


def class_views(classes: list[int], rotations: bool, mirror: bool = False) -> list[tuple[int, int]]:
    """(class index, view) pairs (see views.py); rotations give four classes per class, mirroring doubles that."""
    turns = ROTATIONS if rotations else (0,)
    flips = (0, MIRRORED) if mirror else (0,)
    return [(c, k + f) for c in classes for f in flips for k in turns]
