"""Demo dataset, projections, run store and project files: the core of the Inspect and Runs pages."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.data.demo import make_demo_dataset
from workbench.inspect.projection import pca_2d, tsne_2d
from workbench.projects.project import Project, ProjectError, load_project
from workbench.runs.store import RunStore


def test_demo_dataset_has_the_stated_classes_of_decodable_pngs(tmp_path):
    root = make_demo_dataset(tmp_path / "demo", classes=12, images_per_class=5, classes_per_alphabet=4, seed=3)
    classes = sorted(p for p in root.glob("*/*") if p.is_dir())
    assert len(classes) == 12 and len({c.parent for c in classes}) == 3
    pixels = {}
    for folder in classes:
        files = sorted(folder.glob("*.png"))
        assert len(files) == 5
        for f in files:
            with Image.open(f) as image:
                image.load()
                assert image.size == (28, 28)
                pixels[f] = np.asarray(image)
    # Ink on paper, and a class's images alike but not identical.
    first = [pixels[f] for f in sorted(classes[0].glob("*.png"))]
    assert all((img < 128).mean() > 0.02 for img in first)
    assert not np.array_equal(first[0], first[1])
    again = make_demo_dataset(tmp_path / "again", classes=12, images_per_class=5, classes_per_alphabet=4, seed=3)
    assert np.array_equal(np.asarray(Image.open(again / classes[0].relative_to(root) / "00.png")), first[0])


def test_projections_keep_separated_classes_apart():
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 32, generator=generator) * 6
    labels = torch.arange(4).repeat_interleave(10)
    features = centres[labels] + torch.randn(40, 32, generator=generator)
    for xy in (pca_2d(features), tsne_2d(features, iterations=300)):
        assert xy.shape == (40, 2) and torch.isfinite(xy).all()
        distances = torch.cdist(xy, xy).fill_diagonal_(float("inf"))
        assert (labels[distances.argmin(1)] == labels).float().mean() >= 0.95


def test_run_store_lists_a_damaged_run_instead_of_hiding_it(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    (tmp_path / "not-a-run").mkdir()
    runs = RunStore(tmp_path).scan()
    assert [r.name for r in runs] == ["broken"] and runs[0].status == "damaged"
    assert "not valid JSON" in runs[0].message


def test_project_round_trip_with_relative_paths_and_named_field_errors(tmp_path):
    data = tmp_path / "exp" / "data"
    data.mkdir(parents=True)
    path = Project("exp", [str(data)], str(tmp_path / "exp" / "runs"), [], {"algorithm": "protonet"}).save(
        tmp_path / "exp" / "exp.fswproj")
    stored = json.loads(path.read_text())
    assert stored["datasets"] == ["data"] and stored["runs_root"] == "runs"
    moved = tmp_path / "moved"
    (tmp_path / "exp").rename(moved)
    project = load_project(moved / "exp.fswproj")
    assert project.datasets == [str(moved / "data")] and project.settings == {"algorithm": "protonet"}
    bad = tmp_path / "bad.fswproj"
    bad.write_text(json.dumps({"format": 1, "runs_root": 5}))
    with pytest.raises(ProjectError, match=r"bad\.fswproj: field 'runs_root' must be text"):
        load_project(bad)
