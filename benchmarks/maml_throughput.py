"""MAML meta-training throughput: the vectorised torch.func path against the per-task loop.

The same MAML model, in the same process, meta-trains on the same real episodes
(28x28 grayscale, 5-way 1-shot, 15 queries, meta-batch 32, one inner step,
second order) alternately through the vectorised pass (`vectorise=true`: vmap
over tasks) and through the per-task Python loop (`vectorise=false`), after a
warm-up of each; reported in tasks per second (median over the timed
meta-updates), for fp32 and for the precision `auto` picks on the device.
It also counts the loop's floating-point operations per task and measures the
device's rate on large dense work (a 2048^2 matrix product; the model's biggest
convolution over a whole meta-batch): their ratio to the loop's achieved rate
is the ceiling on what any batching across tasks could gain.

    .venv/bin/python benchmarks/maml_throughput.py                  # CUDA when present, else CPU
    .venv/bin/python benchmarks/maml_throughput.py --device cpu --repeats 3

Episodes come from ../shared/data/omniglot (images_background_small1.zip) when
present, else from synthetic glyphs (tests/synthetic.py). Results go to
benchmarks/results/maml_throughput.json with the machine; a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._omniglot import cpu_name  # noqa: E402
from tests.synthetic import OMNIGLOT_SMALL1, make_glyph_dataset  # noqa: E402
from workbench import catalogue  # noqa: E402
from workbench.data.cache import build_cache  # noqa: E402
from workbench.data.sampler import EpisodeSampler  # noqa: E402
from workbench.data.sources import scan_datasets  # noqa: E402
from workbench.data.splits import class_views  # noqa: E402
from workbench.device import describe_device, resolve_device, resolve_precision  # noqa: E402


def load_episodes(count: int, ways: int, shots: int, queries: int, device: torch.device,
                  synthetic: bool = False) -> tuple[list, str]:
    if OMNIGLOT_SMALL1.exists() and not synthetic:
        source, label = OMNIGLOT_SMALL1, f"Omniglot {OMNIGLOT_SMALL1.name}"
    else:
        source = make_glyph_dataset(Path(tempfile.mkdtemp(prefix="glyphs-")), groups=2, classes_per_group=10, images_per_class=shots + queries)
        label = "synthetic glyphs (Omniglot absent)"
    cache = build_cache(scan_datasets([source]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), ways, shots, queries, seed=0)
    return [sampler.sample().to(device) for _ in range(count)], label


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_path(algorithm, batches, vectorise: bool, device: torch.device) -> float:
    """Seconds for one meta-update of the given batch through one path."""
    algorithm.hparams["vectorise"] = "on" if vectorise else "off"
    synchronise(device)
    start = time.perf_counter()
    algorithm.meta_train(batches)
    synchronise(device)
    return time.perf_counter() - start


def peak_memory(algorithm, batch, vectorise: bool, device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.reset_peak_memory_stats(device)
    time_path(algorithm, batch, vectorise, device)
    return torch.cuda.max_memory_allocated(device) / 2**20


def measure(precision: str, device: torch.device, episodes: list, args) -> dict:
    torch.manual_seed(0)
    hparams = {"inner_steps": 1, "first_order": args.first_order, "tasks_per_pass": args.tasks_per_pass or args.meta_batch}
    algorithm = catalogue.get("maml")(1, 28, hparams, device, precision)
    if precision == "bf16" or device.type == "cuda":  # as the runner does
        algorithm.use_channels_last()
    batches = [episodes[i:i + args.meta_batch] for i in range(0, len(episodes), args.meta_batch)]
    for vectorise in (True, False):  # warm-up: first calls allocate and pick kernels
        time_path(algorithm, batches[0], vectorise, device)
    times = {True: [], False: []}
    for r in range(args.repeats):  # alternate, so load changes on a shared machine hit both paths alike
        for vectorise in ((True, False) if r % 2 == 0 else (False, True)):
            times[vectorise].append(time_path(algorithm, batches[r % len(batches)], vectorise, device))
    rate = {v: args.meta_batch / statistics.median(t) for v, t in times.items()}
    # On a shared machine the fastest meta-update is the one least disturbed by other work.
    best = {v: args.meta_batch / min(t) for v, t in times.items()}
    row = {
        "precision": precision,
        "channels_last": algorithm.channels_last,
        "vectorised_tasks_per_s": round(rate[True], 2),
        "loop_tasks_per_s": round(rate[False], 2),
        "speedup": round(rate[True] / rate[False], 2),
        "vectorised_best_tasks_per_s": round(best[True], 2),
        "loop_best_tasks_per_s": round(best[False], 2),
        "speedup_best": round(best[True] / best[False], 2),
        "vectorised_seconds": [round(t, 3) for t in times[True]],
        "loop_seconds": [round(t, 3) for t in times[False]],
    }
    # How far from the device's dense-compute rate the loop already is: the ceiling on any batching speed-up.
    if not args.no_ceiling:
        flops = flops_per_task(algorithm, batches[0][:4])
        loop_gflops = flops * best[False] / 1e9
        row.update(gflop_per_task=round(flops / 1e9, 3), loop_gflops=round(loop_gflops, 1),
                   **dense_rates(precision, device, args.meta_batch, args.queries))
        row["ceiling_speedup"] = round(max(row["gemm_gflops"], row["conv_gflops"]) / loop_gflops, 2)
    if device.type == "cuda":
        row["vectorised_peak_mib"] = round(peak_memory(algorithm, batches[0], True, device), 1)
        row["loop_peak_mib"] = round(peak_memory(algorithm, batches[0], False, device), 1)
    print(json.dumps(row), flush=True)
    return row


def dense_rates(precision: str, device: torch.device, meta_batch: int, queries: int) -> dict:
    """GFLOP/s this device reaches on large dense work in `precision`: a 2048^2 matrix product, and the
    model's own biggest convolution (64 -> 64 channels, 14x14) over a whole meta-batch of images at once.
    The best a perfectly batched MAML step could hope for."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16 if precision == "fp16" else torch.float32

    def rate(fn, flops: float, repeats: int = 5) -> float:
        fn(), fn()
        synchronise(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        synchronise(device)
        return flops * repeats / (time.perf_counter() - start) / 1e9

    a = torch.randn(2048, 2048, device=device, dtype=dtype)
    images = meta_batch * (5 + 5 * queries)
    x = torch.randn(images, 64, 14, 14, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    w = torch.randn(64, 64, 3, 3, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        return {
            "gemm_gflops": round(rate(lambda: a @ a, 2 * 2048**3), 1),
            "conv_gflops": round(rate(lambda: torch.nn.functional.conv2d(x, w, padding=1), 2 * images * 64 * 64 * 9 * 14 * 14), 1),
        }


def flops_per_task(algorithm, batch) -> float:
    """Floating-point operations of one task's meta-update through the per-task loop (torch's FLOP counter:
    matrix products and convolutions, forward and backward, which is nearly all of the work)."""
    from torch.utils.flop_counter import FlopCounterMode

    algorithm.hparams["vectorise"] = "off"
    with FlopCounterMode(display=False) as counter:
        algorithm.meta_train(batch)
    return counter.get_total_flops() / len(batch)


def machine_description(device: torch.device) -> dict:
    return {
        "device": describe_device(device),
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precisions", default="fp32,auto", help="comma-separated; auto resolves to the device's fast precision")
    parser.add_argument("--meta-batch", type=int, default=32)
    parser.add_argument("--queries", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=4, help="timed meta-updates per path and precision")
    parser.add_argument("--tasks-per-pass", type=int, default=0, help="tasks per vectorised pass (0: the whole meta-batch, one pass)")
    parser.add_argument("--first-order", action="store_true", help="first-order MAML instead of second order")
    parser.add_argument("--keep-denormals", action="store_true",
                        help="do not flush denormal floats to zero (second-order MAML makes many; on x86 CPUs each costs ~100x)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip counting FLOPs and the dense-rate ceiling (quick checks)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic glyphs even where Omniglot is present (quick checks)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "maml_throughput.json"))
    args = parser.parse_args()
    device = resolve_device(args.device)
    flushed = False if args.keep_denormals else torch.set_flush_denormal(True)
    precisions = list(dict.fromkeys(resolve_precision(p, device) for p in args.precisions.split(",")))
    machine = machine_description(device)
    episodes, data = load_episodes(args.meta_batch * 2, 5, 1, args.queries, device, args.synthetic)
    rows = [measure(p, device, episodes, args) for p in precisions]
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    setting = {
        "image_size": 28, "channels": 1, "ways": 5, "shots": 1, "queries": args.queries, "meta_batch": args.meta_batch,
        "inner_steps": 1, "second_order": not args.first_order, "tasks_per_pass": args.tasks_per_pass,
        "repeats": args.repeats, "data": data, "flush_denormal": flushed, "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": machine, "setting": setting, "results": rows}, indent=2) + "\n")
    print(f"\nMachine: {machine['device']}, {machine['cpu']}, torch {machine['torch']}; data: {data}\n")
    print("| precision | vectorised (tasks/s, median / best) | per-task loop (tasks/s, median / best) | speed-up (median / best) "
          "| loop GFLOP/s | dense GEMM / conv GFLOP/s | ceiling on any speed-up |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ceiling = (f"{r['loop_gflops']:.0f} | {r['gemm_gflops']:.0f} / {r['conv_gflops']:.0f} | {r['ceiling_speedup']:.1f}x"
                   if "ceiling_speedup" in r else "– | – | –")
        print(f"| {r['precision']} | {r['vectorised_tasks_per_s']:.1f} / {r['vectorised_best_tasks_per_s']:.1f} | "
              f"{r['loop_tasks_per_s']:.1f} / {r['loop_best_tasks_per_s']:.1f} | {r['speedup']:.2f}x / {r['speedup_best']:.2f}x | "
              f"{ceiling} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
