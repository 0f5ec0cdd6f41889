"""Where second-order MAML's meta-update spends its time on the CPU, and what each option costs.

Conv4 with max-pool, one inner step, 5-way 1-shot 15-query, 28x28. Variants are timed interleaved
(one meta-update each, in turn, `--repeats` times; medians):

    default      the CLI's choice: tasks in groups of grouped convolutions (vectorise=auto on a CPU), bf16
                 autocast where the CPU is fast at it, channels-last, head from prototypes
    loop         the same one task at a time (vectorise=off)
    fp32         the same in fp32 (channels-last off, as the runner does for fp32)
    zero_head    head_init=zero: no prototype head (what learn2learn's MAML has: a learned linear head)
    no_flush     denormal floats kept (torch.set_flush_denormal(False)); the others flush them
    strided      the conv4_strided backbone
    strided_loop the conv4_strided backbone one task at a time
    fo_strided   first-order MAML on conv4_strided (groups sized for first order)
    fo_strided_16  the same in the second-order group size (16 tasks of 5-way 1-shot 15-query 28x28)

then one meta-update of the default under torch.profiler: the operators by self CPU time.
Results: benchmarks/results/maml_profile.json; a Markdown table on stdout.

    python benchmarks/maml_profile.py --meta-batch 32 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._omniglot import cpu_name  # noqa: E402
from benchmarks.maml_throughput import load_episodes  # noqa: E402
from workbench import catalogue  # noqa: E402
from workbench.device import resolve_precision  # noqa: E402

VARIANTS = {
    "default": ({}, "auto", True),
    "loop": ({"vectorise": "off"}, "auto", True),
    "fp32": ({}, "fp32", True),
    "zero_head": ({"head_init": "zero"}, "auto", True),
    "no_flush": ({}, "auto", False),
    "strided": ({"backbone": "conv4_strided"}, "auto", True),
    "strided_loop": ({"backbone": "conv4_strided", "vectorise": "off"}, "auto", True),
    "fo_strided": ({"backbone": "conv4_strided", "first_order": True}, "auto", True),
    "fo_strided_16": ({"backbone": "conv4_strided", "first_order": True, "tasks_per_pass": 16}, "auto", True),
}


def build(hparams: dict, precision: str):
    torch.manual_seed(0)
    device = torch.device("cpu")
    precision = resolve_precision(precision, device)
    algorithm = catalogue.get("maml")(1, 28, {"inner_steps": 1, **hparams}, device, precision)
    if precision == "bf16":  # as the runner does
        algorithm.use_channels_last()
    return algorithm


def time_once(algorithm, episodes, flush: bool) -> float:
    torch.set_flush_denormal(flush)
    start = time.perf_counter()
    algorithm.meta_train(episodes)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meta-batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--load-note", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "maml_profile.json")
    a = ap.parse_args()
    episodes, data = load_episodes(a.meta_batch, 5, 1, 15, torch.device("cpu"))
    names = [v for v in a.variants.split(",") if v]
    built = {name: build(VARIANTS[name][0], VARIANTS[name][1]) for name in names}
    for name in names:  # warm-up
        time_once(built[name], episodes, VARIANTS[name][2])
    seconds = {name: [] for name in names}
    for r in range(a.repeats):
        for name in (names if r % 2 == 0 else names[::-1]):
            seconds[name].append(time_once(built[name], episodes, VARIANTS[name][2]))
    rows = [{"variant": n, "precision": built[n].precision, "tasks_per_s": round(a.meta_batch / statistics.median(seconds[n]), 2),
             "best_tasks_per_s": round(a.meta_batch / min(seconds[n]), 2), "seconds": [round(s, 3) for s in seconds[n]]}
            for n in names]

    torch.set_flush_denormal(True)
    algorithm = built[names[0]]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        algorithm.meta_train(episodes[: max(4, a.meta_batch // 4)])
    ops = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in ops) or 1
    top = [{"op": e.key, "self_share": round(e.self_cpu_time_total / total, 3), "calls": e.count} for e in ops[:15]]

    record = {"machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
                          "load_note": a.load_note, "loadavg_at_end": os.getloadavg(), "torch": torch.__version__},
              "setting": {"meta_batch": a.meta_batch, "repeats": a.repeats, "data": data, "inner_steps": 1,
                          "second_order": "except the fo_ variants"},
              "variants": rows, "profile_top_ops": top}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{cpu_name()}, {torch.get_num_threads()} threads; meta-batch {a.meta_batch}; {data}"
          f"{'; ' + a.load_note if a.load_note else ''}\n")
    base = rows[0]["tasks_per_s"]
    print("| variant | precision | tasks/s (median) | best | vs first |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['precision']} | {r['tasks_per_s']} | {r['best_tasks_per_s']} | {r['tasks_per_s'] / base:.2f}x |")
    print("\n| operator | share of self CPU time | calls |\n|---|---|---|")
    for t in top:
        print(f"| {t['op']} | {t['self_share']:.1%} | {t['calls']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
