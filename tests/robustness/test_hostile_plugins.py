"""Plugins that fight the program: one that ends it while importing, one that never finishes importing,
one that takes a built-in's name. Each is refused with one sentence naming it; everything else works."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.robustness.helpers import cli, tiny_dataset
from workbench.algorithms import registry
from workbench.catalogue import plugins
from workbench.errors import NameTakenError
from workbench.models import backbones

# Loaded after the hostile ones (plugins load in name order), without torch: listing stays quick.
GOOD = textwrap.dedent("""
    from workbench.algorithms.registry import declare
    declare("after_the_hostile_one", "After", "Loads after a hostile plugin.", (), "workbench.algorithms.protonet:ProtoNet")
""")
STOPPERS = {
    "exit0": "raise SystemExit(0)",
    "exit_text": "raise SystemExit('bye from the plugin')",
    "interrupt": "raise KeyboardInterrupt",
}
HANGERS = {
    "spins": "while True:\n    pass\n",
    "sleeps": "import time\ntime.sleep(10 ** 6)\n",
}
IMPOSTOR = textwrap.dedent("""
    from workbench.algorithms.protonet import ProtoNet
    from workbench.algorithms.registry import register

    @register
    class ProtoNet(ProtoNet):  # the same class name as the built-in's, too
        name = "protonet"
        summary = "An impostor."
""")
IMPOSTOR_BACKBONE = textwrap.dedent("""
    import workbench.models.conv4
    from workbench.models.backbones import register_backbone

    @register_backbone("conv4")
    def impostor(in_channels, image_size):
        raise RuntimeError("the impostor backbone was built")
""")
# Taking the names before the built-ins are imported at all: only the catalogue knows them then.
EARLY_IMPOSTOR = textwrap.dedent("""
    from workbench.algorithms.registry import declare
    from workbench.models.backbones import register_backbone

    declare("protonet", "Impostor", "An impostor.", (), "nowhere:Nothing")

    @register_backbone("conv4")
    def impostor(in_channels, image_size):
        raise RuntimeError("the impostor backbone was built")
""")


def plugin_folder(root: Path, **files: str) -> Path:
    folder = root / "plugins"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(text)
    return folder


def plugin_env(root: Path, folder: Path, wait_s: float = 1) -> dict:
    """Only `folder`'s plugins (the example plugins off), and a short wait for a hung one (for plugins
    that import nothing heavy: importing torch may go a second without a new module)."""
    config = root / "config"
    config.mkdir()
    (config / "plugins.json").write_text('{"project_folder": false, "entry_points": false}')
    return {"WORKBENCH_CONFIG_DIR": str(config), "WORKBENCH_PLUGIN_PATH": str(folder),
            "WORKBENCH_PLUGIN_TIMEOUT": str(wait_s)}


def listed(result) -> dict:
    return {item["name"]: item for item in json.loads(result.stdout)}


@pytest.mark.parametrize("name", STOPPERS)
def test_a_plugin_that_ends_the_program_while_loading_is_named_and_the_rest_works(tmp_path, name):
    folder = plugin_folder(tmp_path, **{f"a_{name}": STOPPERS[name], "b_good": GOOD})
    env = plugin_env(tmp_path, folder)
    result = cli("algorithms", "--json", env=env, process=True)  # a real process: SystemExit would end it
    assert result.returncode == 0, result.stderr
    assert {"protonet", "maml", "after_the_hostile_one"} <= set(listed(result))
    assert f"plugin a_{name} was not loaded: it tried to stop the program while loading" in result.stderr
    report = {p["name"]: p for p in json.loads(cli("plugins", "--json", env=env, process=True).stdout)["plugins"]}
    assert not report[f"a_{name}"]["loaded"] and f"a_{name}.py, line 1" in report[f"a_{name}"]["error"]
    assert report["b_good"]["loaded"] and report["b_good"]["algorithms"] == ["after_the_hostile_one"]


@pytest.mark.parametrize("name", HANGERS)
def test_a_plugin_that_never_finishes_importing_is_given_up_and_listing_goes_on(tmp_path, name):
    folder = plugin_folder(tmp_path, **{f"a_{name}": HANGERS[name], "b_good": GOOD})
    started = time.monotonic()
    result = cli("algorithms", "--json", env=plugin_env(tmp_path, folder), process=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {"protonet", "after_the_hostile_one"} <= set(listed(result))
    assert f"plugin a_{name} was not loaded: it did not finish loading: 1 s went by without progress" in result.stderr
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_training_a_built_in_goes_on_without_a_plugin_that_hangs(tmp_path):
    data = tiny_dataset(tmp_path / "data")
    folder = plugin_folder(tmp_path, spins=HANGERS["spins"])
    result = cli("train", "--data", data, "--algorithm", "protonet", "--out", tmp_path / "run", "--ways", 2,
                 "--queries", 1, "--image-size", 16, "--steps", 4, "--val-every", 2, "--val-episodes", 2,
                 "--device", "cpu", "--val-fraction", 0.34, "--test-fraction", 0, "--quiet", "--json",
                 env=plugin_env(tmp_path, folder), process=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "completed"
    assert "plugin spins was not loaded: it did not finish loading" in result.stderr


def test_what_a_given_up_plugin_registers_when_it_finishes_late_is_taken_out(tmp_path, monkeypatch):
    late = "import time\ntime.sleep(1.5)\n" + GOOD.replace("after_the_hostile_one", "late_comer")
    folder = plugin_folder(tmp_path, late=late)
    plugins.load_plugins()  # whatever else is enabled loads first, without the short wait
    monkeypatch.setenv("WORKBENCH_PLUGIN_PATH", str(folder))
    monkeypatch.setenv("WORKBENCH_PLUGIN_TIMEOUT", "0.3")
    status = next(s for s in plugins.load_plugins() if s.origin == str(folder / "late.py"))
    assert not status.loaded and "did not finish loading" in status.error
    deadline = time.monotonic() + 30
    while any(t.name == "plugin import: late" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "late_comer" not in registry.registered_names()


@pytest.mark.parametrize("files, clashes", [
    ({"impostor": IMPOSTOR}, ["algorithm 'protonet' (built-in)"]),
    ({"impostor_backbone": IMPOSTOR_BACKBONE}, ["backbone 'conv4' (built-in)"]),
    ({"early_impostor": EARLY_IMPOSTOR}, ["algorithm 'protonet' (built-in)", "backbone 'conv4' (built-in)"]),
])
def test_a_plugin_taking_a_built_in_name_is_refused_and_the_built_in_stays(tmp_path, files, clashes):
    # The wait as a person has it: these plugins import torch, which may go a second without a new module.
    env = plugin_env(tmp_path, plugin_folder(tmp_path, **files, z_good=GOOD), wait_s=60)
    builtin = listed(cli("--no-plugins", "algorithms", "--json", env=env, process=True))["protonet"]
    result = cli("algorithms", "--json", env=env, process=True)
    assert result.returncode == 0, result.stderr
    assert listed(result)["protonet"] == builtin and "after_the_hostile_one" in listed(result)
    [name] = files
    assert f"plugin {name} was not loaded: it registers names that are taken ({', '.join(clashes)})" in result.stderr
    report = {p["name"]: p for p in json.loads(cli("plugins", "--json", env=env, process=True).stdout)["plugins"]}
    assert report[name]["loaded"] is False and report[name]["clashes"] == clashes
    text = cli("plugins", env=env, process=True).stdout
    assert f"FAILED: it registers names that are taken ({', '.join(clashes)})" in text


def test_the_built_ins_stay_in_this_process_after_an_impostor_is_refused(tmp_path, monkeypatch):
    folder = plugin_folder(tmp_path, impostor=IMPOSTOR, impostor_backbone=IMPOSTOR_BACKBONE,
                           early_impostor=EARLY_IMPOSTOR)
    monkeypatch.setenv("WORKBENCH_PLUGIN_PATH", str(folder))
    refused = [s for s in plugins.load_plugins() if Path(s.origin).parent == folder]
    assert len(refused) == 3 and not any(s.loaded for s in refused)
    from workbench import catalogue

    assert catalogue.get("protonet").__module__ == "workbench.algorithms.protonet"
    assert backbones.make_backbone("conv4", 1, 16).__class__.__module__.startswith("workbench.models.")


def test_the_registries_refuse_to_replace_a_built_in():
    from workbench import catalogue

    builtin = catalogue.get("protonet")

    class ProtoNet(builtin):  # same class name, another module: this test's
        name = "protonet"

    with pytest.raises(NameTakenError, match="algorithm name 'protonet' is taken by the built-in one"):
        registry.register(ProtoNet)
    backbones.make_backbone("conv4", 1, 16)  # the built-in backbones are registered
    with pytest.raises(NameTakenError, match="backbone name 'conv4' is taken by the built-in one"):
        backbones.register_backbone("conv4")(lambda in_channels, image_size: None)
    assert catalogue.get("protonet") is builtin
