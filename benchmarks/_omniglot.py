"""What the Omniglot benchmarks share: the data, the held-out split, one train-then-score run.

Training reads both "minimal" background zips of ../shared/data/omniglot (8 alphabets, 242
characters) with two alphabets held out for test; 28x28 grayscale, rotations and mirror images as
new classes, per-image augmentation, inverted pixels (background 0, as Conv4 pads); each run trains for a wall-clock budget (validation
included) and `model.pt` (best validation) is scored on 5-way 1-shot 15-query test episodes.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from workbench.data.splits import SplitSpec
from workbench.runs.config import RunConfig
from workbench.training.events import TrainStep
from workbench.training.jobs import evaluate_run
from workbench.training.runner import train_run

ROOT = Path(__file__).resolve().parent.parent
OMNIGLOT = ROOT.parent / "shared" / "data" / "omniglot"
DATA = [OMNIGLOT / "images_background_small1.zip", OMNIGLOT / "images_background_small2.zip"]
HELD_OUT = ("Japanese_(katakana)", "Sanskrit")
FIXED_EPISODES = OMNIGLOT / "test_episodes_small1_vs_small2.json"


def data_present() -> bool:
    return all(p.exists() for p in [*DATA, FIXED_EPISODES])


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what platform knows."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    return cpu


def machine() -> str:
    return f"{cpu_name()}, {os.cpu_count()} cores"


def train_and_score(algorithm: str, settings: dict, minutes: float, run_dir: Path, *, device: str = "auto",
                    protocol: str = "heldout", augment: bool = True, invert: bool = True, episodes: int = 600) -> dict:
    """Train one algorithm for `minutes`, score its best-validation model; one result row (a dict).

    settings["after_training"] (e.g. {"test_shifts": 1}): score with those adapt-time settings, and
    also without them (the row's `without_after_training`), on the same episodes of the same model.
    """
    fixed = protocol == "fixed"
    # fixed: train on small1 only (no test split: the test episodes come from small2).
    train_data = DATA[:1] if fixed else DATA
    split = SplitSpec("class", val_fraction=0.05, test_fraction=0.0, seed=0) if fixed else \
        SplitSpec("group", test_groups=HELD_OUT, val_fraction=0.05, seed=0)
    hparams = dict(settings.get("hparams", {}))
    if algorithm == "protonet":
        hparams.setdefault("test_shifts", 0)  # the paper's adapt; rows ask for shift averaging in after_training
    config = RunConfig(
        data=[str(p) for p in train_data], algorithm=algorithm, hparams=hparams,
        ways=5, shots=1, queries=15, train_ways=settings.get("train_ways", 0), train_queries=settings.get("train_queries", 0),
        image_size=28, channels=1, rotations=True, mirror=augment, augment=augment, invert=invert, split=split,
        steps=10**7, meta_batch=settings.get("meta_batch", 1), seed=0, device=device,
        val_every=settings.get("val_every", 100), val_episodes=settings.get("val_episodes", 100),
        checkpoint_every=settings.get("val_every", 100), time_limit_s=minutes * 60,
        **settings.get("config", {}),
    )
    steps, finished = 0, None
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for event in train_run(config, run_dir):
        if isinstance(event, TrainStep):
            steps = event.step
        finished = event
    train_seconds = time.perf_counter() - started

    # The algorithm's own adapt (`--mode model`), as the papers score it; adapt_quality.py compares the modes.
    def score(overrides):
        if fixed:
            return evaluate_run(str(run_dir), [str(DATA[1])], 5, 1, 15, device=device, episode_file=str(FIXED_EPISODES),
                                overrides=overrides, mode=None)
        return evaluate_run(str(run_dir), config.data, 5, 1, 15, episodes=episodes, seed=1, device=device,
                            overrides=overrides, mode=None)

    after_training = settings.get("after_training") or {}
    report = score(after_training)
    plain = score({}).result if after_training else None
    episodes_trained = steps * config.meta_batch
    return {
        "algorithm": algorithm,
        "accuracy": report.result.accuracy,
        "ci95": report.result.ci95,
        "test_episodes": report.result.episodes,
        "test_classes": report.classes,
        "protocol": protocol,
        "test_alphabets": ["Japanese_(katakana)", "Sanskrit", "Tagalog"] if fixed else list(HELD_OUT),
        "augment": config.augment,
        "mirror": config.mirror,
        "invert": config.invert,
        "meta_updates": steps,
        "episodes_trained": episodes_trained,
        "train_seconds": round(train_seconds, 1),
        "episodes_per_s": round(episodes_trained / train_seconds, 2),
        "after_training": after_training,
        "without_after_training": {"accuracy": plain.accuracy, "ci95": plain.ci95} if plain else None,
        "best_val_accuracy": getattr(finished, "best_val_accuracy", None),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "settings": settings,
        "status": getattr(finished, "message", ""),
        "run_dir": str(run_dir),
    }
