"""Plugins as a user meets them: the example in plugins/, a folder of their own, a broken file, switched off."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from workbench import catalogue
from workbench.errors import ConfigError
from workbench.catalogue.plugin_settings import PluginSettings

ROOT = Path(__file__).resolve().parents[2]

BROKEN = "import torch\ndef forward(x:\n    return x\n"
HALF_REGISTERED = textwrap.dedent("""
    from workbench.algorithms.protonet import ProtoNet
    from workbench.algorithms.registry import register

    @register
    class HalfDone(ProtoNet):
        name = "half_done"

    raise RuntimeError("the plugin needs a GPU driver that is missing")
""")
GOOD = textwrap.dedent("""
    from workbench.algorithms.protonet import ProtoNet
    from workbench.algorithms.registry import register

    @register
    class MyProtoNet(ProtoNet):
        name = "my_protonet"
        title = "My ProtoNet"
        summary = "A user's own copy of ProtoNet."
""")


def cli(*args, env=None, timeout=300):
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout, env=full_env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def user_folders(tmp_path):
    """A settings folder, and a plugin folder holding a good plugin, a broken one and one failing half-way."""
    plugins = tmp_path / "my-plugins"
    plugins.mkdir()
    (plugins / "good.py").write_text(GOOD)
    (plugins / "broken.py").write_text(BROKEN)
    (plugins / "half.py").write_text(HALF_REGISTERED)
    (plugins / "_private_helper.py").write_text("raise SystemExit('helpers starting with _ are not plugins')")
    config = tmp_path / "config"
    return config, plugins


@pytest.mark.slow
def test_example_plugin_is_listed_and_trains(glyphs, tmp_path):
    listed = {a["name"]: a for a in json.loads(cli("algorithms", "--json").stdout)}
    assert {"protonet", "maml", "example_cosine"} <= set(listed)
    assert [h["name"] for h in listed["example_cosine"]["hyperparameters"]] == ["lr", "initial_scale", "backbone"]
    result = cli("train", "--data", glyphs, "--algorithm", "example_cosine", "--ways", 3, "--queries", 2, "--steps", 4,
                 "--val-every", 4, "--val-episodes", 2, "--out", tmp_path / "run", "--device", "cpu", "--json",
                 "--set", "initial_scale=5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "completed"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["algorithm"] == "example_cosine"

    # Adapting, exporting and labelling go through the same commands as for the built-ins.
    support, query = tmp_path / "support", tmp_path / "query"
    for c in (0, 1):
        (support / f"glyph{c}").mkdir(parents=True)
        for i in (0, 1):
            (support / f"glyph{c}" / f"{i}.png").write_bytes((glyphs / "group_1" / f"class_{c:02d}" / f"img_0{i}.png").read_bytes())
    query.mkdir()
    for c in (0, 1):
        for i in (5, 6):
            (query / f"q{c}_{i}.png").write_bytes((glyphs / "group_1" / f"class_{c:02d}" / f"img_0{i}.png").read_bytes())
    adapted = cli("adapt", tmp_path / "run", "--support", support, "--query", query, "--mode", "model", "--json")
    assert adapted.returncode == 0, adapted.stderr
    exported = cli("export", tmp_path / "run", "--support", support, "--format", "torchscript", "--out", tmp_path / "m.pt", "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["classes"] == ["glyph0", "glyph1"] and json.loads(exported.stdout)["max_difference"] < 1e-4
    size = json.loads((tmp_path / "run" / "config.json").read_text())["image_size"]
    assert torch.jit.load(str(tmp_path / "m.pt"))(torch.rand(3, 1, size, size)).shape == (3, 2)


def test_the_gradient_example_plugin_trains_adapts_and_exports(glyphs):
    from workbench.data.cache import build_cache
    from workbench.data.sampler import EpisodeSampler
    from workbench.data.sources import scan_datasets
    from workbench.data.splits import class_views
    from workbench.export import adapted_module

    listed = {a["name"]: a for a in json.loads(cli("algorithms", "--json").stdout)}
    assert "conv4" in next(h for h in listed["example_layer_rates"]["hyperparameters"] if h["name"] == "backbone")["choices"]
    cache = build_cache(scan_datasets([glyphs]), 28, 1)
    sampler = EpisodeSampler(cache, class_views(list(range(cache.num_classes)), False), 3, 1, 3, seed=0)
    torch.manual_seed(0)
    algorithm = catalogue.get("example_layer_rates")(1, 28, {"inner_lr": 0.2}, "cpu", "fp32")
    rates = algorithm.rates["rates"].detach().clone()
    losses = [algorithm.meta_train([sampler.sample() for _ in range(2)]).loss for _ in range(3)]
    assert all(loss == loss and loss > 0 for loss in losses)
    assert not torch.equal(algorithm.rates["rates"], rates)  # the inner rates are meta-learned
    episode = sampler.sample()
    probs = algorithm.adapt(episode.support_x, episode.support_y, 3).predict_proba(episode.query_x)
    assert probs.shape == (9, 3) and torch.allclose(probs.sum(1), torch.ones(9))
    module = adapted_module(algorithm, episode.support_x, episode.support_y, 3)
    with torch.no_grad():
        assert torch.allclose(module(episode.query_x), probs, atol=1e-5)


@pytest.mark.slow
def test_a_broken_plugin_is_reported_and_the_rest_works(user_folders):
    config, folder = user_folders
    PluginSettings(project_folder=True, folders=[str(folder)]).save(config / "plugins.json")
    env = {"WORKBENCH_CONFIG_DIR": str(config)}
    result = cli("algorithms", "--json", env=env)
    assert result.returncode == 0, result.stderr
    names = {a["name"] for a in json.loads(result.stdout)}
    # The good user plugin and the example load; the broken ones are left out, including what
    # the half-way one registered before it failed.
    builtins = {a["name"] for a in json.loads(cli("algorithms", "--json", "--no-plugins").stdout)}
    assert {"protonet", "maml"} <= builtins and not builtins & {"example_cosine", "example_layer_rates"}
    assert names == builtins | {"example_cosine", "example_layer_rates", "my_protonet"}
    assert "warning: plugin broken was not loaded: SyntaxError" in result.stderr
    assert "the plugin needs a GPU driver that is missing" in result.stderr
    report = json.loads(cli("plugins", "--json", env=env).stdout)
    by_name = {p["name"]: p for p in report["plugins"]}
    assert set(by_name) == {"cosine_prototypes", "layer_rates", "good", "broken", "half"}
    assert by_name["good"] == {**by_name["good"], "loaded": True, "source": "user folder", "algorithms": ["my_protonet"]}
    assert not by_name["half"]["loaded"] and "RuntimeError" in by_name["half"]["error"] and "half.py" in by_name["half"]["error"]
    assert by_name["cosine_prototypes"]["source"] == "project folder"


def test_plugins_run_only_from_enabled_places(user_folders, tmp_path):
    config, folder = user_folders
    env = {"WORKBENCH_CONFIG_DIR": str(config), "WORKBENCH_PLUGIN_PATH": str(folder)}
    off = json.loads(cli("--no-plugins", "plugins", "--json", env=env).stdout)
    assert off == {"enabled": False, "folders": [], "plugins": []}
    PluginSettings(project_folder=False, entry_points=False).save(config / "plugins.json")
    report = json.loads(cli("plugins", "--json", env=env).stdout)  # only the session's WORKBENCH_PLUGIN_PATH
    assert {p["name"] for p in report["plugins"]} == {"good", "broken", "half"}
    PluginSettings(enabled=False, folders=[str(folder)]).save(config / "plugins.json")
    names = {a["name"] for a in json.loads(cli("algorithms", "--json", env=env).stdout)}
    assert {"protonet", "maml"} <= names and not names & {"example_cosine", "my_protonet"}  # the built-ins always work


def test_a_damaged_settings_file_is_named_and_the_defaults_are_used(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "plugins.json").write_text("{not json")
    with pytest.raises(ConfigError, match="plugins.json cannot be read"):
        PluginSettings.load(config / "plugins.json")
    result = cli("plugins", env={"WORKBENCH_CONFIG_DIR": str(config)})
    assert result.returncode == 0
    assert "warning: The plugin settings file" in result.stderr
    assert "the example plugins in" in result.stdout and "are off" in result.stdout  # the defaults: examples off


def test_the_example_plugins_are_off_until_a_person_switches_them_on(tmp_path):
    config = tmp_path / "fresh-config"  # a person's first start: no settings file yet
    env = {"WORKBENCH_CONFIG_DIR": str(config)}
    assert PluginSettings().project_folder is False
    names = {a["name"] for a in json.loads(cli("algorithms", "--json", env=env).stdout)}
    assert "protonet" in names and not names & {"example_cosine", "example_layer_rates"}
    listing = cli("plugins", env=env).stdout
    assert "--examples on" in listing

    switched = cli("plugins", "--examples", "on", env=env)
    assert switched.returncode == 0 and "example plugins on" in switched.stderr
    assert PluginSettings.load(config / "plugins.json").project_folder is True
    names = {a["name"] for a in json.loads(cli("algorithms", "--json", env=env).stdout)}
    assert {"example_cosine", "example_layer_rates"} <= names
    cli("plugins", "--examples", "off", env=env)
    names = {a["name"] for a in json.loads(cli("algorithms", "--json", env=env).stdout)}
    assert not names & {"example_cosine", "example_layer_rates"}


def test_settings_round_trip_and_reject_wrong_types(tmp_path):
    path = tmp_path / "plugins.json"
    settings = PluginSettings(entry_points=False)
    assert settings.add_folder(tmp_path / "a") and not settings.add_folder(tmp_path / "a")
    settings.save(path)
    assert PluginSettings.load(path) == settings
    assert settings.remove_folder(str((tmp_path / "a").resolve())) and settings.folders == []
    path.write_text(json.dumps({"enabled": "yes"}))
    with pytest.raises(ConfigError, match="'enabled' must be true or false"):
        PluginSettings.load(path)
