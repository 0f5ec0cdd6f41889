"""How good adapted predictions are, per adapt mode, on three cases a person would meet.

    .venv/bin/python benchmarks/adapt_quality.py [--minutes 15] [--run RUN_DIR]

1. Trains ProtoNet on Omniglot's first minimal background set (5 alphabets, 136 characters)
   with the defaults of `main.py train` — only data, algorithm, ways and shots are passed —
   unless --run names a run trained that way already.
2. Scores every adapt mode and baseline on:
   (a) 5-way 1-shot on alphabets the run never saw: the fixed 600 episodes of
       ../shared/data/omniglot/test_episodes_small1_vs_small2.json (Japanese, Sanskrit, Tagalog);
   (b) 20-way 1-shot *within* one unseen alphabet (Lake et al. 2015's harder protocol, our
       version): the 20 characters of an episode all come from Japanese (katakana) or from
       Sanskrit, one labelled image each, 5 queries each;
   (c) another domain: the workbench's demo glyphs (random pen strokes, another "handwriting"),
       10-way 5-shot 15-query;
   (d) product photographs (Fashion-MNIST's test set, 28 px grayscale) and (e) printed characters in every
       installed typeface (benchmarks/_cross_domain.py): a run trained on handwriting labels another domain,
       at 5 and 10 ways, 1 and 5 shots, 15 queries; skipped with the reason when not installable.
   Each cell: accuracy +- 95% CI, expected calibration error, and the precision of the
   predictions at >= 90% confidence (what "Accept all >= 90%" would accept).
Rows: raw-pixel nearest neighbour, frozen pretrained network, the run's model frozen with each
query predicted alone (`model:alone`, i.e. `--no-refine`) and with the episode's queries refining
its prototypes (`model`, adaptation/refine.py), fine-tuned, and `auto` (the default of
evaluate/adapt/labelling, which refines).
Results go to benchmarks/results/adapt_quality.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._cross_domain import fashion_folder, font_glyph_folder  # noqa: E402
from benchmarks._omniglot import OMNIGLOT, cpu_name  # noqa: E402
from workbench.training.jobs import evaluate_run  # noqa: E402

TRAIN_ZIP = OMNIGLOT / "images_background_small1.zip"
TEST_ZIP = OMNIGLOT / "images_background_small2.zip"
FIXED = OMNIGLOT / "test_episodes_small1_vs_small2.json"
WITHIN = ("Japanese_(katakana)", "Sanskrit")  # Tagalog has 17 characters: too few for 20 ways
MODES = ("pixels", "pretrained", "model:alone", "model", "finetune", "auto")
RESULTS = ROOT / "benchmarks" / "results" / "adapt_quality.json"


def train(minutes: float, out: Path) -> dict:
    command = [sys.executable, str(ROOT / "main.py"), "train", "--data", str(TRAIN_ZIP), "--algorithm", "protonet",
               "--ways", "20", "--shots", "1", "--time-limit", str(minutes * 60), "--out", str(out), "--json"]
    begin = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["seconds"] = round(time.perf_counter() - begin, 1)
    summary["command"] = " ".join(["main.py", *command[2:]])
    return summary


def within_alphabet_file(path: Path, episodes: int, seed: int = 0) -> Path:
    """20-way 1-shot 5-query episodes, each from the characters of one held-out alphabet."""
    with zipfile.ZipFile(TEST_ZIP) as archive:
        names = [n for n in archive.namelist() if n.endswith(".png")]
    per_class: dict[str, int] = {}
    for name in names:
        parts = name.split("/")
        if len(parts) >= 3 and parts[-3] in WITHIN:
            key = f"{parts[-3]}/{parts[-2]}"
            per_class[key] = per_class.get(key, 0) + 1
    rng = random.Random(seed)
    chosen = []
    for e in range(episodes):
        alphabet = WITHIN[e % len(WITHIN)]
        keys = sorted(k for k in per_class if k.startswith(alphabet + "/"))
        chosen.append([[key, rng.sample(range(per_class[key]), 6)] for key in rng.sample(keys, 20)])
    path.write_text(json.dumps({"ways": 20, "shots": 1, "queries": 5, "episodes": chosen}))
    return path


def demo_glyphs(folder: Path) -> Path:
    from workbench.data.demo import make_demo_dataset

    return Path(make_demo_dataset(folder, classes=60, images_per_class=20, seed=11))


def make_cases(work: Path, fixed_episodes: int, episodes: int, wanted: str = "abcde") -> dict:
    """The cases, by name: (data, episode file or None, ways, shots, queries, episodes)."""
    cases = {}
    if "a" in wanted:
        fixed = work / "fixed.json"
        spec = json.loads(FIXED.read_text())
        spec["episodes"] = spec["episodes"][:fixed_episodes]
        fixed.write_text(json.dumps(spec))
        cases["a"] = (TEST_ZIP, fixed, 5, 1, 15, fixed_episodes)
    if "b" in wanted:
        cases["b"] = (TEST_ZIP, within_alphabet_file(work / "within.json", episodes), 20, 1, 5, episodes)
    if "c" in wanted:
        cases["c"] = (demo_glyphs(work / "demo"), None, 10, 5, 15, episodes)
    for letter, build in (("d", fashion_folder), ("e", font_glyph_folder)):
        if letter not in wanted:
            continue
        folder, why = build(work / letter)
        if folder is None:
            print(f"case ({letter}) skipped: {why}", file=sys.stderr)
            continue
        for ways, shots in ((5, 1), (5, 5), (10, 1), (10, 5)):
            cases[f"{letter} {ways}w{shots}s"] = (folder, None, ways, shots, 15, episodes)
    return cases


def score(run: str, case: str, mode: str, data: Path, episodes: int, episode_file: Path | None,
          ways: int, shots: int, queries: int) -> dict:
    """One cell. `mode` is an adapt mode, or one with `:alone` (`--no-refine`: each query predicted from
    the labelled images alone, not refined with the episode's other queries)."""
    begin = time.perf_counter()
    adapt_mode, _, alone = mode.partition(":")
    report = evaluate_run(run, [str(data)], ways, shots, queries, episodes=episodes, seed=3, device="cpu",
                          classes="all", episode_file=str(episode_file) if episode_file else None, mode=adapt_mode,
                          refine=alone != "alone")
    r = report.result
    c = r.calibration
    return {"case": case, "mode": mode, "accuracy": r.accuracy, "ci95": r.ci95, "episodes": r.episodes,
            "ece": c.ece, "accepted_share": c.accepted_share,
            "accepted_precision": None if c.accepted_share == 0 else c.accepted_precision,
            "chosen": dict(r.chosen), "seconds": round(time.perf_counter() - begin, 1)}


def cell(row: dict | None) -> str:
    if row is None:
        return "–"
    precision = "none ≥ 90%" if row["accepted_precision"] is None else (
        f"{row['accepted_precision']:.1%} of {row['accepted_share']:.0%}")
    return f"{row['accuracy']:.1%} ± {row['ci95']:.1%} · ECE {row['ece']:.1%} · ≥90%: {precision}"


CASE_TITLES = {"a": "(a) 5-way 1-shot, unseen alphabets", "b": "(b) 20-way 1-shot within an unseen alphabet",
               "c": "(c) demo glyphs, 10-way 5-shot", "d": "(d) product photos", "e": "(e) printed characters"}


def markdown_table(rows: list[dict]) -> list[str]:
    """One line per case and mode: accuracy +- CI, ECE, >= 90% precision, and what `auto` chose."""
    table = ["| case | adapt mode | accuracy · ECE · right at ≥ 90% | chosen |", "|---|---|---|---|"]
    for row in rows:
        letter, _, setting = row["case"].partition(" ")
        title = CASE_TITLES[letter] + (f", {setting.replace('w', '-way ').replace('s', '-shot')}" if setting else "")
        chosen = ", ".join(f"{k} {v}" for k, v in sorted(row["chosen"].items())) if row["mode"] == "auto" else ""
        table.append(f"| {title} | {row['mode']} | {cell(row)} | {chosen} |")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="training budget (default 15)")
    parser.add_argument("--run", help="score this run instead of training one")
    parser.add_argument("--episodes", type=int, default=300, help="episodes per case for (b) and (c) (default 300)")
    parser.add_argument("--fixed-episodes", type=int, default=600, help="of the 600 fixed episodes of (a), how many")
    parser.add_argument("--slow-episodes", type=int, default=40,
                        help="episodes per case for the fine-tuned row, which is slow on a CPU (the pretrained "
                             "network's features are cached by image, so its rows and auto's take every episode)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated adapt modes; MODE:alone scores MODE with --no-refine")
    parser.add_argument("--cases", default="abcde", help="which cases, by letter (default abcde)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args()
    if not (TRAIN_ZIP.exists() and TEST_ZIP.exists() and FIXED.exists()):
        print(f"skipped: the Omniglot data is not in {OMNIGLOT}", file=sys.stderr)
        return 0
    work = Path(tempfile.mkdtemp(prefix="adapt-quality-"))
    training = None
    run = args.run
    if not run:
        training = train(args.minutes, work / "run")
        run = training["run_dir"]
        print(f"trained: {training}", file=sys.stderr)
    cases = make_cases(work, args.fixed_episodes, args.episodes, args.cases)
    rows = []
    for case, (data, episode_file, ways, shots, queries, episodes) in cases.items():
        for mode in args.modes.split(","):
            if mode.partition(":")[0] == "finetune":
                episodes = min(episodes, args.slow_episodes)
                if episode_file is not None:
                    cut = json.loads(episode_file.read_text())
                    cut["episodes"] = cut["episodes"][:episodes]
                    episode_file = work / f"{case}-{episodes}.json"
                    episode_file.write_text(json.dumps(cut))
            row = score(run, case, mode, data, episodes, episode_file, ways, shots, queries)
            rows.append(row)
            print(f"{mode} ({case}): {cell(row)} [{row['seconds']} s, chose {row['chosen']}]", file=sys.stderr)
    print("\n".join(markdown_table(rows)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = json.loads((Path(run) / "config.json").read_text())
    trained = {key: config.get(key) for key in ("image_size", "steps", "train_ways", "invert", "rotations", "mirror")}
    args.out.write_text(json.dumps({"machine": cpu_name(), "training": training, "run": run, "run_config": trained,
                                    "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
