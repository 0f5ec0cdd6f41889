"""The small immutable events a run reports: plain numbers and short strings, never tensors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    text: str
    level: str = "info"  # info | warning | error


@dataclass(frozen=True)
class DataProgress:
    """Decoding images into the cache: `done` of `total` images."""

    done: int
    total: int


@dataclass(frozen=True)
class RunStarted:
    run_dir: str
    total_steps: int
    start_step: int
    device: str
    precision: str
    train_classes: int
    val_classes: int
    test_classes: int


@dataclass(frozen=True)
class TrainStep:
    step: int
    total_steps: int
    loss: float
    accuracy: float
    episodes_per_s: float
    eta_s: float
    elapsed_s: float


@dataclass(frozen=True)
class Validation:
    step: int
    loss: float
    accuracy: float
    ci95: float
    best_accuracy: float


@dataclass(frozen=True)
class EpisodePredictions:
    """An adapted model's predictions on one test episode, for display.

    Images are named by their row in the data cache and each class's quarter
    turns, so the receiver draws them from the same cache.
    """

    step: int
    class_names: tuple[str, ...]
    class_turns: tuple[int, ...]
    support_rows: tuple[int, ...]
    support_labels: tuple[int, ...]
    query_rows: tuple[int, ...]
    query_labels: tuple[int, ...]
    predicted: tuple[int, ...]
    confidence: tuple[float, ...]

    @property
    def accuracy(self) -> float:
        right = sum(p == t for p, t in zip(self.predicted, self.query_labels))
        return right / max(1, len(self.predicted))


@dataclass(frozen=True)
class ArchitectureUpdate:
    """The cell a network's architecture points at now, as its architecture.json records it (models/genotype.py):
    a MetaNAS search's at the start and at each validation (with every edge's mix of operations), a searched
    backbone's once at the start."""

    step: int
    record: dict


@dataclass(frozen=True)
class RunFinished:
    status: str  # completed | cancelled | failed
    message: str
    step: int
    best_val_accuracy: float | None
    run_dir: str
