"""Inverting pixels (1 - x) for dark-on-light images: one setting, saved with the run, applied wherever a model sees images."""

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from workbench.cli import build_parser, config_from_args, main
from workbench.data.augment import Augmentation
from workbench.data.cache import build_cache
from workbench.data.episode_file import EpisodeFile, FixedEpisodes
from workbench.data.pixels import to_model_pixels
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.errors import ConfigError
from workbench.labelling.adapter import Adapter
from workbench.runs.model_loading import load_trained
from workbench.runs.config import RunConfig
from workbench.training.jobs import adapt_and_predict, prepare_evaluation, read_query_folder
from tests.generators import return_value


def test_model_pixels_are_floats_in_0_1_and_inverted_on_request():
    images = torch.tensor([[[[0, 51, 255]]]], dtype=torch.uint8)
    plain = to_model_pixels(images)
    inverted = to_model_pixels(images, invert=True)
    assert plain.dtype == inverted.dtype == torch.float32
    assert plain.flatten().tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert inverted.flatten().tolist() == pytest.approx([1.0, 0.8, 0.0])
    assert torch.equal(inverted, 1.0 - plain)  # exactly, not nearly: every path gives the same bits
    assert images.flatten().tolist() == [0, 51, 255]  # the decoded images (what a person sees) are untouched
    with pytest.raises(TypeError, match="uint8"):
        to_model_pixels(plain)  # already floats: converting twice would be a bug, not a no-op


@pytest.fixture(scope="module")
def cache(glyphs_shared):
    return build_cache(scan_datasets([glyphs_shared]), 28, 1)


def test_the_sampler_gives_one_minus_x_with_the_same_seed(cache):
    views = class_views(list(range(cache.num_classes)), rotations=True)
    plain = EpisodeSampler(cache, views, 5, 2, 3, seed=4).sample()
    inverted = EpisodeSampler(cache, views, 5, 2, 3, seed=4, invert=True).sample()
    assert inverted.class_names == plain.class_names and inverted.support_rows == plain.support_rows
    assert torch.equal(inverted.support_x, 1.0 - plain.support_x)
    assert torch.equal(inverted.query_x, 1.0 - plain.query_x)
    # The glyphs are dark on white paper: inverted, the background (most pixels) is near 0.
    assert plain.query_x.mean() > 0.5 > inverted.query_x.mean()


def test_fixed_episodes_are_inverted_too(glyphs_shared, cache):
    spec = EpisodeFile("inline.json", 2, 1, 1, ((("group_0/class_00", (0, 1)), ("group_0/class_01", (2, 3))),))
    scan = scan_datasets([glyphs_shared])
    plain = FixedEpisodes(spec, scan, cache).sample()
    inverted = FixedEpisodes(spec, scan, cache, invert=True).sample()
    assert torch.equal(inverted.support_x, 1.0 - plain.support_x) and torch.equal(inverted.query_x, 1.0 - plain.query_x)


def test_augmenting_inverted_images_fills_borders_with_the_inverted_background(cache):
    # A dark square on white paper, shifted far enough that the affine fill must make up a border.
    paper = torch.full((1, 1, 28, 28), 255, dtype=torch.uint8)
    paper[..., 12:16, 12:16] = 0
    strong_shift = Augmentation(max_shift=0.25, max_rotation_deg=30.0)
    for invert, background in ((False, 1.0), (True, 0.0)):
        pixels = to_model_pixels(paper.repeat(16, 1, 1, 1), invert)
        moved = strong_shift.apply(pixels, np.random.default_rng(0))
        border = torch.cat([moved[..., 0, :], moved[..., -1, :], moved[..., :, 0], moved[..., :, -1]], dim=-1)
        assert torch.allclose(border, torch.full_like(border, background), atol=1e-5)  # no edge the data lacks
        assert not torch.equal(moved, pixels)
    # In the sampler: the same distortion of the same images, seen inverted.
    views = class_views(list(range(cache.num_classes)), False)
    plain = EpisodeSampler(cache, views, 5, 1, 3, seed=7, augmentation=Augmentation()).sample()
    inverted = EpisodeSampler(cache, views, 5, 1, 3, seed=7, augmentation=Augmentation(), invert=True).sample()
    assert torch.allclose(inverted.query_x, 1.0 - plain.query_x, atol=1e-5)


def test_the_setting_is_saved_and_old_run_configs_read_as_not_inverted():
    config = RunConfig(data=["x"], invert=True)
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again.invert is True and again == config
    old = config.to_dict()
    del old["invert"]  # a run folder written before the setting existed
    assert RunConfig.from_dict(old).invert is False
    with pytest.raises(ConfigError, match="field 'invert' must be true, false or"):
        RunConfig.from_dict({**config.to_dict(), "invert": "yes"})


def test_the_cli_flag_reaches_the_config_and_says_what_it_is_for(glyphs_shared, capsys):
    parser = build_parser()
    assert config_from_args(parser.parse_args(["train", "--data", str(glyphs_shared), "--invert"])).invert is True
    assert config_from_args(parser.parse_args(["train", "--data", str(glyphs_shared), "--no-invert"])).invert is False
    assert config_from_args(parser.parse_args(["train", "--data", str(glyphs_shared)])).invert == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--invert, --no-invert invert pixel values (1 − x), for dark strokes on a light background such as Omniglot" in help_text


@pytest.fixture(scope="module")
def runs(glyphs_shared, tmp_path_factory):
    """A short ProtoNet run trained with --invert through the CLI, and a copy of it whose config says not inverted."""
    root = tmp_path_factory.mktemp("invert_runs")
    inverted = root / "inverted"
    code = main(["train", "--data", str(glyphs_shared), "--ways", "3", "--queries", "2", "--steps", "4",
                 "--val-every", "4", "--val-episodes", "2", "--checkpoint-every", "4", "--device", "cpu",
                 "--precision", "fp32", "--split", "group", "--test-groups", "group_2", "--val-fraction", "0.25",
                 "--invert", "--quiet", "--out", str(inverted)])
    assert code == 0
    plain = root / "plain"
    shutil.copytree(inverted, plain)
    config = json.loads((plain / "config.json").read_text())
    config["invert"] = False
    (plain / "config.json").write_text(json.dumps(config))
    return inverted, plain


def test_a_run_trained_with_invert_stores_it(runs):
    inverted, _ = runs
    assert json.loads((inverted / "config.json").read_text())["invert"] is True
    assert load_trained(str(inverted), "cpu")[1].invert is True


def test_evaluation_uses_the_runs_setting(runs, glyphs_shared):
    inverted, plain = runs
    a = prepare_evaluation(str(inverted), [str(glyphs_shared)], 3, 1, 2, seed=3, device="cpu").sampler.sample()
    b = prepare_evaluation(str(plain), [str(glyphs_shared)], 3, 1, 2, seed=3, device="cpu").sampler.sample()
    assert a.class_names == b.class_names
    assert torch.equal(a.query_x, 1.0 - b.query_x)


@pytest.fixture(scope="module")
def folders(glyphs_shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("invert_folders")
    support, query = root / "support", root / "query"
    query.mkdir()
    for name, cls in (("ring", "class_00"), ("bar", "class_01"), ("dot", "class_02")):
        (support / name).mkdir(parents=True)
        Image.open(glyphs_shared / "group_2" / cls / "img_00.png").save(support / name / "0.png")
        for i in (5, 6):
            Image.open(glyphs_shared / "group_2" / cls / f"img_0{i}.png").save(query / f"{name}_{i}.png")
    return support, query


def test_adapt_and_labelling_prepare_images_as_the_run_was_trained(runs, folders):
    inverted, plain = runs
    support, query = folders
    with_invert, _ = adapt_and_predict(str(inverted), str(support), str(query), "cpu")
    without, _ = adapt_and_predict(str(plain), str(support), str(query), "cpu")
    # The same weights on other pixels give other probabilities: the run's setting is what decides.
    assert [p.path for p in with_invert] == [p.path for p in without]
    assert any(abs(a.confidence - b.confidence) > 1e-3 for a, b in zip(with_invert, without))

    # The labelling page's adapter, given the run's setting, predicts what `adapt` predicts.
    algorithm, config = load_trained(str(inverted), "cpu")
    from workbench.adaptation.for_run import policy_for_run

    adapter = Adapter(algorithm, config.image_size, config.channels, invert=config.invert,
                      policy=policy_for_run(str(inverted), algorithm))  # as the Label page builds it
    paths = sorted([f"support/{p.parent.name}/{p.name}" for p in support.rglob("*.png")]
                   + [f"query/{p.name}" for p in query.glob("*.png")])
    adapter.load_images(str(support.parent), paths)
    labels = {p: p.split("/")[1] for p in paths if p.startswith("support/")}
    targets = [p for p in paths if p.startswith("query/")]
    result = adapter.predict(labels, sorted(set(labels.values())), targets)
    for prediction in with_invert:
        got = result.predictions[f"query/{prediction.path.rsplit('/', 1)[1]}"]
        assert got.name == prediction.label and got.confidence == pytest.approx(prediction.confidence, abs=1e-4)


def test_an_exported_classifier_inverts_its_input_itself(runs, folders, tmp_path):
    from workbench.export import export_adapted

    inverted, _ = runs
    support, query = folders
    out = tmp_path / "model.pt"
    result = export_adapted(inverted, support, "torchscript", out)
    assert result.inverted_inside and result.max_difference < 1e-4
    assert json.loads((tmp_path / "model.pt.classes.json").read_text())["input"]["inverted_inside"] is True
    # A user feeds images as the files look (no inversion of their own) and gets the workbench's answer.
    size = json.loads((inverted / "config.json").read_text())["image_size"]
    _, images, _ = read_query_folder(str(query), size, 1)
    got = torch.jit.load(str(out))(images)
    expected = adapt_and_predict(str(inverted), str(support), str(query), "cpu", refine=False)[0]  # what export holds
    names = sorted(expected[0].probabilities)
    want = torch.tensor([[p.probabilities[n] for n in names] for p in expected])
    assert torch.allclose(got, want, atol=2e-5)


def test_validation_during_training_saw_inverted_images(runs, glyphs_shared):
    """The runner's own validation episodes are inverted: its logged loss is the inverted episodes' loss."""
    from workbench.training.prepare_data import prepare_data
    from workbench.runs.folder import RunFolder
    from workbench.training.scoring import evaluate

    inverted, _ = runs
    folder = RunFolder.open(inverted)
    config = folder.read_config()
    (logged,) = [float(row["loss"]) for row in folder.read_metrics() if row["phase"] == "val"]
    data = return_value(prepare_data(config))
    assert data.train.invert and data.val.invert and data.test.invert
    algorithm, _ = load_trained(str(inverted), "cpu")  # the weights saved at that validation (the best)
    algorithm.validating = True  # as the runner validates: without test-time shift averaging

    def val_loss(invert: bool) -> float:
        sampler = EpisodeSampler(data.cache, data.val.pool, config.ways, config.shots, config.queries,
                                 seed=config.seed + 1, invert=invert)
        return evaluate(algorithm, sampler, config.val_episodes).loss

    # metrics.csv keeps 5 decimals; after 4 steps the model is barely trained, so the losses lie close together.
    assert abs(val_loss(True) - logged) < 2e-5
    assert abs(val_loss(False) - logged) > 1e-4


def test_the_runs_table_says_which_runs_were_inverted(runs):
    from workbench.runs.table import runs_table

    inverted, plain = runs
    text, problems = runs_table([str(inverted), str(plain)], "csv")
    rows = {line.split(",")[0]: line for line in text.splitlines()[1:]}
    assert "(inverted)" in rows["inverted"] and "(inverted)" not in rows["plain"] and not problems
