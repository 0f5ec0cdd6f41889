"""Numbers other tools read: TensorBoard event files, and a table of runs ready for a paper."""

import csv
import io
import json

import pytest

from workbench.cli import main as cli_main
from workbench.data.splits import SplitSpec
from workbench.runs.table import runs_table
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run


def config_for(data, **overrides):
    settings = dict(data=[str(data)], algorithm="protonet", ways=3, shots=1, queries=2, steps=6, val_every=3,
                    val_episodes=4, checkpoint_every=3, precision="fp32", device="cpu",
                    split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    settings.update(overrides)
    return RunConfig(**settings)


@pytest.fixture(scope="module")
def two_runs(glyphs_shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    assert run_to_end(train_run(config_for(glyphs_shared, tensorboard=True), root / "proto")).status == "completed"
    maml = config_for(glyphs_shared, algorithm="maml", shots=2, steps=3, hparams={"first_order": True, "inner_lr": 0.05})
    assert run_to_end(train_run(maml, root / "maml")).status == "completed"
    return root


def test_tensorboard_event_file_holds_the_runs_scalars(two_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = two_runs / "proto"
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/accuracy", "train/episodes_per_s", "val/loss", "val/accuracy", "val/ci95"} <= tags
    with (run / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    train = [(int(r["step"]), float(r["loss"])) for r in rows if r["phase"] == "train"]
    logged = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert [s for s, _ in logged] == [s for s, _ in train] == list(range(1, 7))
    assert [v for _, v in logged] == pytest.approx([v for _, v in train], rel=1e-4)
    val = [(int(r["step"]), float(r["accuracy"])) for r in rows if r["phase"] == "val"]
    assert [(e.step, pytest.approx(e.value, abs=1e-5)) for e in events.Scalars("val/accuracy")] == val
    assert not (two_runs / "maml" / "tensorboard").exists()  # only when asked for


def test_markdown_table_of_runs_with_accuracy_and_ci(two_runs):
    # An evaluated run: evaluation.json as `evaluate` saves it, here on a 5-way protocol.
    (two_runs / "maml" / "evaluation.json").write_text(json.dumps(
        {"accuracy": 0.8123, "ci95": 0.0311, "episodes": 600, "ways": 5, "shots": 2}))
    text, problems = runs_table([str(two_runs)], "markdown")
    lines = text.strip().splitlines()
    assert lines[0].startswith("| Run | Algorithm | Hyperparameters |") and len(lines) == 4 and not problems
    maml = next(line for line in lines if line.startswith("| maml |"))
    cells = [c.strip() for c in maml.strip("|").split("|")]
    assert cells[1:5] == ["maml", "first_order=True; inner_lr=0.05", "glyphs_shared0 +rotations (inverted)",
                          "3-way 2-shot, 2 queries"]  # dark glyphs on white: decided from the images
    assert cells[8] == "81.23 ± 3.11 (5-way 2-shot, 2 queries)"
    proto = [c.strip() for c in next(line for line in lines if line.startswith("| proto |")).strip("|").split("|")]
    status = json.loads((two_runs / "proto" / "status.json").read_text())
    assert proto[2] == "defaults" and proto[6] == "6"
    assert proto[7].startswith(f"{100 * status['best_val_accuracy']:.2f} ± ") and proto[8] == "–"


def test_csv_table_from_the_command_line(two_runs, tmp_path, capsys):
    out = tmp_path / "table.csv"
    assert cli_main(["table", str(two_runs / "proto"), str(two_runs / "maml"), str(tmp_path / "nothing"),
                     "--format", "csv", "--out", str(out)]) == 0
    assert "nothing: not a run folder" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["run"] for r in rows] == ["proto", "maml"]
    assert 0 <= float(rows[0]["val_accuracy"]) <= 1 and float(rows[0]["val_ci95"]) >= 0
    assert rows[0]["test_accuracy"] == "" and rows[0]["steps"] == "6" and rows[0]["meta_batch"] == "1"
    assert cli_main(["table", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("error: No run folders to tabulate")


def test_a_run_renamed_on_the_runs_page_is_tabled_by_its_name(two_runs, tmp_path):
    import shutil

    from workbench.runs.annotations import update_annotations

    root = tmp_path / "runs"
    shutil.copytree(two_runs / "proto", root / "proto")
    update_annotations(root / "proto", name="Baseline ProtoNet")
    text, problems = runs_table([str(root)], "markdown")
    assert "| Baseline ProtoNet | protonet |" in text and not problems
    (root / "proto" / "annotations.json").write_text("{ damaged", encoding="utf-8")
    assert "| proto | protonet |" in runs_table([str(root)], "markdown")[0]  # a damaged file: the folder's name
