"""Settings a trained model can change (after_training): ProtoNet's test-time shifts, and --set on evaluate/adapt."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from workbench import catalogue
from workbench.export import adapted_module
from workbench.models.shift_averaged import ShiftAveraged
from workbench.runs.model_loading import load_trained

from tests.core.test_cli import cli, trained_run  # noqa: F401  (the CLI's short real ProtoNet run)


def test_shift_averaging_averages_real_one_pixel_shifts():
    torch.manual_seed(0)
    backbone = catalogue.get("protonet")(1, 28, {}, "cpu", "fp32").backbone.eval()
    images = torch.zeros(2, 1, 28, 28)
    images[:, :, 8:20, 10:14] = torch.rand(2, 1, 12, 4)  # a stroke on a blank background: edges repeat as background
    with torch.no_grad():
        averaged = ShiftAveraged(backbone, 1)(images)
        by_hand = torch.stack([backbone(torch.roll(images, (dy, dx), dims=(2, 3)))
                               for dy in (-1, 0, 1) for dx in (-1, 0, 1)]).mean(0)
        assert torch.allclose(averaged, by_hand, atol=1e-5)
        assert torch.equal(ShiftAveraged(backbone, 0)(images), backbone(images))
        assert not torch.allclose(averaged, backbone(images), atol=1e-3)


def test_the_exported_classifier_averages_shifts_as_adapt_does(glyphs_shared):
    torch.manual_seed(0)
    algorithm = catalogue.get("protonet")(1, 28, {"test_shifts": 1}, "cpu", "fp32")
    algorithm.train_mode(False)
    pixels = [np.asarray(Image.open(glyphs_shared / "group_0" / f"class_0{c}" / f"img_0{i}.png").convert("L").resize((28, 28)))
              for c in range(3) for i in range(2)]
    images = torch.from_numpy(np.stack(pixels)).float().div(255)[:, None]
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    expected = algorithm.adapt(images[::2], labels[::2], 3).predict_proba(images)
    with torch.no_grad():
        exported = adapted_module(algorithm, images[::2], labels[::2], 3)(images)
    assert torch.allclose(exported, expected, atol=1e-4)


def test_algorithms_json_says_which_settings_can_change_after_training():
    listed = {a["name"]: a for a in json.loads(cli("algorithms", "--json").stdout)}
    protonet = {h["name"]: h for h in listed["protonet"]["hyperparameters"]}
    assert protonet["test_shifts"]["after_training"] is True and protonet["lr"]["after_training"] is False
    maml = {h["name"]: h for h in listed["maml"]["hyperparameters"]}
    assert maml["eval_inner_steps"]["after_training"] is True and maml["inner_lr"]["after_training"] is False


@pytest.mark.slow
def test_load_trained_applies_after_training_settings_and_refuses_others(trained_run):  # noqa: F811
    algorithm, config = load_trained(str(trained_run), "cpu", {"test_shifts": "2"})
    assert algorithm.hparams["test_shifts"] == 2 and config.hparams["test_shifts"] == "2"
    with pytest.raises(Exception, match="'lr' shaped the trained weights.*test_shifts"):
        load_trained(str(trained_run), "cpu", {"lr": "0.1"})


def test_evaluate_and_adapt_take_after_training_settings(trained_run, glyphs_shared, tmp_path):  # noqa: F811
    result = cli("evaluate", trained_run, "--data", glyphs_shared, "--ways", 3, "--shots", 1, "--episodes", 10,
                 "--set", "test_shifts=1", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["episodes"] == 10
    support, query = tmp_path / "support", tmp_path / "query"
    query.mkdir()
    for name, cls in (("ring", "class_00"), ("bar", "class_01")):
        (support / name).mkdir(parents=True)
        Image.open(glyphs_shared / "group_2" / cls / "img_00.png").save(support / name / "a.png")
        Image.open(glyphs_shared / "group_2" / cls / "img_04.png").save(query / f"{name}.png")
    result = cli("adapt", trained_run, "--support", support, "--query", query, "--set", "test_shifts=1", "--json")
    assert result.returncode == 0, result.stderr
    assert {Path(p["path"]).name for p in json.loads(result.stdout)} == {"ring.png", "bar.png"}


@pytest.mark.parametrize("setting, words", [("lr=0.5", "'lr' shaped the trained weights"),
                                            ("test_shifts=9", "must be in [0, 3]"),
                                            ("nonsense=1", "'nonsense' is not a hyperparameter of protonet")])
def test_a_setting_that_cannot_change_is_one_clear_line(trained_run, glyphs_shared, setting, words):  # noqa: F811
    result = cli("evaluate", trained_run, "--data", glyphs_shared, "--episodes", 2, "--set", setting)
    assert result.returncode != 0
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1

