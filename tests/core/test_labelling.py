"""The labelling session without Qt: operations and undo, adapting, suggestions, export, session files."""

import csv
import json

import pytest
import torch

from tests.synthetic import flat_folder_of
from workbench import catalogue
from workbench.labelling import operations as ops
from workbench.labelling.adapter import Adapter
from workbench.labelling.export import csv_rows, export_to_class_folders, write_csv
from workbench.labelling.session import ACCEPTED, HUMAN, LabellingError, LabelSession, Prediction
from workbench.labelling.session_file import load_session, save_session
from workbench.labelling.suggestions import accept_predictions, least_confident


@pytest.fixture
def unlabelled(glyphs, tmp_path):
    """A flat folder of 24 glyph images from 3 classes (names say the true class), plus a broken file."""
    folder = flat_folder_of(glyphs / "group_0", tmp_path / "unlabelled", classes=3, per_class=8)
    (folder / "broken.png").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("not an image name")
    return folder


def make_session(folder) -> LabelSession:
    session = LabelSession.open_folder(folder)
    for name in ("round", "square"):
        ops.add_class(session, name).apply(session)
    return session


def test_labels_change_in_steps_that_revert_exactly(unlabelled):
    session = make_session(unlabelled)
    assert len(session.images) == 25 and "notes.txt" not in session.images
    first = ops.label_images(session, ["c0_0.png", "c0_1.png"], "round")
    first.apply(session)
    second = ops.label_images(session, ["c0_1.png"], "square")
    second.apply(session)
    assert session.labels["c0_1.png"].name == "square" and session.labels["c0_0.png"].source == HUMAN
    second.revert(session)
    assert session.labels["c0_1.png"].name == "round"
    rename = ops.rename_class(session, "round", "circle")
    rename.apply(session)
    assert session.classes == ["circle", "square"] and session.labels["c0_0.png"].name == "circle"
    remove = ops.remove_class(session, "circle")
    remove.apply(session)
    assert session.classes == ["square"] and session.labels == {}
    remove.revert(session)
    rename.revert(session)
    assert session.classes == ["round", "square"] and session.counts() == {"round": 2, "square": 0}
    clear = ops.label_images(session, ["c0_0.png"], None)
    clear.apply(session)
    assert "c0_0.png" not in session.labels


@pytest.mark.parametrize("name", ["", "  ", "a/b", "..", "square"])
def test_a_bad_class_name_is_refused_with_a_reason(unlabelled, name):
    session = make_session(unlabelled)
    with pytest.raises(LabellingError):
        ops.add_class(session, name)
    assert ops.next_class_name(session) == "class 3"


def adapter_for(name: str, session: LabelSession, **hparams) -> Adapter:
    torch.manual_seed(0)
    algorithm = catalogue.get(name)(1, 28, hparams, "cpu", "fp32")
    algorithm.train_mode(False)
    adapter = Adapter(algorithm, 28, 1)
    assert adapter.load_images(session.folder, session.images)
    return adapter


@pytest.mark.parametrize("name", ["protonet", "maml"])
def test_adapting_predicts_every_unlabelled_readable_image(unlabelled, name):
    session = make_session(unlabelled)
    labels = {"c0_0.png": "round", "c1_0.png": "square"}
    adapter = adapter_for(name, session)
    assert "cannot" in adapter.problems["broken.png"] or "not a readable image" in adapter.problems["broken.png"]
    targets = [p for p in session.images if p not in labels]
    result = adapter.predict(labels, session.classes, targets)
    assert set(result.predictions) == set(targets) - {"broken.png"}
    assert all(p.name in ("round", "square") and 0.5 <= p.confidence <= 1 for p in result.predictions.values())
    with pytest.raises(LabellingError, match="two classes"):
        adapter.predict({"c0_0.png": "round"}, session.classes, targets)


@pytest.mark.parametrize("test_shifts", [0, 1])
def test_protonet_cached_embeddings_give_what_adapt_gives(unlabelled, test_shifts):
    session = make_session(unlabelled)
    labels = {"c0_0.png": "round", "c0_1.png": "round", "c1_0.png": "square"}
    targets = [p for p in session.images if p not in labels]
    fast = adapter_for("protonet", session, test_shifts=test_shifts)
    slow = adapter_for("protonet", session, test_shifts=test_shifts)
    slow.uses_feature_cache = False
    a, b = fast.predict(labels, session.classes, targets), slow.predict(labels, session.classes, targets)
    assert fast.features is not None and slow.features is None
    assert a.reason == b.reason  # the same space was chosen, from cached features or from the images
    for path in a.predictions:
        assert a.predictions[path].name == b.predictions[path].name
        assert a.predictions[path].confidence == pytest.approx(b.predictions[path].confidence, abs=1e-4)


def test_suggest_least_confident_and_accept_confident_ones(unlabelled):
    session = make_session(unlabelled)
    ops.label_images(session, ["c0_0.png"], "round").apply(session)
    session.predictions = {"c0_1.png": Prediction("round", 0.97), "c1_1.png": Prediction("square", 0.55),
                           "c2_1.png": Prediction("square", 0.70), "c0_0.png": Prediction("square", 0.1)}
    assert least_confident(session, 2) == ["c1_1.png", "c2_1.png"]  # the labelled one is not suggested
    accept = accept_predictions(session, 0.9)
    accept.apply(session)
    assert session.labels["c0_1.png"].source == ACCEPTED and session.labels["c0_1.png"].confidence == 0.97
    assert "c2_1.png" not in session.labels
    accept.revert(session)
    assert "c0_1.png" not in session.labels
    with pytest.raises(LabellingError, match="No unlabelled image"):
        accept_predictions(session, 0.99)


def test_csv_has_one_row_per_image_with_its_source(unlabelled, tmp_path):
    session = make_session(unlabelled)
    ops.label_images(session, ["c0_0.png"], "round").apply(session)
    session.predictions = {"c0_1.png": Prediction("round", 0.95), "c1_1.png": Prediction("square", 0.6)}
    accept_predictions(session, 0.9).apply(session)
    count = write_csv(session, tmp_path / "out" / "labels.csv")
    with open(tmp_path / "out" / "labels.csv", newline="") as handle:
        rows = {r["path"]: r for r in csv.DictReader(handle)}
    assert count == len(rows) == 25 and rows == {r["path"]: r for r in csv_rows(session)}
    assert rows[str(unlabelled / "c0_0.png")] == {"path": str(unlabelled / "c0_0.png"), "label": "round",
                                                   "confidence": "", "source": "human"}
    assert rows[str(unlabelled / "c0_1.png")]["source"] == "accepted prediction"
    assert rows[str(unlabelled / "c0_1.png")]["confidence"] == "0.9500"
    assert rows[str(unlabelled / "c1_1.png")] == {"path": str(unlabelled / "c1_1.png"), "label": "square",
                                                   "confidence": "0.6000", "source": "predicted"}
    assert rows[str(unlabelled / "c2_2.png")]["source"] == "unlabelled"


def test_copy_into_class_folders_never_overwrites_and_move_keeps_failures_in_place(unlabelled, tmp_path):
    session = make_session(unlabelled)
    ops.label_images(session, ["c0_0.png", "c0_1.png"], "round").apply(session)
    ops.label_images(session, ["c1_0.png"], "square").apply(session)
    target = tmp_path / "sorted"
    (target / "round").mkdir(parents=True)
    (target / "round" / "c0_0.png").write_bytes(b"someone else's file")
    report = export_to_class_folders(session, target)
    assert not report.failed and len(report.done) == 3
    assert (target / "round" / "c0_0.png").read_bytes() == b"someone else's file"
    assert (target / "round" / "c0_0_2.png").read_bytes() == (unlabelled / "c0_0.png").read_bytes()
    assert (target / "square" / "c1_0.png").exists() and (unlabelled / "c1_0.png").exists()

    (unlabelled / "c0_1.png").unlink()  # vanished since the folder was opened: reported, the rest moves
    moved = export_to_class_folders(session, tmp_path / "moved", move=True)
    assert [src for src, _ in moved.failed] == [str(unlabelled / "c0_1.png")] and len(moved.done) == 2
    assert not (unlabelled / "c0_0.png").exists() and (tmp_path / "moved" / "round" / "c0_0.png").exists()
    with pytest.raises(LabellingError):
        export_to_class_folders(session, unlabelled)


def test_session_file_round_trips_and_a_damaged_one_names_file_and_field(unlabelled, tmp_path):
    session = make_session(unlabelled)
    ops.label_images(session, ["c0_0.png"], "round").apply(session)
    session.predictions = {"c0_1.png": Prediction("round", 0.95)}
    accept_predictions(session, 0.9).apply(session)
    session.model_run_dir, session.threshold = "/runs/a", 0.8
    path = tmp_path / "s.labels.json"
    save_session(session, path)
    loaded = load_session(path)
    assert not loaded.warnings
    again = loaded.session
    assert (again.folder, again.images, again.classes, again.labels, again.model_run_dir, again.threshold) == (
        session.folder, session.images, session.classes, session.labels, "/runs/a", 0.8)

    data = json.loads(path.read_text())
    data["labels"][1]["class"] = "triangle"
    path.write_text(json.dumps(data))
    with pytest.raises(LabellingError, match=r"s\.labels\.json: field 'labels\[1\]\.class'"):
        load_session(path)
    path.write_text('{"format": "fewshot-workbench-labelling", "version": 1, "fol')
    with pytest.raises(LabellingError, match="not readable JSON"):
        load_session(path)
    data["labels"][1]["class"] = "round"
    data["threshold"] = "high"
    path.write_text(json.dumps(data))
    with pytest.raises(LabellingError, match="field 'threshold'"):
        load_session(path)

    data["threshold"] = 0.5
    path.write_text(json.dumps(data))
    (unlabelled / "c0_0.png").unlink()
    loaded = load_session(path)
    assert "c0_0.png" not in loaded.session.labels and "no longer in" in loaded.warnings[0]


def test_accepting_says_how_many_accepted_labels_are_expected_wrong(unlabelled):
    from workbench.labelling.suggestions import describe_acceptance, expected_wrong

    session = make_session(unlabelled)
    session.predictions = {"c0_1.png": Prediction("round", 0.95), "c1_1.png": Prediction("square", 0.93),
                           "c2_1.png": Prediction("square", 0.50)}
    assert expected_wrong(session, ["c0_1.png", "c1_1.png"]) == pytest.approx(0.12)
    assert describe_acceptance(session, 0.9) == ("Accept 2 predictions at 90% or more; "
                                                 "about 0.1 of them are expected to be wrong.")
    assert "No unlabelled image" in describe_acceptance(session, 0.99)


def test_accept_all_never_takes_a_set_expected_less_than_ninety_percent_right(unlabelled):
    from workbench.labelling.suggestions import acceptable_predictions, describe_acceptance, expected_wrong

    session = make_session(unlabelled)
    session.predictions = {"c0_1.png": Prediction("round", 0.99), "c1_1.png": Prediction("square", 0.97),
                           "c2_1.png": Prediction("square", 0.80), "c0_2.png": Prediction("round", 0.60)}
    # At 50% all four are confident, but together expected 84% right: the least sure is left out.
    taken = acceptable_predictions(session, 0.5)
    assert sorted(taken) == ["c0_1.png", "c1_1.png", "c2_1.png"]
    assert 1 - expected_wrong(session, taken) / len(taken) >= 0.9
    words = describe_acceptance(session, 0.5)
    assert words.startswith("Accept 3 predictions at 50% or more") and "1 less confident prediction is left" in words
    accept_predictions(session, 0.5).apply(session)
    assert "c0_2.png" not in session.labels and session.labels["c2_1.png"].source == ACCEPTED
    # Accept selected is the person's own choice: it takes what they selected, however unsure.
    accept_predictions(session, 0.0, ["c0_2.png"], floor=0.0).apply(session)
    assert session.labels["c0_2.png"].name == "round"
    # Nothing sure enough: a clear message, not an empty step.
    session.predictions["c1_2.png"] = Prediction("square", 0.7)
    with pytest.raises(LabellingError, match="Accept selected"):
        accept_predictions(session, 0.5)
