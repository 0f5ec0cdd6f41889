"""One check of the headless workbench on a CUDA machine: training, vectorised vs loop MAML, torchrun.

Needs only torch and torchvision (and the numpy / pillow they bring): no PySide6, no network, no
dataset. It draws the demo dataset (workbench/data/demo.py) into a temporary folder, then

1. trains ProtoNet and second-order MAML through the runner (what `main.py train` runs) for a fixed
   number of steps, fp32 and bf16, MAML through each path (vectorised, groups of tasks, one task at a
   time): episodes/s (median of the steps after a warm-up) and peak GPU memory;
2. runs benchmarks/maml_throughput.py: MAML meta-updates (meta-batch 32, one inner step) through the
   vectorised pass and the per-task loop, fp32 and bf16, tasks/s and peak memory of each;
3. runs `torchrun --standalone --nproc-per-node 2 main.py train` on the one GPU (both processes share
   it: WORKBENCH_SHARE_GPUS=1) and reads the job's episodes/s from metrics.csv.

Results: benchmarks/results/gpu_check.json (with --dry-run: gpu_check_dry_run.json), a Markdown table on
stdout. `--dry-run` runs the same steps tiny on the CPU, to prove the script before a GPU is lent.

    PYTHONPATH=. python benchmarks/gpu_check.py            # on the GPU machine (see gpu_check.sh)
    PYTHONPATH=. python benchmarks/gpu_check.py --dry-run  # anywhere, under a minute
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from workbench.data.demo import make_demo_dataset  # noqa: E402
from workbench.data.splits import SplitSpec  # noqa: E402
from workbench.runs.config import RunConfig  # noqa: E402
from workbench.training.control import RunControl  # noqa: E402
from workbench.training.events import RunFinished, TrainStep  # noqa: E402
from workbench.training.runner import train_run  # noqa: E402


def sizes(dry_run: bool) -> dict:
    if dry_run:
        # The smallest images and episodes the runner takes: bf16 on a CPU is emulated and slow, and the
        # dry run only proves that every path runs, not how fast.
        return {"classes": 10, "images": 8, "image_size": 16, "queries": 2, "val_episodes": 1, "steps": 3, "warmup": 1,
                "proto_batch": 2, "maml_batch": 2, "repeats": 1, "torchrun_steps": 2}
    return {"classes": 200, "images": 20, "image_size": 28, "queries": 15, "val_episodes": 4, "steps": 60, "warmup": 10,
            "proto_batch": 32, "maml_batch": 32, "repeats": 4, "torchrun_steps": 40}


def train_for(data: Path, algorithm: str, precision: str, device: str, meta_batch: int, n: dict,
              out: Path, vectorise: str = "auto") -> dict:
    hparams = {"vectorise": vectorise, "inner_steps": 1} if algorithm == "maml" else {}
    steps, warmup = n["steps"], n["warmup"]
    config = RunConfig(data=[str(data)], algorithm=algorithm, hparams=hparams, steps=steps, meta_batch=meta_batch,
                       queries=n["queries"], image_size=n["image_size"], device=device, precision=precision,
                       val_every=steps, val_episodes=n["val_episodes"], checkpoint_every=steps + 1,
                       invert=True, split=SplitSpec(mode="class", val_fraction=0.1, test_fraction=0.1))
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    elapsed, finished = {}, None
    for event in train_run(config, str(out), RunControl()):
        if isinstance(event, TrainStep):
            elapsed[event.step] = event.elapsed_s
        elif isinstance(event, RunFinished):
            finished = event
    if finished is None or finished.status != "completed":
        return {"error": finished.message if finished else "no result"}
    per_step = [elapsed[s] - elapsed[s - 1] for s in range(warmup + 1, steps + 1)]
    row = {"episodes_per_s": round(meta_batch / statistics.median(per_step), 1)}
    if device.startswith("cuda"):
        row["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return row


def maml_paths(device: str, n: dict, out: Path, quick: bool) -> list[dict]:
    command = [sys.executable, str(ROOT / "benchmarks" / "maml_throughput.py"), "--device", device, "--precisions", "fp32,bf16",
               "--meta-batch", str(n["maml_batch"]), "--repeats", str(n["repeats"]), "--queries", str(n["queries"]),
               "--out", str(out), *(["--no-ceiling", "--synthetic"] if quick else [])]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    if result.returncode != 0:
        return [{"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}]
    keep = ("precision", "vectorised_tasks_per_s", "loop_tasks_per_s", "speedup", "vectorised_peak_mib", "loop_peak_mib")
    return [{k: r[k] for k in keep if k in r} for r in json.loads(out.read_text())["results"]]


def torchrun(data: Path, device: str, meta_batch: int, n: dict, out: Path) -> dict:
    steps = n["torchrun_steps"]
    env = {**os.environ, "WORKBENCH_SHARE_GPUS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", str(ROOT / "main.py"),
               "train", "--data", str(data), "--algorithm", "protonet", "--meta-batch", str(meta_batch), "--steps", str(steps),
               "--device", device, "--val-every", str(steps), "--val-episodes", str(n["val_episodes"]), "--checkpoint-every", str(steps + 1),
               "--invert", "--image-size", str(n["image_size"]), "--queries", str(n["queries"]), "--out", str(out), "--json"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    lines = (out / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    rates = [float(dict(zip(header, line.split(",")))["episodes_per_s"]) for line in lines[1:] if ",train," in line]
    return {"episodes_per_s": round(rates[-1], 1), "seconds": round(time.perf_counter() - started, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dry-run", action="store_true", help="the same steps, tiny, on the CPU")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    device = "cpu" if a.dry_run else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA GPU here; run with --dry-run to check the script on the CPU.", file=sys.stderr)
        return 2
    n = sizes(a.dry_run)
    out = a.out or ROOT / "benchmarks" / "results" / ("gpu_check_dry_run.json" if a.dry_run else "gpu_check.json")
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    started = time.perf_counter()
    data = make_demo_dataset(work / "demo", classes=n["classes"], images_per_class=n["images"])
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (dry run)"
    record = {"device": name, "torch": torch.__version__, "sizes": n, "train": [], "maml_paths": [], "torchrun": {}}
    for algorithm, batch in (("protonet", n["proto_batch"]), ("maml", n["maml_batch"])):
        for precision in ("fp32", "bf16"):
            vectorise_modes = ("on", "groups", "off") if algorithm == "maml" else ("auto",)
            for vectorise in vectorise_modes:
                row = train_for(data, algorithm, precision, device, batch, n,
                                work / f"{algorithm}-{precision}-{vectorise}", vectorise)
                row.update(algorithm=algorithm, precision=precision, meta_batch=batch,
                           path={"on": "vectorised", "groups": "groups", "off": "loop"}.get(vectorise, "-"))
                record["train"].append(row)
                print(json.dumps(row), flush=True)
    record["maml_paths"] = maml_paths(device, n, work / "maml_throughput.json", a.dry_run)
    record["torchrun"] = torchrun(data, device, max(2, n["proto_batch"]), n, work / "torchrun-run")
    record["seconds"] = round(time.perf_counter() - started, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")

    print(f"\n{name}, torch {torch.__version__}, {record['seconds']} s in all\n")
    print("| training (runner) | precision | path | meta-batch | episodes/s | peak GPU MiB |\n|---|---|---|---|---|---|")
    for r in record["train"]:
        print(f"| {r['algorithm']} | {r['precision']} | {r['path']} | {r['meta_batch']} | "
              f"{r.get('episodes_per_s', r.get('error'))} | {r.get('peak_gpu_mib', '-')} |")
    print("\n| MAML meta-update | vectorised tasks/s | loop tasks/s | vectorised / loop | peak MiB vectorised / loop |\n|---|---|---|---|---|")
    for r in record["maml_paths"]:
        print(f"| {r.get('precision', r.get('error'))} | {r.get('vectorised_tasks_per_s', '-')} | {r.get('loop_tasks_per_s', '-')} | "
              f"{r.get('speedup', '-')} | {r.get('vectorised_peak_mib', '-')} / {r.get('loop_peak_mib', '-')} |")
    t = record["torchrun"]
    print(f"\ntorchrun, 2 processes on one {'GPU' if device == 'cuda' else 'CPU'}: "
          f"{t.get('episodes_per_s', t.get('error'))} episodes/s (the job's rate)")
    failed = [r for r in [*record["train"], *record["maml_paths"], t] if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
