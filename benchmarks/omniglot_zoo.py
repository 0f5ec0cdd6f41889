"""Every registered algorithm on Omniglot 5-way 1-shot, held-out alphabets, one training budget each.

The same protocol as omniglot_first_path.py (benchmarks/_omniglot.py): both "minimal" background
zips, Japanese_(katakana) and Sanskrit held out, 28x28, rotations and mirror images as new classes,
per-image augmentation; each algorithm trains for `--minutes` of wall-clock time (validation
included) with its registry defaults (its paper's Omniglot settings) plus the run settings below,
and its best-validation model is scored on 600 test episodes. Each row sits beside the paper's
figure for Omniglot 5-way 1-shot, where the paper gives one.

    .venv/bin/python benchmarks/omniglot_zoo.py                          # every algorithm, 3 min each (~1 hour)
    .venv/bin/python benchmarks/omniglot_zoo.py --only matching,relation --minutes 5
    .venv/bin/python benchmarks/omniglot_zoo.py --device cuda --minutes 60   # paper-length training on a GPU

Rows are merged into benchmarks/results/omniglot_zoo.json (a rerun of some rows keeps the others)
and the table in docs/benchmarks.md between the omniglot-zoo markers is rewritten from that file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._omniglot import OMNIGLOT, ROOT, data_present, machine, train_and_score  # noqa: E402
from workbench import catalogue  # noqa: E402
from workbench.device import describe_device, resolve_device  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "omniglot_zoo.json"
BENCHMARKS_DOC = ROOT / "docs" / "benchmarks.md"
MARKERS = ("<!-- omniglot-zoo:start -->", "<!-- omniglot-zoo:end -->")

# Run settings per row (key), on top of each algorithm's registry defaults. Validation intervals
# are sized so validation takes about a tenth of a 3-minute budget at this machine's rates.
ROWS = {
    "protonet": dict(algorithm="protonet", train_ways=30, train_queries=5, hparams={"lr_decay_every": 2000}, val_every=400),
    "matching": dict(algorithm="matching", val_every=500),
    # Not the paper: its cosine scaled by a learned factor starting at 10 (TADAM's metric scaling).
    "matching_learned_scale": dict(algorithm="matching", hparams={"learn_scale": True, "cosine_scale": 10.0}, val_every=500),
    "relation": dict(algorithm="relation", train_queries=19, val_every=300),
    "siamese": dict(algorithm="siamese", val_every=300),
    "maml": dict(algorithm="maml", meta_batch=4, val_every=100, val_episodes=50),
    "maml_first_order": dict(algorithm="maml", meta_batch=4, hparams={"first_order": True}, val_every=150, val_episodes=50),
    "reptile": dict(algorithm="reptile", meta_batch=5, val_every=150, val_episodes=30),
    "metasgd": dict(algorithm="metasgd", meta_batch=4, val_every=100, val_episodes=50),
    "anil": dict(algorithm="anil", meta_batch=4, val_every=150, val_episodes=50),
    "mann": dict(algorithm="mann", val_every=300, val_episodes=50),
    "meta_lstm": dict(algorithm="meta_lstm", val_every=150, val_episodes=30),
    "leo": dict(algorithm="leo", meta_batch=4, val_every=150, val_episodes=50),
    "baseline": dict(algorithm="baseline", val_every=500, val_episodes=30),
    "baseline_pp": dict(algorithm="baseline_pp", val_every=500, val_episodes=30),
    "simpleshot": dict(algorithm="simpleshot", val_every=500),
}

# The papers' Omniglot 5-way 1-shot figures (see each algorithm's docstring for the source and setting).
PAPER = {
    "protonet": "98.8% (Snell et al. 2017)",
    "matching": "98.1% (Vinyals et al. 2016)",
    "matching_learned_scale": "none (a deviation; the paper's model: 98.1%)",
    "relation": "99.6% ± 0.2% (Sung et al. 2018)",
    "siamese": "96.7% (Koch et al.'s net, in Vinyals et al. 2016)",
    "maml": "98.7% ± 0.4% (Finn et al. 2017)",
    "maml_first_order": "98.3% ± 0.5% (Finn et al. 2017)",
    "reptile": "95.39% ± 0.09% (Nichol et al. 2018, non-transductive)",
    "metasgd": "99.53% ± 0.26% (Li et al. 2017)",
    "anil": "none (20-way 1-shot 96.2%, Raghu et al. 2020)",
    "mann": "none (82.8% at the 2nd instance, Santoro et al. 2016)",
    "meta_lstm": "none (mini-ImageNet only)",
    "leo": "none (mini-/tiered-ImageNet only)",
    "baseline": "none (mini-ImageNet, CUB)",
    "baseline_pp": "none (mini-ImageNet, CUB)",
    "simpleshot": "none (mini-/tiered-ImageNet, CIFAR-100)",
}


def load_results() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {"rows": {}}


def table(results: dict) -> str:
    lines = [
        "| algorithm | 5-way 1-shot, held-out alphabets (ours) | paper | budget: meta-updates (episodes) in minutes | measured on |",
        "|---|---|---|---|---|",
    ]
    for key in ROWS:
        row = results["rows"].get(key)
        if row is None:
            continue
        if "error" in row:
            ours = f"not measured: {row['error']}"
            budget = "–"
        else:
            ours = f"**{row['accuracy']:.1%} ± {row['ci95']:.1%}**"
            budget = f"{row['meta_updates']:,} ({row['episodes_trained']:,}) in {row['train_seconds'] / 60:.1f}"
        lines.append(f"| {key} | {ours} | {PAPER[key]} | {budget} | {row['measured_on']} |")
    return "\n".join(lines)


def write_readme_table(text: str) -> bool:
    readme = BENCHMARKS_DOC.read_text()
    start, end = MARKERS
    if start not in readme or end not in readme:
        return False
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    BENCHMARKS_DOC.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", readme))
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="training budget per algorithm (wall clock)")
    parser.add_argument("--only", default="", help="comma-separated rows to run (default: all): " + ",".join(ROWS))
    parser.add_argument("--episodes", type=int, default=600, help="test episodes per algorithm")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default=str(ROOT / "runs" / "zoo"))
    args = parser.parse_args()
    if not data_present():
        print(f"skipped: Omniglot zips not found under {OMNIGLOT}", file=sys.stderr)
        return 0
    keys = [k for k in args.only.split(",") if k] or list(ROWS)
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        print(f"error: unknown rows {', '.join(unknown)}; choose from {', '.join(ROWS)}", file=sys.stderr)
        return 2
    where = f"{describe_device(resolve_device(args.device))}; {machine()}"
    results = load_results()
    available = catalogue.available()
    for key in keys:
        settings = dict(ROWS[key])
        algorithm = settings.pop("algorithm")
        stamp = time.strftime("%Y-%m-%d")
        if algorithm not in available:
            row = {"error": f"'{algorithm}' is not registered", "measured_on": stamp}
        else:
            run_dir = Path(args.out) / f"{key}-{time.strftime('%Y%m%d-%H%M%S')}"
            row = train_and_score(algorithm, settings, args.minutes, run_dir, device=args.device, episodes=args.episodes)
            row["measured_on"] = f"{stamp}, {where}"
        row["row"] = key
        print(json.dumps(row), flush=True)
        results["rows"][key] = row
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")  # after every row: a long run keeps what it measured
    text = table(results)
    print("\n" + text)
    if write_readme_table(text):
        print(f"\ndocs/benchmarks.md table updated ({RESULTS.relative_to(ROOT)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
