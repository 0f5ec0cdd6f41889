"""Omniglot 5-way 1-shot on held-out alphabets, for ProtoNet and MAML, within a training time budget.

Two protocols:
- `heldout` (default): train on both "minimal" background sets (8 alphabets) with
  Japanese_(katakana) and Sanskrit held out; score 600 sampled 5-way 1-shot
  15-query episodes of the held-out alphabets.
- `fixed`: train on images_background_small1 only; score the 600 fixed episodes of
  ../shared/data/omniglot/test_episodes_small1_vs_small2.json (three alphabets of
  small2 that small1 lacks), the episodes on which easyfsl and learn2learn were measured.
Both: 28x28, rotations and mirror images as new classes, per-image augmentation, inverted pixels
(`--no-invert`: as the files look); reports accuracy
+- 95% CI and training episodes/s.

    .venv/bin/python benchmarks/omniglot_first_path.py                 # both algorithms, 10 min each
    .venv/bin/python benchmarks/omniglot_first_path.py --minutes 2 --algorithms protonet --protocol fixed

Results go to benchmarks/results/omniglot_first_path[_fixed].json (rows of algorithms not run this
time are kept) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._omniglot import OMNIGLOT, ROOT, data_present, machine, train_and_score  # noqa: E402

# Settings per algorithm. ProtoNet trains with more ways than it is tested on, as Snell et al. did,
# and is scored with and without test-time shift averaging (test_shifts=1, not in the paper).
SETTINGS = {
    "protonet": dict(meta_batch=1, train_ways=30, train_queries=5, hparams={"lr": 1e-3, "lr_decay_every": 2000}, val_every=1000, val_episodes=100,
                     after_training={"test_shifts": 1}),
    "maml": dict(meta_batch=4, hparams={"inner_lr": 0.1, "inner_steps": 1, "eval_inner_steps": 3}, val_every=250, val_episodes=50),
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
    parser.add_argument("--no-invert", action="store_true", help="feed the images as they are (dark on white), not inverted")
    args = parser.parse_args()
    if not data_present():
        print(f"skipped: Omniglot zips not found under {OMNIGLOT}", file=sys.stderr)
        return 0
    results = []
    for name in args.algorithms.split(","):
        run_dir = Path(args.out) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        row = train_and_score(name, SETTINGS[name], args.minutes, run_dir, device=args.device, protocol=args.protocol,
                              augment=not args.no_augment, invert=not args.no_invert, episodes=args.episodes)
        row["measured_on"] = time.strftime("%Y-%m-%d")
        print(json.dumps(row), flush=True)
        results.append(row)
    fixed = args.protocol == "fixed"
    out = ROOT / "benchmarks" / "results" / f"omniglot_first_path{'_fixed' if fixed else ''}.json"
    # Rows of algorithms not run this time are kept (each row carries its own load averages and date).
    kept = json.loads(out.read_text()).get("results", []) if out.exists() else []
    ran = {r["algorithm"] for r in results}
    results = [r for r in kept if r["algorithm"] not in ran] + results
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n")
    print(f"\nMachine: {machine()}\n")
    print(f"| algorithm | 5-way 1-shot accuracy ({args.protocol}) | without after-training settings | training | episodes/s |")
    print("|---|---|---|---|---|")
    for r in results:
        plain = r.get("without_after_training")
        plain_text = f"{plain['accuracy']:.1%} ± {plain['ci95']:.1%}" if plain else "–"
        settings = ", ".join(f"{k}={v}" for k, v in r.get("after_training", {}).items())
        print(f"| {r['algorithm']} | {r['accuracy']:.1%} ± {r['ci95']:.1%}{f' ({settings})' if settings else ''} | "
              f"{plain_text} | {r['train_seconds']:.0f} s, "
              f"{r['meta_updates']} meta-updates | {r['episodes_per_s']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
