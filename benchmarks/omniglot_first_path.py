"""Omniglot 5-way 1-shot on held-out alphabets, for ProtoNet and MAML, within a training time budget.

Two protocols:
- `heldout` (default): train on both "minimal" background sets (8 alphabets) with
  Japanese_(katakana) and Sanskrit held out; score 600 sampled 5-way 1-shot
  15-query episodes of the held-out alphabets.
- `fixed`: train on images_background_small1 only; score the 600 fixed episodes of
  ../shared/data/omniglot/test_episodes_small1_vs_small2.json (three alphabets of
  small2 that small1 lacks), the episodes on which easyfsl and learn2learn were measured.
Both: 28x28, rotations and mirror images as new classes, per-image augmentation; reports accuracy
+- 95% CI and training episodes/s.

    .venv/bin/python benchmarks/omniglot_first_path.py                 # both algorithms, 10 min each
    .venv/bin/python benchmarks/omniglot_first_path.py --minutes 2 --algorithms protonet --protocol fixed

Results go to benchmarks/results/omniglot_first_path[_fixed].json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.data.splits import SplitSpec  # noqa: E402
from workbench.training.config import RunConfig  # noqa: E402
from workbench.training.events import TrainStep  # noqa: E402
from workbench.training.jobs import evaluate_run  # noqa: E402
from workbench.training.runner import train_run  # noqa: E402

OMNIGLOT = ROOT.parent / "shared" / "data" / "omniglot"
DATA = [OMNIGLOT / "images_background_small1.zip", OMNIGLOT / "images_background_small2.zip"]
HELD_OUT = ("Japanese_(katakana)", "Sanskrit")
FIXED_EPISODES = OMNIGLOT / "test_episodes_small1_vs_small2.json"

# Settings per algorithm. ProtoNet trains with more ways than it is tested on, as Snell et al. did.
SETTINGS = {
    "protonet": dict(meta_batch=1, train_ways=30, train_queries=5, hparams={"lr": 1e-3, "lr_decay_every": 2000}, val_every=1000, val_episodes=100),
    "maml": dict(meta_batch=4, train_ways=0, train_queries=0, hparams={"inner_lr": 0.1, "inner_steps": 1, "eval_inner_steps": 3}, val_every=250, val_episodes=50),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per algorithm")
    parser.add_argument("--algorithms", default="protonet,maml")
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--out", default=str(ROOT / "runs" / "benchmark"))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--protocol", choices=("heldout", "fixed"), default="heldout")
    parser.add_argument("--no-augment", action="store_true", help="train without mirrored classes and per-image distortions")
    args = parser.parse_args()
    if not all(p.exists() for p in [*DATA, FIXED_EPISODES]):
        print(f"skipped: Omniglot zips not found under {OMNIGLOT}", file=sys.stderr)
        return 0
    fixed = args.protocol == "fixed"
    # fixed: train on small1 only (no test split: the test episodes come from small2).
    train_data = DATA[:1] if fixed else DATA
    split = SplitSpec("class", val_fraction=0.05, test_fraction=0.0, seed=0) if fixed else \
        SplitSpec("group", test_groups=HELD_OUT, val_fraction=0.05, seed=0)
    results = []
    for name in args.algorithms.split(","):
        settings = SETTINGS[name]
        run_dir = Path(args.out) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        config = RunConfig(
            data=[str(p) for p in train_data], algorithm=name, hparams=settings["hparams"], ways=5, shots=1, queries=15,
            train_ways=settings["train_ways"], train_queries=settings["train_queries"], image_size=28, channels=1, rotations=True,
            mirror=not args.no_augment, augment=not args.no_augment, split=split,
            steps=10**7, meta_batch=settings["meta_batch"], seed=0, device=args.device,
            val_every=settings["val_every"], val_episodes=settings["val_episodes"], checkpoint_every=settings["val_every"],
            time_limit_s=args.minutes * 60,
        )
        steps, rates, finished = 0, [], None
        started = time.perf_counter()
        for event in train_run(config, run_dir):
            if isinstance(event, TrainStep):
                steps = event.step
                rates.append(event.episodes_per_s)
            finished = event
        train_seconds = time.perf_counter() - started
        if fixed:
            report = evaluate_run(str(run_dir), [str(DATA[1])], 5, 1, 15, device=args.device, episode_file=str(FIXED_EPISODES))
        else:
            report = evaluate_run(str(run_dir), config.data, 5, 1, 15, episodes=args.episodes, seed=1, device=args.device)
        episodes_trained = steps * config.meta_batch
        row = {
            "algorithm": name,
            "accuracy": report.result.accuracy,
            "ci95": report.result.ci95,
            "test_episodes": report.result.episodes,
            "test_classes": report.classes,
            "protocol": args.protocol,
            "test_alphabets": ["Japanese_(katakana)", "Sanskrit", "Tagalog"] if fixed else list(HELD_OUT),
            "augment": config.augment,
            "mirror": config.mirror,
            "meta_updates": steps,
            "episodes_trained": episodes_trained,
            "train_seconds": round(train_seconds, 1),
            "episodes_per_s": round(episodes_trained / train_seconds, 2),
            "settings": settings,
            "status": getattr(finished, "message", ""),
            "run_dir": str(run_dir),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    out = ROOT / "benchmarks" / "results" / f"omniglot_first_path{'_fixed' if fixed else ''}.json"
    out.write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    print(f"\nMachine: {machine}\n")
    print(f"| algorithm | 5-way 1-shot accuracy ({args.protocol}) | training | episodes/s |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['algorithm']} | {r['accuracy']:.1%} ± {r['ci95']:.1%} | {r['train_seconds']:.0f} s, "
              f"{r['meta_updates']} meta-updates | {r['episodes_per_s']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
