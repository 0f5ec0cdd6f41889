"""Peak memory of `main.py adapt` against the number of query images.

Trains a tiny Conv4 ProtoNet (28x28 grayscale, a few steps on synthetic glyphs), then runs
`main.py adapt --json` in a fresh process on query folders of different sizes and reports
each one's peak resident memory (ru_maxrss of that process alone). Queries are decoded and
predicted a chunk at a time, so the peak should barely move with the number of images.

    .venv/bin/python benchmarks/adapt_memory.py                      # 1 000 and 10 000 query images
    .venv/bin/python benchmarks/adapt_memory.py --counts 500 5000 20000

Prints a Markdown table and writes benchmarks/results/adapt_memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEASURE = ("import resource, subprocess, sys\n"
           "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
           "assert done.returncode == 0, done.stderr\n"
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()

    from tests.synthetic import make_glyph_dataset
    from workbench.data.splits import SplitSpec
    from workbench.runs.config import RunConfig
    from workbench.training.runner import run_to_end, train_run

    work = Path(tempfile.mkdtemp(prefix="adapt-memory-"))
    try:
        data = make_glyph_dataset(work / "data", groups=2, classes_per_group=4, images_per_class=6)
        config = RunConfig(data=[str(data)], ways=2, shots=1, queries=2, steps=5, val_every=5, val_episodes=2,
                           device="cpu", precision="fp32", split=SplitSpec("class", val_fraction=0.25, test_fraction=0))
        run = work / "run"
        assert run_to_end(train_run(config, run)).status == "completed"
        support = work / "support"
        classes = sorted(p for p in data.rglob("*") if p.is_dir() and any(f.suffix == ".png" for f in p.iterdir()))[:2]
        for folder in classes:
            shutil.copytree(folder, support / folder.name)
        sample = sorted(classes[0].glob("*.png"))[0]
        rows = []
        for count in args.counts:
            query = work / f"query{count}"
            query.mkdir()
            for i in range(count):
                os.link(sample, query / f"q{i:06d}.png")  # hard links: many files, no disk space
            command = [sys.executable, str(ROOT / "main.py"), "adapt", str(run), "--support", str(support),
                       "--query", str(query), "--json", "--device", "cpu"]
            result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True,
                                    cwd=ROOT, check=True)
            rows.append({"query_images": count, "peak_rss_mib": round(int(result.stdout.strip()) / 1024, 1)})
            shutil.rmtree(query)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"
    print(f"`main.py adapt` peak memory, Conv4 ProtoNet 28x28 on CPU ({machine})\n")
    print("| query images | peak RSS (MiB) |\n|---:|---:|")
    for row in rows:
        print(f"| {row['query_images']:,} | {row['peak_rss_mib']:.0f} |")
    out = ROOT / "benchmarks" / "results" / "adapt_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
