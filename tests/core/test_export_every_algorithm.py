"""Every registered algorithm, trained for a few steps, goes through the CLI's export function and the
labelling adapter; the exported model predicts what `adapt --mode model` predicts, and an algorithm
that cannot be exported says so in words."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from workbench import catalogue
from workbench.data.splits import SplitSpec
from workbench.export import ExportError, can_export, export_adapted
from workbench.labelling.adapter import Adapter
from workbench.runs.model_loading import load_trained
from workbench.runs.config import RunConfig
from workbench.training.jobs import adapt_and_predict, read_query_folder
from workbench.training.runner import run_to_end, train_run

ALGORITHMS = sorted(catalogue.available())
# Smaller than the defaults where those are slow on a CPU; the shapes of what they adapt stay the same.
FAST = {
    "maml": {"first_order": True},
    "meta_lstm": {"inner_steps": 2, "eval_inner_steps": 2},
    "mann": {"controller_size": 32, "memory_rows": 16},
    "baseline": {"adapt_steps": 5},
    "baseline_pp": {"adapt_steps": 5},
    "reptile": {"inner_steps": 2, "eval_inner_steps": 5},
}
CLASSES = (("ring", "class_00"), ("bar", "class_01"), ("dot", "class_02"))


@pytest.fixture(scope="module")
def folders(glyphs_shared, tmp_path_factory):
    """A support folder (3 classes x 2 images) and a flat folder of 9 other images of those classes."""
    root = tmp_path_factory.mktemp("every-export")
    support, query = root / "support", root / "query"
    query.mkdir()
    for name, cls in CLASSES:
        (support / name).mkdir(parents=True)
        for i in (0, 1):
            Image.open(glyphs_shared / "group_2" / cls / f"img_0{i}.png").save(support / name / f"{i}.png")
        for i in (5, 6, 7):
            Image.open(glyphs_shared / "group_2" / cls / f"img_0{i}.png").save(query / f"{name}_{i}.png")
    return support, query


def short_run(name: str, data: Path, run: Path) -> Path:
    config = RunConfig(data=[str(data)], algorithm=name, hparams=FAST.get(name, {}), ways=3, shots=1, queries=2, steps=2,
                       val_every=2, val_episodes=1, checkpoint_every=2, precision="fp32", device="cpu",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    assert run_to_end(train_run(config, run)).status == "completed"
    return run


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_exports_or_says_why_not_and_labels(name, glyphs_shared, folders, tmp_path):
    support, query = folders
    run = short_run(name, glyphs_shared, tmp_path / "run")
    algorithm, _ = load_trained(str(run), "cpu")
    out = tmp_path / "model.pt"
    if can_export(algorithm):
        result = export_adapted(run, support, "torchscript", out, mode="model")  # each algorithm's own classifier
        assert result.classes == ("bar", "dot", "ring") and result.max_difference < 1e-4
        predictions, _ = adapt_and_predict(str(run), str(support), str(query), "cpu", mode="model", refine=False)
        expected = np.array([[p.probabilities[c] for c in sorted(p.probabilities)] for p in predictions])
        _, images, _ = read_query_folder(str(query), 28, 1)
        with torch.no_grad():
            got = torch.jit.load(str(out))(images).numpy()
        np.testing.assert_allclose(got, expected, atol=2e-5)  # the workbench rounds to 6 decimals
    else:
        with pytest.raises(ExportError, match=f"'{name}' cannot be exported yet: its adapt does not give a module"):
            export_adapted(run, support, "torchscript", out)
        assert not out.exists()

    # Labelling: two classes labelled, every other readable image predicted, through the same adapter the GUI uses.
    adapter = Adapter(algorithm, 28, 1)
    paths = sorted(p.name for p in query.iterdir())
    assert adapter.load_images(str(query), paths)
    labels = {"ring_5.png": "ring", "bar_5.png": "bar", "bar_6.png": "bar"}
    targets = [p for p in paths if p not in labels]
    labelled = adapter.predict(labels, ["ring", "bar", "dot"], targets)
    assert labelled.classes == ("ring", "bar") and set(labelled.predictions) == set(targets)
    assert all(p.name in ("ring", "bar") and 0.5 <= p.confidence <= 1 for p in labelled.predictions.values())


def test_exported_algorithms_include_every_family():
    """Metric, gradient-based, memory, latent and base-class methods all adapt into modules that export."""
    exportable = {name for name, cls in catalogue.available().items() if cls.exportable}
    assert {"protonet", "example_cosine", "maml", "anil", "metasgd", "reptile", "relation", "matching", "siamese",
            "leo", "meta_lstm", "baseline", "baseline_pp"} <= exportable
