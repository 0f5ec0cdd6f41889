"""What each default of `main.py train` and `adapt` is worth, measured one at a time.

    .venv/bin/python benchmarks/default_effects.py [--steps 2000] [--episodes 100]

Trains ProtoNet on Omniglot's first minimal background set with the defaults (data, algorithm,
ways 20 and shots 1 passed, nothing else), then once more for each default turned off on its own,
every run for the same fixed number of meta-updates (so the figures do not depend on how busy the
machine is). Each run's model is scored, frozen and calibrated as `adapt --mode model` uses it, on
the cases of benchmarks/adapt_quality.py: (a) fixed 5-way 1-shot episodes on unseen alphabets,
(b) 20-way 1-shot within one unseen alphabet, (c) the demo glyphs, 10-way 5-shot.
Three rows need no training of their own and are scored on the defaults' run: each query predicted
from the labelled images alone (`--no-refine`), no test-time shift averaging (`--set test_shifts=0`),
and the final weights instead of the best-validation ones.
Results go to benchmarks/results/default_effects.json (with `--only`, default_effects_rows_*.json)
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._omniglot import cpu_name  # noqa: E402
from benchmarks.adapt_quality import FIXED, TEST_ZIP, TRAIN_ZIP, make_cases  # noqa: E402
from workbench.training.jobs import evaluate_run  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "default_effects.json"

# (row label, extra `train` arguments): each turns one default off.
TRAINED = [
    ("the defaults", []),
    ("no inverted pixels (`--no-invert`)", ["--no-invert"]),
    ("no rotated or mirrored classes (`--no-rotations --no-mirror`)", ["--no-rotations", "--no-mirror"]),
    ("no mirrored classes (`--no-mirror`)", ["--no-mirror"]),
    ("no per-image distortion (`--no-augment`)", ["--no-augment"]),
    ("training episodes as wide as the test's (`--train-ways 20`)", ["--train-ways", "20"]),
    ("20% of the classes held out for a test score (`--purpose measure`)", ["--purpose", "measure"]),
    ("no training episodes from one alphabet (`--group-episodes 0`)", ["--group-episodes", "0"]),
]


def train(out: Path, steps: int, extra: list[str]) -> dict:
    shown = os.path.relpath(TRAIN_ZIP, ROOT)  # the data as the repo's own commands name it
    command = [sys.executable, str(ROOT / "main.py"), "train", "--data", str(TRAIN_ZIP), "--algorithm", "protonet",
               "--ways", "20", "--shots", "1", "--steps", str(steps), "--out", str(out), "--json", "--quiet", *extra]
    begin = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": round(time.perf_counter() - begin, 1), "best_val_accuracy": summary.get("best_val_accuracy"),
            "command": " ".join(["main.py", *command[2:-4 - len(extra)], *extra]).replace(str(TRAIN_ZIP), shown)}


def with_final_weights(run: Path, out: Path) -> Path:
    """A copy of `run` whose model.pt holds the last checkpoint's weights instead of the best validation's."""
    shutil.copytree(run, out)
    checkpoint = torch.load(out / "checkpoints" / "last.pt", map_location="cpu", weights_only=False)
    torch.save(checkpoint["model"], out / "model.pt")
    return out


def score(run: Path, cases: dict, overrides: dict | None = None, refine: bool = True) -> dict:
    found = {}
    for case, (data, episode_file, ways, shots, queries, episodes) in cases.items():
        report = evaluate_run(str(run), [str(data)], ways, shots, queries, episodes=episodes, seed=3, device="cpu",
                              classes="all", episode_file=str(episode_file) if episode_file else None,
                              overrides=overrides, mode="model", refine=refine)
        r = report.result
        found[case] = {"accuracy": r.accuracy, "ci95": r.ci95, "episodes": r.episodes, "ece": r.calibration.ece}
    return found


def cell(found: dict, base: dict | None) -> str:
    text = f"{found['accuracy']:.1%} ± {found['ci95']:.1%}"
    if base is not None:
        text += f" ({(found['accuracy'] - base['accuracy']) * 100:+.1f})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="meta-updates per run (default 2000)")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per case for (b) and (c) (default 100)")
    parser.add_argument("--fixed-episodes", type=int, default=300, help="of the 600 fixed episodes of (a), how many")
    parser.add_argument("--only", help="comma-separated row numbers to train (0 = the defaults, always trained)")
    args = parser.parse_args()
    if not (TRAIN_ZIP.exists() and TEST_ZIP.exists() and FIXED.exists()):
        print(f"skipped: the Omniglot data is not in {TRAIN_ZIP.parent}", file=sys.stderr)
        return 0
    work = Path(tempfile.mkdtemp(prefix="default-effects-"))
    cases = make_cases(work, args.fixed_episodes, args.episodes)
    chosen = {0, *(int(i) for i in args.only.split(","))} if args.only else set(range(len(TRAINED)))
    rows = []
    for number, (label, extra) in enumerate(TRAINED):
        if number not in chosen:
            continue
        run = work / f"run{number}"
        training = train(run, args.steps, extra)
        rows.append({"row": label, "training": training, "cases": score(run, cases)})
        print(f"{label}: {rows[-1]}", file=sys.stderr, flush=True)
        if number == 0:
            rows.append({"row": "each query predicted from the labelled images alone (`--no-refine`)", "training": None,
                         "cases": score(run, cases, refine=False)})
            rows.append({"row": "no test-time shift averaging (`--set test_shifts=0`)", "training": None,
                         "cases": score(run, cases, {"test_shifts": "0"})})
            final = with_final_weights(run, work / "run0-final")
            rows.append({"row": "the final weights, not the best validation's", "training": None,
                         "cases": score(final, cases)})
            for row in rows[-3:]:
                print(f"{row['row']}: {row}", file=sys.stderr, flush=True)
    base = rows[0]["cases"]
    table = ["| setting | (a) 5-way 1-shot, unseen alphabets | (b) 20-way 1-shot within an unseen alphabet | "
             "(c) demo glyphs, 10-way 5-shot | best validation | training s |", "|---|---|---|---|---|---|"]
    for i, row in enumerate(rows):
        t = row["training"] or {}
        val = t.get("best_val_accuracy")
        table.append(f"| {row['row']} | " + " | ".join(cell(row["cases"][c], None if i == 0 else base[c]) for c in "abc")
                     + f" | {'' if val is None else f'{val:.1%}'} | {t.get('seconds', '')} |")
    print("\n".join(table))
    # A run of some rows keeps its own file, so the full table's results stay.
    results = RESULTS.with_name(f"default_effects_rows_{'_'.join(map(str, sorted(chosen)))}.json") if args.only else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"machine": cpu_name(), "steps": args.steps, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
