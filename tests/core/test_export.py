"""Export: the adapted classifier, run outside the workbench (onnxruntime, torch.jit.load), predicts what the workbench predicts."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.headless import main_py
from workbench.data.splits import SplitSpec
from workbench.export import ExportError, export_adapted
from workbench.runs.config import RunConfig
from workbench.training.jobs import adapt_and_predict, read_query_folder
from workbench.training.runner import run_to_end, train_run

ROOT = Path(__file__).resolve().parents[2]
HPARAMS = {"protonet": {}, "maml": {"first_order": True, "eval_inner_steps": 2}}


@pytest.fixture(scope="module")
def folders(glyphs_shared, tmp_path_factory):
    """A support folder (3 classes x 2 images) and a query folder of other images of those classes."""
    root = tmp_path_factory.mktemp("export")
    support, query = root / "support", root / "query"
    query.mkdir()
    for name, cls in (("ring", "class_00"), ("bar", "class_01"), ("dot", "class_02")):
        (support / name).mkdir(parents=True)
        for i in (0, 1):
            Image.open(glyphs_shared / "group_2" / cls / f"img_0{i}.png").save(support / name / f"{i}.png")
        for i in (5, 6, 7):
            Image.open(glyphs_shared / "group_2" / cls / f"img_0{i}.png").save(query / f"{name}_{i}.png")
    return support, query


@pytest.fixture(scope="module")
def trained(glyphs_shared, tmp_path_factory):
    """Short real runs of ProtoNet and first-order MAML, and of SimpleShot (not exportable)."""
    runs = {}
    for algorithm in ("protonet", "maml", "simpleshot"):
        run = tmp_path_factory.mktemp("runs") / algorithm
        config = RunConfig(data=[str(glyphs_shared)], algorithm=algorithm, hparams=HPARAMS.get(algorithm, {}), ways=3,
                           shots=1, queries=2, steps=4, val_every=4, val_episodes=2, checkpoint_every=4, precision="fp32",
                           device="cpu", split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
        assert run_to_end(train_run(config, run)).status == "completed"
        runs[algorithm] = run
    return runs


def workbench_probabilities(run, support, query, mode="auto"):
    # What export holds: the classifier of the labelled images alone, not refined with the query images.
    predictions, _ = adapt_and_predict(str(run), str(support), str(query), "cpu", mode=mode, refine=False)
    return [p.path for p in predictions], np.array([[p.probabilities[n] for n in sorted(p.probabilities)] for p in predictions])


# `auto` picks the pretrained network for these glyphs: exporting its graph takes most of a minute, so once;
# each algorithm's own adapted classifier is exported in `model` mode.
@pytest.mark.parametrize("algorithm, mode", [("protonet", "auto"), ("protonet", "model"), ("maml", "model")])
@pytest.mark.slow
def test_onnx_export_predicts_what_the_workbench_predicts(algorithm, mode, trained, folders, tmp_path):
    import onnx
    import onnxruntime

    support, query = folders
    out = tmp_path / "model.onnx"
    result = export_adapted(trained[algorithm], support, "onnx", out, mode=mode)
    assert result.classes == ("bar", "dot", "ring") and result.max_difference < 1e-4
    classes = json.loads(Path(result.classes_path).read_text())
    assert classes["classes"] == ["bar", "dot", "ring"] and classes["input"]["shape"][1:] == [1, 28, 28]
    metadata = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(metadata["classes"]) == ["bar", "dot", "ring"]

    assert result.space == ("pretrained" if mode == "auto" else "model"), result.space
    paths, expected = workbench_probabilities(trained[algorithm], support, query, mode)
    query_paths, images, _ = read_query_folder(str(query), 28, 1)  # the same preprocessing a user applies
    assert query_paths == paths
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"images": images.numpy()})  # nine images: the batch size is not fixed
    # The workbench rounds its reported probabilities to 6 decimals.
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert (got.argmax(1) == expected.argmax(1)).all()
    (one,) = session.run(None, {"images": images[:1].numpy()})
    np.testing.assert_allclose(one, got[:1], atol=1e-5)  # one query's answer does not depend on the others


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("algorithm, via_cli", [("protonet", False), ("maml", True)])
def test_torchscript_export_predicts_what_the_workbench_predicts(algorithm, via_cli, trained, folders, tmp_path):
    support, query = folders
    out = tmp_path / f"{algorithm}.pt"
    if via_cli:
        result = main_py("export", trained[algorithm], "--support", support, "--format", "torchscript", "--out", out, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["classes"] == ["bar", "dot", "ring"]
    else:
        export_adapted(trained[algorithm], support, "torchscript", out)
    extra = {"classes.json": ""}
    model = torch.jit.load(str(out), _extra_files=extra)
    assert json.loads(extra["classes.json"]) == ["bar", "dot", "ring"]
    paths, expected = workbench_probabilities(trained[algorithm], support, query)
    _, images, _ = read_query_folder(str(query), 28, 1)
    with torch.no_grad():
        got = model(images).numpy()
    np.testing.assert_allclose(got, expected, atol=2e-5)


@pytest.mark.parametrize("mode", ["pixels", "finetune"])
def test_an_export_holds_the_space_adapt_uses_in_each_mode(mode, trained, folders, tmp_path):
    import onnxruntime

    support, query = folders
    out = tmp_path / "model.onnx"
    result = main_py("export", trained["protonet"], "--support", support, "--out", out, "--mode", mode, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["space"] == mode and summary["max_difference"] < 1e-4 and summary["reason"]
    paths, expected = workbench_probabilities(trained["protonet"], support, query, mode)
    _, images, _ = read_query_folder(str(query), 28, 1)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"images": images.numpy()})
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_an_algorithm_without_an_exporter_says_so(trained, folders, tmp_path):
    support, _ = folders
    with pytest.raises(ExportError, match="'simpleshot' cannot be exported yet"):
        export_adapted(trained["simpleshot"], support, "onnx", tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
