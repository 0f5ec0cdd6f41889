"""MetaNAS on Omniglot: the default search, then the cell it found against a Conv4 of the same size.

Four stages, each trained on images_background_small1.zip alone and scored on the 600 fixed
5-way 1-shot 15-query episodes of test_episodes_small1_vs_small2.json (the fixed protocol of
benchmarks/_omniglot.py: 28x28, rotations and mirror images as new classes, per-image
augmentation, inverted strokes; 5% of the classes for validation, model.pt = best validation):

1. search  - `metanas` with its default settings (1000 meta-updates of one 5-way 1-shot task);
             its own mixed network is scored, and the cell it saved (architecture.json) is kept.
2. maml_searched - `maml`, first order, prototype head, the search's learning rates and inner steps,
             on `backbone=searched` (that cell, fresh weights).
3. maml_conv4 - the same MAML on a Conv4 whose width makes its parameter count nearest the cell's
             (`conv4_matched`, registered in this process only).
4. protonet_searched, protonet_conv4 - `protonet` (the same 5-way 1-shot 15-query episodes, no shift
             averaging) on the searched cell and on the matched Conv4.
5. maml_searched_long, maml_conv4_long - stages 2 and 3 again for `--long-steps` meta-updates.

Stages 2-4 run `--steps` meta-updates each (default: as many as the search) and validate as the
search does (100 episodes every 100 meta-updates); the longer pair validates 10 times too. Everything
runs on the CPU in fp32, seed 0, one torch thread unless `--threads` says otherwise. Each stage's
row is written to benchmarks/results/metanas.json as soon as it is measured, and a rerun skips the
stages already there, so a killed run goes on where it stopped (a stage cut off part-way starts again).

    .venv/bin/python benchmarks/metanas.py                       # the whole benchmark (~40 min, 2 cores)
    .venv/bin/python benchmarks/metanas.py --steps 20 --search-steps 20 --long-steps 20 --val-every 10 \\
        --val-episodes 5 --test-episodes 20 --out /tmp/metanas-smoke   # a quick smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._omniglot import DATA, FIXED_EPISODES, OMNIGLOT, ROOT, cpu_name, data_present  # noqa: E402
from workbench.models.backbones import register_backbone  # noqa: E402
from workbench.models.conv4 import Conv4  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "metanas.json"
RUNS = ROOT / "runs" / "metanas"  # git-ignored
STAGES = ("search", "maml_searched", "maml_conv4", "protonet_searched", "protonet_conv4", "maml_searched_long",
          "maml_conv4_long")
TITLES = {
    "search": "MetaNAS search network (mixed operations, adapted α)",
    "maml_searched": "MAML (first order) on the searched cell",
    "maml_conv4": "MAML (first order) on a Conv4 of equal size",
    "protonet_searched": "ProtoNet on the searched cell",
    "protonet_conv4": "ProtoNet on a Conv4 of equal size",
    "maml_searched_long": "MAML (first order) on the searched cell, longer",
    "maml_conv4_long": "MAML (first order) on a Conv4 of equal size, longer",
}
# The width of the matched Conv4, set once the searched cell's size is known (before any stage builds it).
MATCHED: dict[str, int | None] = {"hidden": None}


# Registered before the algorithms are imported: MAML's `backbone` choices are read when its module loads.
@register_backbone("conv4_matched")
class MatchedConv4(Conv4):
    """Conv4 at the width `MATCHED["hidden"]`: about as many parameters as the searched cell."""

    def __init__(self, in_channels: int, image_size: int) -> None:
        if MATCHED["hidden"] is None:
            raise RuntimeError("conv4_matched: the width is set from the searched cell first")
        super().__init__(in_channels, image_size, hidden=MATCHED["hidden"])


import torch  # noqa: E402

from workbench import catalogue  # noqa: E402
from workbench.data.splits import SplitSpec  # noqa: E402
from workbench.models.backbones import make_backbone  # noqa: E402
from workbench.models.darts_cell import ARCHITECTURE_PARAMETERS  # noqa: E402
from workbench.runs.config import RunConfig  # noqa: E402
from workbench.training.events import RunFinished, TrainStep, Validation  # noqa: E402
from workbench.training.jobs import evaluate_run  # noqa: E402
from workbench.training.runner import train_run  # noqa: E402


def parameters(module: torch.nn.Module, skip: tuple[str, ...] = ()) -> int:
    return sum(p.numel() for name, p in module.named_parameters() if name not in skip)


def conv4_parameters(hidden: int) -> int:
    return parameters(Conv4(1, 28, hidden))


def matched_width(target: int) -> int:
    """The Conv4 width whose parameter count is nearest `target`."""
    return min(range(1, 257), key=lambda h: (abs(conv4_parameters(h) - target), h))


def reset_peak_memory() -> bool:
    """Reset this process's peak resident memory (VmHWM), so a stage's peak is its own (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_memory_mib() -> float:
    """VmHWM from /proc/self/status, else the process's whole-life maximum from getrusage."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def episode_file(args) -> Path:
    """The fixed episodes, or (a smoke run) their first `--test-episodes` in a copy under --out."""
    if not args.test_episodes:
        return FIXED_EPISODES
    data = json.loads(FIXED_EPISODES.read_text())
    data["episodes"] = data["episodes"][: args.test_episodes]
    copy = Path(args.out) / "episodes.json"
    copy.write_text(json.dumps(data))
    return copy


def train_and_score(key: str, algorithm: str, hparams: dict, steps: int, val_every: int, args, runs: Path) -> dict:
    """Train one stage for `steps` meta-updates, score its best-validation model on the fixed episodes."""
    run_dir = runs / key
    if run_dir.exists():
        shutil.rmtree(run_dir)  # a stage killed part-way starts again: its timing is then whole
    config = RunConfig(
        data=[str(DATA[0])], algorithm=algorithm, hparams=hparams, ways=5, shots=1, queries=15,
        train_ways=5, train_queries=15, image_size=28, channels=1, rotations=True, mirror=True, augment=True,
        invert=True, split=SplitSpec("class", val_fraction=0.05, test_fraction=0.0, seed=0), steps=steps,
        meta_batch=1, seed=0, device="cpu", precision="fp32", val_every=val_every,
        val_episodes=args.val_episodes, checkpoint_every=val_every,
    )
    load_before = os.getloadavg()
    measured_peak = reset_peak_memory()
    last_step, finished, validations, validation_seconds = None, None, [], 0.0
    started, cpu_started = time.perf_counter(), time.process_time()
    previous = started
    for event in train_run(config, run_dir):
        now = time.perf_counter()
        if isinstance(event, TrainStep):
            last_step = event
        elif isinstance(event, Validation):
            validation_seconds += now - previous  # the validation ran between the step's event and this one
            validations.append({"step": event.step, "accuracy": round(event.accuracy, 4)})
            print(f"  {key}: step {event.step}, validation {event.accuracy:.1%}", flush=True)
        finished, previous = event, now
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - cpu_started
    peak_train = peak_memory_mib()
    if not isinstance(finished, RunFinished) or finished.status != "completed":
        raise RuntimeError(f"{key}: the run did not complete: {getattr(finished, 'message', finished)}")
    started = time.perf_counter()
    report = evaluate_run(str(run_dir), [str(DATA[1])], 5, 1, 15, device="cpu", episode_file=str(episode_file(args)),
                          mode=None)
    return {
        "stage": key,
        "title": TITLES[key],
        "algorithm": algorithm,
        "hparams": hparams,
        "accuracy": report.result.accuracy,
        "ci95": report.result.ci95,
        "test_episodes": report.result.episodes,
        "meta_updates": last_step.step if last_step else 0,
        "episodes_trained": last_step.step if last_step else 0,
        "train_seconds": round(train_seconds, 1),
        "train_seconds_note": "train_run from start to end: data preparation, meta-updates, validation, calibration",
        "validation_seconds": round(validation_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "val_every": val_every,
        "val_episodes": args.val_episodes,
        "score_seconds": round(time.perf_counter() - started, 1),
        "best_val_accuracy": finished.best_val_accuracy,
        "validations": validations,
        "peak_memory_mib": peak_train if measured_peak else None,
        "peak_memory_note": "peak resident memory (VmHWM) of the process from the stage's start to the end of "
                            "training" if measured_peak else "VmHWM could not be reset",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "measured_on": time.strftime("%Y-%m-%d %H:%M"),
        "run_dir": str(run_dir),
    }


def architecture_file(results: dict, runs: Path) -> Path:
    """The searched cell's architecture.json: the search run's, or rewritten from the results (run folder gone)."""
    path = runs / "search" / "architecture.json"
    if not path.exists():
        path = runs / "architecture.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results["architecture"], indent=2) + "\n")
    return path


def sizes(arch: Path) -> dict:
    """Parameter counts: the search network, the searched cell, and the Conv4 width nearest the cell."""
    search = catalogue.get("metanas")(1, 28, {})
    searched = make_backbone("searched", 1, 28, architecture_file=str(arch))
    cell = parameters(searched)
    hidden = matched_width(cell)
    return {
        "search_network_weights": parameters(search.backbone, ARCHITECTURE_PARAMETERS),
        "search_network_architecture_weights": sum(dict(search.backbone.named_parameters())[n].numel()
                                                   for n in ARCHITECTURE_PARAMETERS),
        "searched_cell": cell,
        "searched_cell_features": searched.feature_dim,
        "conv4_hidden": hidden,
        "conv4_matched": conv4_parameters(hidden),
        "conv4_matched_features": Conv4(1, 28, hidden).feature_dim,
        "note": "backbone weights only (batch-norm scales and shifts included, running statistics not); the "
                "per-task linear head starts from the class prototypes, so it has no meta-learned weights",
    }


def table(results: dict) -> str:
    size = results.get("sizes", {})
    cell, conv4 = f"{size.get('searched_cell', 0):,}", f"{size.get('conv4_matched', 0):,} (width {size.get('conv4_hidden')})"
    params = {"search": f"{size.get('search_network_weights', 0):,} + {size.get('search_network_architecture_weights', 0)} α",
              "maml_searched": cell, "protonet_searched": cell, "maml_searched_long": cell,
              "maml_conv4": conv4, "protonet_conv4": conv4, "maml_conv4_long": conv4}
    lines = ["| network | parameters | meta-updates | train minutes (of which validation) | 5-way 1-shot, 600 fixed episodes |",
             "|---|---|---|---|---|"]
    for key in STAGES:
        row = results["rows"].get(key)
        if row is None:
            continue
        lines.append(f"| {row['title']} | {params[key]} | {row['meta_updates']:,} | {row['train_seconds'] / 60:.1f} "
                     f"({row['validation_seconds'] / 60:.1f}) | "
                     f"**{row['accuracy']:.1%} ± {row['ci95']:.1%}** |")
    return "\n".join(lines)


def machine_line(results: dict) -> str:
    rows = sorted((results["rows"][k] for k in STAGES if k in results["rows"]), key=lambda row: row["measured_on"])
    if not rows:
        return ""
    first, last = rows[0], rows[-1]
    return (f"Measured on {results['machine']}; stages finished {first['measured_on']} to {last['measured_on']}; load average "
            f"(1/5/15 min) {'/'.join(map(str, first['load_average_before']))} before the first stage, "
            f"{'/'.join(map(str, last['load_average_after']))} after the last.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search-steps", type=int, default=0, help="meta-updates of the search (0: metanas's default)")
    parser.add_argument("--steps", type=int, default=0, help="meta-updates of stages 2-4 (0: as many as the search)")
    parser.add_argument("--long-steps", type=int, default=4000, help="meta-updates of the two longer MAML stages "
                        "(0: leave them out); they validate as often in all, every long-steps / 10")
    parser.add_argument("--val-every", type=int, default=100)
    parser.add_argument("--val-episodes", type=int, default=100)
    parser.add_argument("--test-episodes", type=int, default=0, help="score on the first N fixed episodes (0: all 600)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: on a shared 2-core machine, 2 threads "
                        "measured several times slower per meta-update than 1 while other work ran)")
    parser.add_argument("--out", default="", help="folder for the results JSON and the run folders (default: "
                        "benchmarks/results/metanas.json and runs/metanas/)")
    args = parser.parse_args()
    if not data_present():
        print(f"skipped: the Omniglot zips or the fixed episodes are not under {OMNIGLOT}", file=sys.stderr)
        return 0
    torch.set_num_threads(args.threads)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    results_file = Path(args.out) / "metanas.json" if args.out else RESULTS
    runs = Path(args.out) / "runs" if args.out else RUNS
    results = json.loads(results_file.read_text()) if results_file.exists() else {"rows": {}}
    results["machine"] = f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, " \
                         f"{torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''}, fp32"
    started = time.perf_counter()

    def save(row: dict | None = None) -> None:
        if row is not None:
            results["rows"][row["stage"]] = row
            print(json.dumps({k: v for k, v in row.items() if k not in ("validations", "hparams")}), flush=True)
        results_file.write_text(json.dumps(results, indent=2) + "\n")

    metanas = catalogue.get("metanas")
    search_steps = args.search_steps or metanas.default_steps
    if "search" not in results["rows"]:
        print(f"search: metanas, {search_steps} meta-updates", flush=True)
        row = train_and_score("search", "metanas", {}, search_steps, args.val_every, args, runs)
        results["architecture"] = json.loads((runs / "search" / "architecture.json").read_text())
        save(row)
    arch = architecture_file(results, runs)
    results["sizes"] = sizes(arch)
    MATCHED["hidden"] = results["sizes"]["conv4_hidden"]
    save()

    steps = args.steps or results["rows"]["search"]["meta_updates"]
    defaults = {p.name: p.default for p in metanas.hyperparams}
    maml = {"first_order": True, "head_init": "prototype",
            **{name: defaults[name] for name in ("meta_lr", "inner_lr", "inner_steps", "eval_inner_steps")}}
    searched = {"backbone": "searched", "backbone_architecture": str(arch)}
    long_every = max(1, args.long_steps // 10)
    plans = {
        "maml_searched": ("maml", {**maml, **searched}, steps, args.val_every),
        "maml_conv4": ("maml", {**maml, "backbone": "conv4_matched"}, steps, args.val_every),
        "protonet_searched": ("protonet", {**searched, "test_shifts": 0}, steps, args.val_every),
        "protonet_conv4": ("protonet", {"backbone": "conv4_matched", "test_shifts": 0}, steps, args.val_every),
        "maml_searched_long": ("maml", {**maml, **searched}, args.long_steps, long_every),
        "maml_conv4_long": ("maml", {**maml, "backbone": "conv4_matched"}, args.long_steps, long_every),
    }
    for key, (algorithm, hparams, stage_steps, val_every) in plans.items():
        if key in results["rows"] or not stage_steps:
            print(f"{key}: {'measured already' if stage_steps else 'not asked for'}, skipped", flush=True)
            continue
        print(f"{key}: {algorithm}, {stage_steps} meta-updates", flush=True)
        save(train_and_score(key, algorithm, hparams, stage_steps, val_every, args, runs))

    print(f"\nThis run: {(time.perf_counter() - started) / 60:.1f} min; results in {results_file}\n")
    print(table(results))
    print("\n" + machine_line(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
