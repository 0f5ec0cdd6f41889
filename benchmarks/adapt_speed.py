"""How long one `main.py adapt` takes, as a person runs it: 5-way 5-shot, 100 query images, `auto`.

Fashion photographs (Debian's dataset-fashion-mnist, benchmarks/_cross_domain.py) in class folders,
labelled with a trained run. The command runs three times in fresh processes: first with an empty
feature cache (WORKBENCH_CACHE_DIR in a temporary folder), then twice with the cache the first left
(the pretrained features of these 125 images already on disk). Wall time includes starting Python
and importing torch, as a person waits for it.

    .venv/bin/python benchmarks/adapt_speed.py --run RUN [--mode auto] [--ways 5 --shots 5 --queries 100]

Prints the times and writes benchmarks/results/adapt_speed.json.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from _cross_domain import fashion_folder  # noqa: E402
from _omniglot import cpu_name  # noqa: E402


def split(source: Path, target: Path, ways: int, shots: int, queries: int) -> tuple[Path, Path]:
    """support/<class>/ with `shots` images of each of `ways` classes; query/ with `queries` of the rest."""
    support, query = target / "support", target / "query"
    classes = sorted(p for p in source.iterdir() if p.is_dir())[:ways]
    per_class = -(-queries // ways)
    taken = 0
    for folder in classes:
        files = sorted(folder.glob("*.png"))
        (support / folder.name).mkdir(parents=True)
        for f in files[:shots]:
            shutil.copy(f, support / folder.name / f.name)
        query.mkdir(exist_ok=True)
        for f in files[shots:shots + per_class][:queries - taken]:
            shutil.copy(f, query / f"{folder.name}_{f.name}")
            taken += 1
    return support, query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True)
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--ways", type=int, default=5)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=2, help="adapts after the first, with a warm cache")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        source, why = fashion_folder(scratch / "fashion", per_class=-(-args.queries // args.ways) + args.shots)
        if source is None:
            sys.exit(f"Skipped: {why}")
        support, query = split(source, scratch / "episode", args.ways, args.shots, args.queries)
        env = dict(os.environ, WORKBENCH_CACHE_DIR=str(scratch / "cache"))
        command = [sys.executable, str(ROOT / "main.py"), "adapt", args.run, "--support", str(support),
                   "--query", str(query), "--mode", args.mode, "--json"]
        times, chosen = [], ""
        for attempt in range(1 + args.repeats):
            start = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(f"adapt failed:\n{done.stderr[-2000:]}")
            chosen = done.stderr.strip().splitlines()[0] if done.stderr.strip() else ""
            print(f"{'cold' if attempt == 0 else 'warm'} cache: {times[-1]:.1f} s", flush=True)
    result = {"run": args.run, "mode": args.mode, "ways": args.ways, "shots": args.shots, "queries": args.queries,
              "cold_s": round(times[0], 2), "warm_s": [round(t, 2) for t in times[1:]], "said": chosen,
              "machine": f"{cpu_name()}, {os.cpu_count()} cores",
              "load_average": os.getloadavg()[0]}
    print(f"said: {chosen}")
    out = ROOT / "benchmarks" / "results" / "adapt_speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
