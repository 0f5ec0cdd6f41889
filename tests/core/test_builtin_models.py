"""The built-in drawing model: it ships as a run folder, loads offline, labels a folder with no run trained,
and a damaged copy of its weights is refused with a sentence."""

import json
import shutil
from pathlib import Path

import pytest

from tests.headless import main_py
from tests.synthetic import make_glyph_dataset
from workbench.errors import RunFolderError
from workbench.runs.builtin import builtin_model, builtin_name, default_run_dir, provenance
from workbench.runs.model_loading import load_trained


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Three glyph classes, two labelled images each, and six images to label."""
    root = make_glyph_dataset(tmp_path_factory.mktemp("glyphs"), groups=1, classes_per_group=3, images_per_class=6)
    support, query = root.parent / "support", root.parent / "query"
    for folder in sorted((root / "group_0").iterdir()):
        images = sorted(folder.iterdir())
        (support / folder.name).mkdir(parents=True)
        for image in images[:2]:
            shutil.copy(image, support / folder.name / image.name)
        (query / folder.name).mkdir(parents=True)
        for image in images[2:4]:
            shutil.copy(image, query / folder.name / image.name)
    return support, query


def test_the_drawing_model_ships_with_its_provenance_and_loads():
    run_dir = default_run_dir()
    assert run_dir is not None and builtin_name(run_dir) == "drawings"
    made = provenance(run_dir)
    assert "train" in made["recipe"] and "--algorithm protonet" in made["recipe"]
    assert {d["file"] for d in made["data"]} == {"images_background_small1.zip", "images_background_small2.zip"}
    assert made["machine"] and made["steps"] >= 5000
    algorithm, config = load_trained(run_dir, "cpu")
    assert algorithm.name == "protonet" and config.channels == 1
    assert builtin_name("/somewhere/else") is None and builtin_model().title == "Drawings and symbols"


def test_adapt_with_no_run_uses_the_built_in_model(folders):
    support, query = folders
    result = main_py("adapt", "--support", support, "--query", query, "--json")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)
    assert len(predictions) == 6
    right = sum(p["label"] == p["path"].split("/")[-2] for p in predictions)
    assert right >= 5, predictions  # distinct glyph classes, two labelled images each
    said = main_py("adapt", "--support", support, "--query", query)
    assert said.returncode == 0 and "built-in model 'Drawings and symbols'" in said.stderr


def test_a_damaged_copy_of_its_weights_is_refused_with_a_sentence(tmp_path, folders):
    copy = tmp_path / "drawings"
    shutil.copytree(default_run_dir(), copy)
    (copy / "model.pt").write_bytes(b"not a model")
    with pytest.raises(RunFolderError):
        load_trained(str(copy), "cpu")
    support, query = folders
    result = main_py("adapt", str(copy), "--support", support, "--query", query)
    assert result.returncode == 2 and "model.pt" in result.stderr and "Traceback" not in result.stderr


def test_export_with_no_run_saves_the_built_in_models_classifier(tmp_path, folders):
    support, _ = folders
    out = tmp_path / "drawings.pt"
    result = main_py("export", "--support", support, "--format", "torchscript", "--out", out, "--mode", "model",
                     "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["classes"] == ["class_00", "class_01", "class_02"] and out.is_file()


def test_calibrating_the_built_in_model_is_refused_and_writes_nothing():
    calibration = Path(default_run_dir()) / "calibration.json"
    before = calibration.read_bytes()
    result = main_py("calibrate", default_run_dir())
    assert result.returncode == 2 and "built-in model and read-only" in result.stderr
    assert calibration.read_bytes() == before
