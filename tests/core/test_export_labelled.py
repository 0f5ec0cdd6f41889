"""export_labelled: a labelling session's labels give the model `export` gives for the same images in class folders."""

import json
import shutil

import pytest
import torch

from tests.synthetic import flat_folder_of
from workbench.data.splits import SplitSpec
from workbench.export import ExportError, export_adapted, export_labelled
from workbench.runs.config import RunConfig
from workbench.training.jobs import read_query_folder
from workbench.training.runner import run_to_end, train_run


@pytest.fixture(scope="module")
def run(glyphs_shared, tmp_path_factory):
    run = tmp_path_factory.mktemp("labelled-export") / "run"
    config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=3, shots=1, queries=2, steps=4, val_every=4,
                       val_episodes=2, checkpoint_every=4, precision="fp32", device="cpu",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    assert run_to_end(train_run(config, run)).status == "completed"
    return run


@pytest.fixture
def flat(glyphs_shared, tmp_path):
    """A flat folder of 3 classes x 4 images, as a person labels it; the name tells the class."""
    return flat_folder_of(glyphs_shared / "group_2", tmp_path / "photos", classes=3, per_class=4)


def test_labels_export_the_file_class_folders_export(run, flat, tmp_path):
    # The session's classes in its own order (not alphabetical), labels made in any order.
    labels = {"c2_1.png": "zigzag", "c0_0.png": "ring", "c1_0.png": "cross", "c0_2.png": "ring", "c2_0.png": "zigzag"}
    support = tmp_path / "support"  # what the Label page's Class folders › Copy makes of them
    for path, name in labels.items():
        (support / name).mkdir(parents=True, exist_ok=True)
        shutil.copy(flat / path, support / name / path)
    from_labels = export_labelled(run, flat, labels, "torchscript", tmp_path / "labels.pt", mode="model")
    from_folders = export_adapted(run, support, "torchscript", tmp_path / "folders.pt", mode="model")
    assert from_labels.classes == from_folders.classes == ("cross", "ring", "zigzag")
    assert from_labels.images_per_class == from_folders.images_per_class == (1, 2, 2)
    assert from_labels.reason == from_folders.reason and from_labels.to_json()["images_per_class"] == [1, 2, 2]
    assert (json.loads((tmp_path / "labels.pt.classes.json").read_text())
            == json.loads((tmp_path / "folders.pt.classes.json").read_text()))
    _, images, _ = read_query_folder(str(flat), 28, 1)
    with torch.no_grad():
        a = torch.jit.load(str(tmp_path / "labels.pt"))(images)
        b = torch.jit.load(str(tmp_path / "folders.pt"))(images)
    assert torch.allclose(a, b, atol=1e-6)


def test_labels_that_cannot_make_a_model_are_one_sentence(run, flat, tmp_path):
    out = tmp_path / "model.pt"
    with pytest.raises(ExportError, match="at least two classes"):
        export_labelled(run, flat, {"c0_0.png": "ring", "c0_1.png": "ring"}, "torchscript", out)
    (flat / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ExportError, match="None of the images labelled 'cross' can be read now"):
        export_labelled(run, flat, {"c0_0.png": "ring", "broken.png": "cross"}, "torchscript", out)
    assert not out.exists()
    # One unreadable image of a class with others is left out and said.
    result = export_labelled(run, flat, {"c0_0.png": "ring", "c1_0.png": "cross", "broken.png": "cross"},
                             "torchscript", out, mode="model")
    assert result.images_per_class == (1, 1) and len(result.problems) == 1 and "broken.png" in result.problems[0]
