"""Plugins that change what the whole program shares while they import: standard output, torch's
settings, the working folder, the registries' built-ins, names no terminal can show. Each is refused (or
contained) with one sentence naming the plugin, and the built-ins compute what they computed before."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.robustness.corpus import make_good_classes
from tests.robustness.helpers import cli, tiny_dataset, tiny_run
from tests.robustness.test_hostile_plugins import listed, plugin_env, plugin_folder
from workbench.catalogue import plugins

CHATTY = "print('hello from a plugin')\nimport sys\nsys.stdout = open(__file__ + '.out', 'w')\n"
FLOAT64 = "import torch\ntorch.set_default_dtype(torch.float64)\n"
MATMUL = "import torch\ntorch.set_float32_matmul_precision('medium')\n"
WANDERS = "import os\nos.chdir('/')\n"
GRABS_SIGINT = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
BAD_NAMES = {
    "newline": 'declare("bad\\nname", "T", "S", (), "workbench.algorithms.protonet:ProtoNet")',
    "escape": 'declare("red\\x1b[31m", "T", "S", (), "workbench.algorithms.protonet:ProtoNet")',
    "long": 'declare("n" * 200, "T", "S", (), "workbench.algorithms.protonet:ProtoNet")',
    "slash": 'declare("../../etc", "T", "S", (), "workbench.algorithms.protonet:ProtoNet")',
}


@pytest.fixture(scope="module")
def run_and_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("plugin-state")
    run = tiny_run(tiny_dataset(root / "data"), root / "run")
    make_good_classes(root / "support", classes=2, images=2)
    query = root / "query"
    query.mkdir()
    for i, image in enumerate(sorted((root / "support").rglob("*.png"))):
        (query / f"q{i}.png").write_bytes(image.read_bytes())
    return run, root / "support", query


@pytest.fixture(scope="module")
def clean_adapt(run_and_folders, tmp_path_factory):
    """`adapt --json` as it answers with no plugin: what a plugin must not change."""
    run, support, query = run_and_folders
    root = tmp_path_factory.mktemp("clean")
    args = ("adapt", run, "--support", support, "--query", query, "--json", "--mode", "model")
    result = cli(*args, env=plugin_env(root, plugin_folder(root)), process=True)
    assert result.returncode == 0, result.stderr
    return args, json.loads(result.stdout)


def test_what_a_plugin_prints_while_importing_goes_to_stderr_and_json_stays_json(tmp_path):
    folder = plugin_folder(tmp_path, chatty=CHATTY)
    result = cli("algorithms", "--json", env=plugin_env(tmp_path, folder, wait_s=5), process=True)
    assert result.returncode == 0, result.stderr
    assert "protonet" in listed(result)  # stdout parses as JSON: the print and the swapped stream did not reach it
    assert "hello from a plugin" in result.stderr


@pytest.mark.parametrize("code, words", [
    (FLOAT64, "torch's default dtype torch.float32 -> torch.float64"),
    (MATMUL, "torch's float32 matmul precision highest -> medium"),
])
def test_a_plugin_changing_torchs_settings_is_refused_and_adapt_computes_as_without_it(
        tmp_path, clean_adapt, code, words):
    args, clean = clean_adapt
    folder = plugin_folder(tmp_path, settings=code)
    result = cli(*args, env=plugin_env(tmp_path, folder, wait_s=5), process=True)
    assert result.returncode == 0, result.stderr
    assert "plugin settings was not loaded: it changed what the whole program shares" in result.stderr
    assert words in result.stderr
    assert json.loads(result.stdout) == clean


def test_a_plugin_that_changes_the_working_folder_is_refused_and_relative_paths_stay_put(tmp_path):
    data = tiny_dataset(tmp_path / "data")
    folder = plugin_folder(tmp_path, wanders=WANDERS)
    env = plugin_env(tmp_path, folder)
    report = json.loads(cli("plugins", "--json", env=env, process=True).stdout)["plugins"]
    assert not report[0]["loaded"] and "working folder" in report[0]["error"]
    from workbench.catalogue.process_state import ProcessState

    state, here = ProcessState.take(), os.getcwd()
    os.chdir(tmp_path)
    try:
        assert state.restore() == [f"working folder {here} -> {tmp_path}"] and os.getcwd() == here
    finally:
        os.chdir(here)
    assert data.is_dir()


def test_a_plugin_cannot_take_ctrl_c_away(tmp_path):
    folder = plugin_folder(tmp_path, grabs=GRABS_SIGINT)
    report = json.loads(cli("plugins", "--json", env=plugin_env(tmp_path, folder), process=True).stdout)["plugins"]
    # It imports in a thread of its own, where signal handlers cannot be set: Ctrl-C stays the workbench's.
    assert not report[0]["loaded"] and "signal only works in main thread" in report[0]["error"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_no_terminal_or_file_name_can_carry_is_refused_naming_the_plugin(tmp_path, name):
    code = "from workbench.algorithms.registry import declare\n" + BAD_NAMES[name] + "\n"
    folder = plugin_folder(tmp_path, **{f"named_{name}": code})
    result = cli("algorithms", "--json", env=plugin_env(tmp_path, folder), process=True)
    assert result.returncode == 0
    assert all(n.replace("_", "").replace("-", "").isalnum() for n in listed(result))
    assert f"plugin named_{name} was not loaded" in result.stderr and "cannot be used" in result.stderr
    assert "\x1b" not in result.stderr


def test_a_plugin_taking_out_a_registered_built_in_is_refused_and_it_is_put_back(tmp_path, monkeypatch):
    from workbench import catalogue
    from workbench.algorithms import registry

    builtin = catalogue.get("protonet")  # registered in this process, as in the window
    remover = textwrap.dedent("""
        from workbench.algorithms import registry
        registry.unregister("protonet")
    """)
    folder = plugin_folder(tmp_path, remover=remover)
    monkeypatch.setenv("WORKBENCH_PLUGIN_PATH", str(folder))
    status = next(s for s in plugins.load_plugins() if Path(s.origin).parent == folder)
    assert not status.loaded and "took out names that were registered (algorithm 'protonet')" in status.error
    assert registry.entries()["protonet"] is builtin and catalogue.get("protonet") is builtin
