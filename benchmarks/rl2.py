"""RL² (bandit and active) against MANN on Omniglot: accuracy by how often a class was presented.

    nohup timeout 3h .venv/bin/python benchmarks/rl2.py [--minutes 10] [--episodes 200] > benchmarks/results/rl2.log 2>&1 &

Santoro et al. 2016's protocol (their Table 1), for three learners trained through the workbench's own
runner for the same wall-clock budget each, on both minimal background zips of ../shared/data/omniglot
with two alphabets held out (benchmarks/_omniglot.py): 28x28, rotations as new classes, inverted pixels.
Training episodes are 5-way with 10 images per class (9 support + 1 query: 50 trials for RL²). Scored on
held-out episodes of 5 classes x 10 images in a random order, each a sequence of 50 trials:
- `rl2` bandit: the agent's greedy guess at each trial; it learns the labels only from rewards;
- `rl2` active: the agent guesses or asks (Woodward & Finn 2017); accuracy counts a guess right only when
  it guessed (an "ask" is neither), and the share of trials it asked at is given by presentation;
- `mann`: the label of each image is shown one trial later (Santoro et al.'s protocol).
Columns: accuracy at a class's 1st, 2nd, 5th and 10th presentation (share of those trials answered by a
right guess) and, for the active agent, the share of trials at which it asked.

Resumable: each run keeps its run folder under runs/benchmark_rl2/ (ignored by git) and the seconds it
has trained; started again, a finished run is only scored, an unfinished one resumes from its last
checkpoint for the rest of its budget, and a scored one is kept from benchmarks/results/rl2.json.
Without the Omniglot zips it says so and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks._omniglot import DATA, HELD_OUT, machine  # noqa: E402
from workbench.data.splits import SplitSpec  # noqa: E402
from workbench.runs.config import RunConfig  # noqa: E402
from workbench.training.events import TrainStep  # noqa: E402
from workbench.training.jobs import prepare_evaluation  # noqa: E402
from workbench.training.runner import train_run  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "rl2.json"
WORK = ROOT / "runs" / "benchmark_rl2"
PRESENTATIONS = (1, 2, 5, 10)
RL2 = {"backbone": "conv4_strided", "max_ways": 5, "lr": 3e-3, "hidden_size": 128}
RUNS = {
    "rl2_bandit": ("rl2", {**RL2, "task": "bandit"}, 8),
    # Both forms at the default entropy bonus (0.3); with 0.01 the active agent stopped guessing before it had
    # learnt to bind labels to images.
    "rl2_active": ("rl2", {**RL2, "task": "active"}, 8),
    "mann": ("mann", {}, 1),
}


def train(name: str, algorithm: str, hparams: dict, meta_batch: int, minutes: float, work: Path) -> Path:
    """Train (or finish training) one run for its budget; returns its folder."""
    run_dir = work / name
    clock = run_dir / "bench_seconds.json"
    status = run_dir / "status.json"
    if status.exists() and json.loads(status.read_text()).get("status") == "completed":
        return run_dir
    done = json.loads(clock.read_text())["seconds"] if clock.exists() else 0.0
    resume = (run_dir / "checkpoints" / "last.pt").exists()
    left = max(minutes * 60 - done, 1.0) if resume else minutes * 60
    config = RunConfig(
        data=[str(p) for p in DATA], algorithm=algorithm, hparams=hparams, ways=5, shots=9, queries=1,
        image_size=28, channels=1, rotations=True, mirror=False, augment=False, invert=True,
        split=SplitSpec("group", test_groups=HELD_OUT, val_fraction=0.05, seed=0), steps=10**7, meta_batch=meta_batch,
        seed=0, device="cpu", precision="fp32", val_every=200, val_episodes=40, checkpoint_every=100, time_limit_s=left,
    )
    print(f"{name}: {'resuming' if resume else 'training'} for {left:.0f} s", flush=True)
    started, last = time.perf_counter(), 0
    for event in train_run(config, run_dir, resume=resume):
        if isinstance(event, TrainStep):
            if event.step - last >= 100:
                last = event.step
                print(f"{name}: step {event.step} loss {event.loss:.3f} accuracy {event.accuracy:.3f}", flush=True)
            clock.write_text(json.dumps({"seconds": done + time.perf_counter() - started}))
    return run_dir


def presentation_index(labels: torch.Tensor) -> torch.Tensor:
    """1 for a class's first trial in the sequence, 2 for its second, ..."""
    one_hot = torch.nn.functional.one_hot(labels)
    return one_hot.cumsum(0)[torch.arange(len(labels)), labels]


def score(name: str, run_dir: Path, episodes: int) -> dict:
    """Play held-out sequences of 5 classes x 10 images: accuracy (and asking) by presentation."""
    setup = prepare_evaluation(str(run_dir), [str(p) for p in DATA], 5, 9, 1, seed=1, device="cpu", classes="test")
    algorithm = setup.algorithm
    algorithm.train_mode(False)
    generator = torch.Generator().manual_seed(1)
    right = torch.zeros(10)
    guessed = torch.zeros(10)
    asked = torch.zeros(10)
    seen = torch.zeros(10)
    for _ in range(episodes):
        episode = setup.sampler.sample()
        images = torch.cat([episode.support_x, episode.query_x])  # 10 images of each class
        labels = torch.cat([episode.support_y, episode.query_y])
        order = torch.randperm(len(labels), generator=generator)
        images, labels = images[order], labels[order]
        if algorithm.name == "mann":
            with torch.no_grad():
                _, logits = algorithm._run_support(algorithm._encode(images), labels, 5)
            actions = logits.argmax(1)
        else:
            actions = algorithm.play(images, labels, 5).actions[0]
        index = presentation_index(labels) - 1
        ask = actions == algorithm.hparams["max_ways"] if algorithm.name == "rl2" and algorithm.policy.active else \
            torch.zeros_like(labels, dtype=torch.bool)
        seen.index_add_(0, index, torch.ones(len(labels)))
        right.index_add_(0, index, (actions == labels).float())
        guessed.index_add_(0, index, (~ask).float())
        asked.index_add_(0, index, ask.float())
    row = {"run": name, "episodes": episodes}
    for k in PRESENTATIONS:
        row[f"accuracy_{k}"] = round((right[k - 1] / seen[k - 1]).item(), 4)
        row[f"guess_accuracy_{k}"] = round((right[k - 1] / guessed[k - 1].clamp_min(1)).item(), 4)
        row[f"asked_{k}"] = round((asked[k - 1] / seen[k - 1]).item(), 4)
    row["asked_all"] = round((asked.sum() / seen.sum()).item(), 4)
    status = json.loads((run_dir / "status.json").read_text())
    row["status"] = status.get("message", "")
    row["meta_updates"] = status.get("step")
    return row


def table(rows: list[dict]) -> str:
    head = "| run | " + " | ".join(f"{k}th" if k > 2 else ("1st" if k == 1 else "2nd") for k in PRESENTATIONS)
    lines = [head + " | asked (all trials) | asked 1st / 10th | meta-updates |", "|" + " --- |" * (len(PRESENTATIONS) + 4)]
    for row in rows:
        cells = []
        for k in PRESENTATIONS:
            cell = f"{row[f'accuracy_{k}']:.1%}"
            if row["asked_all"]:
                cell += f" ({row[f'guess_accuracy_{k}']:.1%} of guesses)"
            cells.append(cell)
        asked = f"{row['asked_all']:.1%}" if row["run"] == "rl2_active" else "-"
        first_last = f"{row['asked_1']:.1%} / {row['asked_10']:.1%}" if row["run"] == "rl2_active" else "-"
        lines.append(f"| {row['run']} | " + " | ".join(cells) + f" | {asked} | {first_last} | {row['meta_updates']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget of each run (wall clock)")
    parser.add_argument("--episodes", type=int, default=200, help="held-out sequences scored per run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    parser.add_argument("--work", type=Path, default=WORK, help="where the run folders go")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the JSON results file")
    args = parser.parse_args()
    results = args.results
    if not all(p.exists() for p in DATA):
        print(f"skipped: the Omniglot minimal zips are not in {DATA[0].parent} (see its README.md)")
        return
    torch.set_num_threads(args.threads)
    saved = json.loads(results.read_text()) if results.exists() else {}
    rows = {row["run"]: row for row in saved.get("rows", [])}
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}; torch threads {args.threads}", flush=True)
    for name, (algorithm, hparams, meta_batch) in RUNS.items():
        if name in rows:
            continue
        started = time.perf_counter()
        run_dir = train(name, algorithm, hparams, meta_batch, args.minutes, args.work)
        rows[name] = {**score(name, run_dir, args.episodes), "hparams": hparams, "meta_batch": meta_batch,
                      "minutes": args.minutes, "wall_seconds_this_session": round(time.perf_counter() - started, 1)}
        results.write_text(json.dumps({"machine": machine(), "command": " ".join(sys.argv), "threads": args.threads,
                                       "rows": list(rows.values())}, indent=1))
        print(table([rows[name]]), flush=True)
    print(table([rows[name] for name in RUNS if name in rows]), flush=True)


if __name__ == "__main__":
    main()
