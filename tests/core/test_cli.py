"""The headless commands, run as a user would: `python main.py COMMAND ...`."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.headless import main_py
from tests.shared_runs import copy_of_run
from tests.synthetic import distinct_image

ROOT = Path(__file__).resolve().parents[2]


cli = main_py


@pytest.fixture(scope="module")
def trained_run(cli_protonet_run, tmp_path_factory):
    """The short ProtoNet run `main.py train` made (tests/conftest.py), this module's own copy."""
    return copy_of_run(cli_protonet_run, tmp_path_factory, "cli")


@pytest.mark.slow
def test_train_writes_a_run_and_reports_progress(trained_run):
    config = json.loads((trained_run / "config.json").read_text())
    assert config["hparams"] == {"lr": "0.002"} or config["hparams"] == {"lr": 0.002}
    assert config["rotations"] is True and config["meta_batch"] == 2 and config["split"]["mode"] == "group"
    assert json.loads((trained_run / "status.json").read_text())["status"] == "completed"


def test_evaluate_prints_accuracy_with_a_confidence_interval(trained_run, glyphs_shared):
    result = cli("evaluate", trained_run, "--data", glyphs_shared, "--ways", 3, "--shots", 1, "--episodes", 20, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert 0 <= report["accuracy"] <= 1 and 0 <= report["ci95"] <= 1 and report["episodes"] == 20
    assert report["class_source"] == "test split of the run" and report["classes"] == 8


def test_adapt_labels_query_images_of_any_size_and_mode(trained_run, glyphs_shared, tmp_path):
    support, query = tmp_path / "support", tmp_path / "query" / "nested"
    query.mkdir(parents=True)
    sources = {"round": glyphs_shared / "group_2" / "class_00", "square": glyphs_shared / "group_2" / "class_01"}
    for name, folder in sources.items():
        (support / name).mkdir(parents=True)
        Image.open(folder / "img_00.png").save(support / name / "one.png")
        # The same class at another size and as RGB JPEG: preprocessing must bring it back to 28x28 gray.
        Image.open(folder / "img_05.png").convert("RGB").resize((90, 90)).save(query / f"{name}.jpg")
    (query / "broken.png").write_bytes(b"nope")
    result = cli("adapt", trained_run, "--support", support, "--query", tmp_path / "query", "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)
    assert len(predictions) == 2 and "broken.png" in result.stderr
    for item in predictions:
        assert set(item) >= {"path", "label", "confidence"}
        assert item["label"] in sources and 0.5 <= item["confidence"] <= 1.0
        assert Path(item["path"]).exists()


def test_adapt_refines_prototypes_with_the_query_images_unless_told_not_to(trained_run, glyphs_shared, tmp_path):
    support, query = tmp_path / "support", tmp_path / "query"
    query.mkdir()
    for name, folder in {"round": "class_00", "square": "class_01"}.items():
        (support / name).mkdir(parents=True)
        Image.open(glyphs_shared / "group_2" / folder / "img_00.png").save(support / name / "one.png")
        for i in (5, 6, 7):
            Image.open(glyphs_shared / "group_2" / folder / f"img_{i:02d}.png").save(query / f"{name}{i}.png")
    (query / "broken.png").write_bytes(b"nope")
    answers, reasons = {}, {}
    for flag in ("--refine", "--no-refine"):
        result = cli("adapt", trained_run, "--support", support, "--query", query, "--mode", "model", "--json", flag)
        assert result.returncode == 0, result.stderr
        assert "broken.png" in result.stderr
        answers[flag] = {Path(p["path"]).name: p["confidence"] for p in json.loads(result.stdout)}
        reasons[flag] = next(line for line in result.stderr.splitlines() if "adapted with" in line)
        assert len(answers[flag]) == 6
    assert "refined with 6 unlabelled images" in reasons["--refine"] and "refined" not in reasons["--no-refine"]
    assert answers["--refine"] != answers["--no-refine"]


def test_calibrate_fits_an_old_runs_calibration_again(trained_run, tmp_path):
    import shutil

    run = tmp_path / "old-run"
    shutil.copytree(trained_run, run)
    fitted = json.loads((run / "calibration.json").read_text())
    (run / "calibration.json").write_text(json.dumps({"temperatures": {"model": 5.0}}))  # as an earlier version left it
    result = cli("calibrate", run, "--json")
    assert result.returncode == 0, result.stderr
    again = json.loads((run / "calibration.json").read_text())
    assert again == json.loads(result.stdout)
    assert set(again["temperatures"]) == {"model", "pixels", "model+refined"}
    # The same validation episodes as at the end of training, so the same numbers.
    assert again["temperatures"]["model"] == pytest.approx(fitted["temperatures"]["model"], rel=1e-4)
    words = cli("calibrate", run)
    assert words.returncode == 0 and "model+refined: temperature" in words.stdout


def test_calibrate_says_why_when_a_run_has_no_validation_classes(glyphs_shared, tmp_path):
    run = tmp_path / "run"
    trained = cli("train", "--data", glyphs_shared, "--algorithm", "protonet", "--ways", 3, "--shots", 1, "--queries", 2,
                  "--steps", 2, "--val-fraction", 0, "--out", run, "--device", "cpu", "--quiet")
    assert trained.returncode == 0, trained.stderr
    result = cli("calibrate", run)
    assert result.returncode == 2 and "no validation classes" in result.stderr and "Traceback" not in result.stderr


def test_adapt_names_a_support_image_in_the_wrong_class_folder(trained_run, tmp_path):
    rng = np.random.default_rng(0)
    support, query = tmp_path / "support", tmp_path / "query"
    for folder, kind in ((support / "bar", 0), (support / "post", 1), (query, 0)):
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(3):
            distinct_image(kind, rng).save(folder / f"{kind}_{i}.png")
    distinct_image(1, rng).save(support / "bar" / "stray.png")  # a post dropped in the bar folder
    result = cli("adapt", trained_run, "--support", support, "--query", query, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "looks like" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {support / 'bar' / 'stray.png'} is labelled bar "
                                                         "but looks like post (")
    assert len(result.stdout.splitlines()) == 3  # stdout is still one line per query image
    # --batch --json answers each pair with its suspect labels.
    batch = tmp_path / "pairs.tsv"
    batch.write_text(f"{support}\t{query}\n")
    answer = json.loads(cli("adapt", trained_run, "--batch", batch, "--json", "--device", "cpu").stdout)
    assert [(s["path"], s["given"], s["likely"]) for s in answer["suspect_labels"]] == [
        (str(support / "bar" / "stray.png"), "bar", "post")]
    assert 0.8 <= answer["suspect_labels"][0]["confidence"] <= 1 and len(answer["predictions"]) == 3


def test_algorithms_json_lists_hyperparameters():
    result = cli("algorithms", "--json")
    listed = {a["name"]: a for a in json.loads(result.stdout)}
    assert {"protonet", "maml"} <= set(listed)
    names = [h["name"] for h in listed["maml"]["hyperparameters"]]
    assert {"inner_lr", "inner_steps", "first_order"} <= set(names)


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--data", "/no/such/folder", "--steps", 1], "Dataset path not found"),
        (["train", "--data", "{glyphs}", "--algorithm", "nonesuch"], "Unknown algorithm 'nonesuch'"),
        (["train", "--data", "{glyphs}", "--set", "lr=5"], "'lr' of protonet must be in"),
        (["train", "--data", "{glyphs}", "--set", "lr=abc"], "must be a number"),
        (["train", "--data", "{glyphs}", "--ways", 30, "--out", "{tmp}/r"], "fewer than the 30 ways"),
        (["evaluate", "{tmp}", "--episodes", 5], "is not a run folder"),
        (["adapt", "{tmp}/missing", "--support", "{tmp}", "--query", "{tmp}"], "Run folder not found"),
    ],
)
def test_errors_are_one_clear_line(args, words, glyphs_shared, tmp_path):
    args = [str(a).format(glyphs=glyphs_shared, tmp=tmp_path) for a in args]
    result = cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and words in lines[-1], result.stderr


def test_bad_files_are_reported_and_training_goes_on(glyphs, tmp_path):
    (glyphs / "group_0" / "class_00" / "zero.png").write_bytes(b"")
    (glyphs / "group_0" / "empty").mkdir()
    result = cli("train", "--data", glyphs, "--ways", 3, "--queries", 2, "--steps", 3, "--val-every", 3,
                 "--val-episodes", 2, "--out", tmp_path / "run", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "zero.png" in result.stderr and "empty file" in result.stderr
    problems = (tmp_path / "run" / "data_problems.txt").read_text()
    assert "zero.png" in problems and "empty" in problems


def test_no_usable_classes_is_one_clear_line(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "x.png").write_bytes(b"not a png")
    result = cli("train", "--data", tmp_path / "data", "--out", tmp_path / "run")
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: No usable classes: no class folder holds a readable image (the first of ")
    assert "x.png: not a readable image" in line  # and why
    assert not (tmp_path / "run").exists()  # nothing half-made


def test_classes_with_too_few_images_are_named(glyphs, tmp_path):
    small = glyphs / "group_0" / "class_00"
    for extra in sorted(small.glob("*.png"))[2:]:
        extra.unlink()
    result = cli("train", "--data", glyphs, "--ways", 3, "--train-ways", 3, "--queries", 3, "--steps", 2, "--val-every", 2,
                 "--val-episodes", 1, "--out", tmp_path / "run", "--device", "cpu", "--test-fraction", 0, "--val-fraction", 0)
    assert result.returncode == 0, result.stderr
    assert "group_0/class_00: has 2 images, fewer than shots + queries = 4; left out" in result.stderr


def test_evaluate_on_a_fixed_episode_file_scores_exactly_those_episodes(trained_run, glyphs_shared, tmp_path):
    episodes = [[["group_2/class_00", [0, 1, 2]], ["group_2/class_01", [3, 4, 5]], ["group_2/class_02", [1, 2, 3]]],
                [["group_2/class_03", [7, 6, 5]], ["group_2/class_04", [0, 2, 4]], ["group_2/class_05", [1, 3, 5]]]]
    spec = tmp_path / "episodes.json"
    spec.write_text(json.dumps({"ways": 3, "shots": 1, "queries": 2, "episodes": episodes}))
    first = cli("evaluate", trained_run, "--data", glyphs_shared, "--episode-file", spec, "--json")
    again = cli("evaluate", trained_run, "--data", glyphs_shared, "--episode-file", spec, "--json", "--seed", 9)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["episodes"] == 2 and report["classes"] == 6 and "episodes.json" in report["class_source"]
    assert json.loads(again.stdout)["accuracy"] == report["accuracy"]  # fixed episodes: the seed plays no part


@pytest.mark.parametrize("content, message", [
    ("not json", "not a readable JSON file"),
    ('{"ways": 3, "shots": 1, "queries": 2, "episodes": [[["group_2/class_00", [0, 1, 2]]]]}', "episode 0 must list 3 classes"),
    ('{"ways": 2, "shots": 1, "queries": 1, "episodes": [[["nope/x", [0, 1]], ["group_2/class_00", [0, 1]]]]}', "names class 'nope/x'"),
    ('{"ways": 2, "shots": 1, "queries": 1, "episodes": [[["group_2/class_01", [0, 99]], ["group_2/class_00", [0, 1]]]]}', "asks for image 99"),
    ('{"ways": "five", "shots": 1, "queries": 1, "episodes": []}', "field 'ways'"),
])
def test_a_broken_episode_file_is_named_with_its_problem(trained_run, glyphs_shared, tmp_path, content, message):
    spec = tmp_path / "episodes.json"
    spec.write_text(content)
    result = cli("evaluate", trained_run, "--data", glyphs_shared, "--episode-file", spec)
    assert result.returncode == 2 and message in result.stderr and "episodes.json" in result.stderr
