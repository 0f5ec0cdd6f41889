"""How many soft k-means steps refining should take: with every class labelled, and with half unlabelled.

    .venv/bin/python benchmarks/refine_steps.py --run RUN_DIR [--episodes 100] [--steps 1,2,3,5,10]

RUN_DIR is a ProtoNet run trained on Omniglot's first minimal background set (benchmarks/adapt_quality.py
trains one). On case (b) of benchmarks/adapt_quality.py, 20-way 1-shot within one unseen alphabet with
5 queries per class, the run's features refine the prototypes with all the queries
(adaptation/refine.py, the run's calibrated probabilities) for each number of steps, in two settings:

- every class labelled: the 20 prototypes, scored on all queries;
- half unlabelled: only 10 classes have their labelled image, the queries of all 20 still refine them
  (a folder holding classes nobody labelled, as on the Label page); scored on the 10 classes' queries.

Step 0 is no refining. Results go to benchmarks/results/refine_steps.json; a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from benchmarks._omniglot import cpu_name  # noqa: E402
from benchmarks.adapt_quality import TEST_ZIP, within_alphabet_file  # noqa: E402
from workbench.adaptation.calibration import power_logits  # noqa: E402
from workbench.adaptation.refine import refined_prototypes  # noqa: E402
from workbench.adaptation.spaces import ModelFeatures  # noqa: E402
from workbench.training.jobs import prepare_evaluation  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "refine_steps.json"


def accuracy(space, episodes, steps: int, labelled_ways: int, probabilities) -> float:
    scores = []
    for support, query, query_y in episodes:
        prototypes = support[:labelled_ways]  # one labelled image per class, class-major
        if steps:
            prototypes = refined_prototypes(prototypes, torch.ones(labelled_ways), query, probabilities, steps)
        scored = query_y < labelled_ways
        predicted = space.prototype_logits(query[scored], prototypes).argmax(1)
        scores.append((predicted == query_y[scored]).float().mean().item())
    return sum(scores) / len(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a ProtoNet run trained on images_background_small1")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--steps", default="0,1,2,3,5,10")
    args = parser.parse_args()
    if not TEST_ZIP.exists():
        print(f"skipped: {TEST_ZIP} is not there", file=sys.stderr)
        return 0
    episode_file = within_alphabet_file(Path(tempfile.mkdtemp(prefix="refine-steps-")) / "within.json", args.episodes)
    setup = prepare_evaluation(args.run, [str(TEST_ZIP)], 20, 1, 5, device="cpu", classes="all",
                               episode_file=str(episode_file))
    space = ModelFeatures(setup.algorithm)
    if not space.has_prototypes:
        print("error: the run's algorithm has no prototypes to refine", file=sys.stderr)
        return 2
    calibration = json.loads((Path(args.run) / "calibration.json").read_text())
    temperature, power = calibration["temperatures"]["model"], calibration["powers"].get("model", 1.0)

    def probabilities(rows, centres):  # as adapting refines: the plain calibrated pair
        return (power_logits(space.prototype_logits(rows, centres), power) / temperature).softmax(1)

    episodes = []
    for _ in range(args.episodes):
        episode = setup.sampler.sample()
        episodes.append((space.encode(episode.support_x), space.encode(episode.query_x), episode.query_y))
    rows = []
    for steps in (int(s) for s in args.steps.split(",")):
        row = {"steps": steps, "all_labelled": accuracy(space, episodes, steps, 20, probabilities),
               "half_unlabelled": accuracy(space, episodes, steps, 10, probabilities)}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"\n{cpu_name()}, {args.episodes} episodes of case (b)\n")
    print("| soft k-means steps | every class labelled (20-way) | half the classes unlabelled (10 of 20) |\n|---|---|---|")
    for row in rows:
        print(f"| {row['steps']} | {row['all_labelled']:.1%} | {row['half_unlabelled']:.1%} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": cpu_name(), "episodes": args.episodes, "run_steps": setup.config.steps,
                                   "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
