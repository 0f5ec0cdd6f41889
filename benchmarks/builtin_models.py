"""The built-in drawing model: its recipe measured on alphabets it never saw, then trained on everything and shipped.

    .venv/bin/python benchmarks/builtin_models.py held-out [--steps 12000]
        trains the recipe on the first minimal Omniglot set (5 alphabets) and scores it with
        benchmarks/adapt_quality.py on the second set's alphabets: (a) 5-way 1-shot on the fixed episodes,
        (b) 20-way 1-shot within one alphabet, (c) the demo glyphs, (d) fashion photographs;
    .venv/bin/python benchmarks/builtin_models.py ship [--steps 12000]
        trains the same recipe on both minimal sets (8 alphabets) and copies the run into
        resources/models/drawings/ with provenance.json (the command, the data's digests, the machine).

The recipe is the default ProtoNet training (`main.py train --data … --algorithm protonet --ways 20 --shots 1`,
rotations and mirrors on, 32 pixels) with a fixed seed and --steps. Both phases are resumable: run the same
command again after a stop and the training continues from its last checkpoint (`train --resume`). Runs go
to runs/builtin-*, logs and scores to benchmarks/results/builtin_models_*.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._omniglot import DATA, cpu_name, data_present  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SHIPPED = ROOT / "resources" / "models" / "drawings"
SEED = 0
# What a run folder needs to adapt and to be shown (curves, settings); not its checkpoints.
SHIPPED_FILES = ("config.json", "model.pt", "calibration.json", "status.json", "environment.json", "metrics.csv",
                 "dataset.json", "log.txt")


def recipe(data: list[Path], steps: int, out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "train", *[a for p in data for a in ("--data", str(p))],
            "--algorithm", "protonet", "--ways", "20", "--shots", "1", "--steps", str(steps), "--seed", str(SEED),
            "--out", str(out), "--json"]


def status_of(run: Path) -> str:
    try:
        return json.loads((run / "status.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return "absent"


def train(data: list[Path], steps: int, run: Path, log: Path) -> dict:
    """Train (or resume) `run` to its end; the JSON summary of `main.py train`."""
    state = status_of(run)
    if state == "completed":
        return {"status": "completed", "run_dir": str(run), "resumed": False}
    command = recipe(data, steps, run)
    if run.exists():
        command = [sys.executable, str(ROOT / "main.py"), "train", "--resume", str(run), "--json"]
    begin = time.perf_counter()
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(command)}\n")
        handle.flush()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=handle, text=True)
    if done.returncode != 0:
        raise SystemExit(f"training failed ({done.returncode}); see {log}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["seconds"] = round(time.perf_counter() - begin, 1)
    return summary


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def held_out(steps: int) -> int:
    run = ROOT / "runs" / f"builtin-held-out-{steps}"
    summary = train(DATA[:1], steps, run, RESULTS / f"builtin_models_held_out_{steps}.log")
    print(f"trained: {summary}", file=sys.stderr)
    out = RESULTS / f"builtin_models_held_out_{steps}.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "adapt_quality.py"), "--run", str(run), "--cases", "abcd",
               "--modes", "pretrained,model,auto", "--fixed-episodes", "300", "--episodes", "100", "--out", str(out)]
    return subprocess.run(command).returncode


def ship(steps: int) -> int:
    run = ROOT / "runs" / f"builtin-ship-{steps}"
    summary = train(DATA, steps, run, RESULTS / f"builtin_models_ship_{steps}.log")
    print(f"trained: {summary}", file=sys.stderr)
    if SHIPPED.exists():
        shutil.rmtree(SHIPPED)
    SHIPPED.mkdir(parents=True)
    for name in SHIPPED_FILES:
        if (run / name).is_file():
            shutil.copy2(run / name, SHIPPED / name)
    # The data's names, not where it lay on the machine that trained it (provenance.json has its digests).
    config = json.loads((SHIPPED / "config.json").read_text())
    config["data"] = [Path(p).name for p in config["data"]]
    (SHIPPED / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    status = json.loads((run / "status.json").read_text())
    provenance = {
        "recipe": " ".join(["main.py", *recipe([Path(p.name) for p in DATA], steps, Path("RUN"))[2:]]),
        "data": [{"file": p.name, "sha256": digest(p)} for p in DATA],
        "steps": status.get("step"), "best_val_accuracy": status.get("best_val_accuracy"), "seed": SEED,
        "machine": f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()}", "made_by": "benchmarks/builtin_models.py ship",
        "training_seconds": summary.get("seconds"),
        "held_out_scores": f"benchmarks/results/builtin_models_held_out_{steps}.json (the same recipe on "
                           f"{DATA[0].name} alone, scored on the alphabets of {DATA[1].name})",
    }
    (SHIPPED / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    print(f"shipped {run} as {SHIPPED}", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=("held-out", "ship"))
    parser.add_argument("--steps", type=int, default=12000, help="meta-updates of the recipe (default 12000)")
    args = parser.parse_args()
    if not data_present():
        print("skipped: the Omniglot minimal sets are not in ../shared/data/omniglot", file=sys.stderr)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    return held_out(args.steps) if args.phase == "held-out" else ship(args.steps)


if __name__ == "__main__":
    raise SystemExit(main())
