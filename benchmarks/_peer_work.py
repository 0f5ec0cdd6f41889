"""The workbench's side of benchmarks/peers.py for work in memory: one child process per measurement.

Decodes the training folder into the workbench's image cache (28x28, inverted: strokes 1, background 0,
as the peers' `1 - x`), then meta-trains through the Python API exactly as the runner does
(`build_algorithm`: CLI precision, channels-last under bf16; an EpisodeSampler feeding `meta_train`),
timed as the peer scripts time theirs: warm-up steps, then timed windows of a fixed number of steps.
Prints one JSON object.

    python benchmarks/_peer_work.py --data DIR --algorithm maml --backbone conv4 --meta-batch 32
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="the training folder (class folders of PNGs)")
    ap.add_argument("--algorithm", choices=("protonet", "maml"), required=True)
    ap.add_argument("--backbone", default="conv4")
    ap.add_argument("--first-order", action="store_true")
    ap.add_argument("--meta-batch", type=int, default=1)
    ap.add_argument("--ways", type=int, default=5)
    ap.add_argument("--shots", type=int, default=1)
    ap.add_argument("--queries", type=int, default=15)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--steps-per-window", type=int, default=2)
    a = ap.parse_args()

    import torch

    from workbench.data.cache import build_cache
    from workbench.data.sampler import EpisodeSampler
    from workbench.data.sources import scan_datasets
    from workbench.data.splits import class_views
    from workbench.runs.config import RunConfig
    from workbench.device import resolve_precision
    from workbench.runs.model_loading import build_algorithm

    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)  # as the runner does on a CPU (workbench/training/runner.py)
    torch.manual_seed(0)
    started = time.perf_counter()
    cache = build_cache(scan_datasets([a.data]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), a.ways, a.shots, a.queries,
                             seed=0, invert=True)
    setup_s = time.perf_counter() - started
    device = torch.device("cpu")
    precision = resolve_precision(a.precision, device)
    if a.algorithm == "maml":
        # The peers' learning rates (throughput does not depend on them); one inner step.
        hparams = {"backbone": a.backbone, "first_order": a.first_order, "inner_steps": 1, "inner_lr": 0.4, "meta_lr": 0.003}
    else:
        hparams = {"backbone": a.backbone}
    config = RunConfig(data=[a.data], algorithm=a.algorithm, hparams=hparams, ways=a.ways, shots=a.shots, queries=a.queries)
    algorithm = build_algorithm(config, device, precision)

    def step() -> None:
        episodes = [sampler.sample().to(device) for _ in range(a.meta_batch)]
        algorithm.train_mode(True)
        algorithm.meta_train(episodes)

    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.windows):
        t0 = time.perf_counter()
        for _ in range(a.steps_per_window):
            step()
        rates.append(a.meta_batch * a.steps_per_window / (time.perf_counter() - t0))
    print(json.dumps({"median": statistics.median(rates), "windows": [round(r, 3) for r in rates],
                      "precision": precision, "channels_last": algorithm.channels_last, "setup_s": round(setup_s, 2),
                      "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
