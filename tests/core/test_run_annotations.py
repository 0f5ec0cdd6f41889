"""A run's name, note and tags (annotations.json), deleting a run to the trash and back, its loss curves and
two runs' settings side by side, without Qt."""

import json
import os

import pytest

from workbench.errors import RunFolderError
from workbench.runs.annotations import (
    ANNOTATIONS_FILE,
    ANNOTATIONS_LIMIT,
    AnnotationError,
    Annotations,
    load_annotations,
    parse_tags,
    read_annotations,
    update_annotations,
)
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder
from workbench.runs.lock import RunLock
from workbench.runs.settings_compare import compare_settings
from workbench.runs.store import RunStore, read_curves, summarize
from workbench.runs.trash import check_deletable, move_to_trash, restore


def make_run(root, name="run-a", **settings):
    """A real run folder as training starts it (config, status, empty metrics), with no training done."""
    config = RunConfig(data=[str(root / "data")], algorithm="protonet", **settings)
    return RunFolder.create(root / name, config, {"python": "3"}).path


def test_a_name_note_and_tags_are_saved_and_shown_in_the_run_list(tmp_path):
    run = make_run(tmp_path)
    saved, kept = update_annotations(run, name="  Baseline\n ProtoNet ", tags="baseline, lr sweep, Baseline, ")
    assert kept == "" and saved == Annotations("Baseline ProtoNet", "", ("baseline", "lr sweep"))
    saved, _ = update_annotations(run, note="Tried the default learning rate.\nPlateaus early.")
    assert saved.name == "Baseline ProtoNet" and saved.tags == ("baseline", "lr sweep")  # the other fields stay
    assert read_annotations(run).note == "Tried the default learning rate.\nPlateaus early."
    summary = summarize(run)
    assert summary.name == "Baseline ProtoNet" and summary.folder_name == "run-a" and summary.path == str(run)
    assert summary.tags == ("baseline", "lr sweep") and summary.note.startswith("Tried")
    update_annotations(run, name="")  # an empty name shows the folder's again
    assert summarize(run).name == "run-a" and run.is_dir()


@pytest.mark.parametrize("text, words", [
    ("x" * 41, "at most 40 characters"),
    (",".join(f"t{i}" for i in range(31)), "at most 30 tags"),
])
def test_tags_that_cannot_be_kept_are_refused_in_one_sentence_and_nothing_changes(tmp_path, text, words):
    run = make_run(tmp_path)
    update_annotations(run, tags="kept")
    with pytest.raises(AnnotationError, match=words):
        update_annotations(run, tags=text)
    assert read_annotations(run).tags == ("kept",)
    with pytest.raises(AnnotationError, match="at most 120 characters"):
        update_annotations(run, name="n" * 121)
    assert parse_tags(["a\x00b", " c  d "]) == ("a b", "c d")


@pytest.mark.parametrize("content, words", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object, found list"),
    (json.dumps({"name": 5, "note": "kept note", "tags": "a,b"}).encode(), "field 'name' must be text"),
    (json.dumps({"name": "ok", "tags": ["fine", 3]}).encode(), "field 'tags' must be a list of text"),
    (json.dumps({"name": "n" * 500}).encode(), "field 'name'"),
    (b"\xff\xfe not utf-8", "not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, "nested more than"),
])
def test_a_damaged_annotations_file_is_named_and_kept_aside_when_the_run_is_next_edited(tmp_path, content, words):
    run = make_run(tmp_path)
    (run / ANNOTATIONS_FILE).write_bytes(content)
    found, problem = load_annotations(run)
    assert words in problem and str(run / ANNOTATIONS_FILE) in problem and "\n" not in problem
    with pytest.raises(AnnotationError, match=words):
        read_annotations(run)
    summary = summarize(run)  # the run is listed as it is, the problem beside it
    assert summary.status != "damaged" and summary.annotation_problem == problem
    if words == "field 'name' must be text":
        assert found.note == "kept note"  # the fields that can be read are shown
    saved, kept = update_annotations(run, tags="new")
    assert saved.tags == ("new",) and "annotations.damaged.json" in kept and "a new one was written" in kept
    assert (run / "annotations.damaged.json").read_bytes() == content  # nothing of it is lost
    assert read_annotations(run).tags == ("new",)


def test_a_huge_or_special_annotations_file_is_refused_by_size_or_type_before_it_is_read(tmp_path):
    run = make_run(tmp_path)
    with open(run / ANNOTATIONS_FILE, "wb") as handle:
        handle.truncate(ANNOTATIONS_LIMIT + 1)  # sparse: huge to a reader, nothing on disk
    _, problem = load_annotations(run)
    assert "more than the 262144 bytes a run notes file may be" in problem
    update_annotations(run, note="fresh")
    assert os.path.getsize(run / "annotations.damaged.json") == ANNOTATIONS_LIMIT + 1
    if hasattr(os, "mkfifo"):
        other = make_run(tmp_path, "run-b")
        os.mkfifo(other / ANNOTATIONS_FILE)  # a pipe would block a plain reader for ever
        _, problem = load_annotations(other)
        assert "is a named pipe, not a run notes file" in problem


def test_a_run_goes_to_the_trash_and_back(tmp_path):
    run = make_run(tmp_path)
    update_annotations(run, tags="gone soon")
    trashed = move_to_trash(run, "run-a")
    assert not run.exists() and trashed.restorable
    # In the trash of the disk the run is on (the tests' own: tests/conftest.py sets XDG_DATA_HOME).
    assert (trashed.file / "config.json").is_file() and trashed.info.read_text().startswith("[Trash Info]")
    restore(trashed)
    assert read_annotations(run).tags == ("gone soon",) and not trashed.info.exists()
    # Trashed twice: Undo puts back the newest; a folder of that name made meanwhile is never replaced.
    again = move_to_trash(run, "run-a")
    make_run(tmp_path)
    with pytest.raises(RunFolderError, match="is at .* again; the run stays in the trash"):
        restore(again)
    assert again.file.is_dir()


def test_a_run_that_is_training_or_built_in_is_not_deleted(tmp_path):
    run = make_run(tmp_path)
    with RunLock(run):  # what a training holds while it writes the run
        with pytest.raises(RunFolderError, match="'run-a' is being trained now .*wait for it to finish or stop it"):
            check_deletable(run, "run-a", builtin=False)
        with pytest.raises(RunFolderError, match="was not deleted: .* is being written by another training"):
            move_to_trash(run, "run-a")
    assert (run / "config.json").is_file()
    with pytest.raises(RunFolderError, match="ships with the workbench and cannot be deleted"):
        check_deletable(run, "Built-in: Drawings", builtin=True)
    assert [r.name for r in RunStore(tmp_path).scan()] == ["run-a"]


def test_an_algorithm_file_may_not_replace_the_annotations(tmp_path):
    run = make_run(tmp_path)
    update_annotations(run, note="mine")
    with pytest.raises(RunFolderError, match="only a plain .json file name that is not one of the run's own"):
        RunFolder(run).save_model({}, {ANNOTATIONS_FILE: {"note": "the algorithm's"}})
    assert read_annotations(run).note == "mine"


def test_loss_curves_are_read_beside_accuracy(tmp_path):
    run = make_run(tmp_path)
    RunFolder(run).append_metrics([
        {"step": 1, "phase": "train", "loss": 2.5, "accuracy": 0.3, "elapsed_s": 1.0},
        {"step": 2, "phase": "train", "loss": 2.0, "accuracy": "", "elapsed_s": 2.0},  # no accuracy: loss still drawn
        {"step": 2, "phase": "val", "loss": 1.5, "accuracy": 0.5},
    ])
    curves = read_curves(run)
    assert list(curves.train_loss) == [2.5, 2.0] and list(curves.val_loss) == [1.5]
    assert curves.train_accuracy[0] == 0.3 and curves.train_accuracy[1] != curves.train_accuracy[1]  # nan


def test_two_runs_settings_side_by_side_mark_what_differs(tmp_path):
    first = make_run(tmp_path, "a", hparams={"lr": 0.001}, shots=1)
    second = make_run(tmp_path, "b", hparams={"lr": 0.003}, shots=5)
    rows, problems = compare_settings(first, second)
    assert problems == []
    differing = {r.label: (r.first, r.second) for r in rows if r.differs}
    assert differing == {"Shots": ("1", "5"), "Learning rate (lr)": ("0.001", "0.003")}
    assert {"Ways", "Seed", "Split", "Validation share", "Steps"} <= {r.label for r in rows}
    (second / "config.json").write_text("{broken")
    rows, problems = compare_settings(first, second)
    assert len(problems) == 1 and "not valid JSON" in problems[0]
    assert all(r.second == "—" for r in rows)
