"""Files from elsewhere: a weights file that would run code is refused; hand-edited run files are named in errors."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import pytest
import torch

from tests.robustness.helpers import cli, last_line, tiny_dataset, tiny_run
from workbench.errors import ConfigError, RunFolderError, WorkbenchError
from workbench.runs.folder import RunFolder, safe_torch_load
from workbench.runs.model_loading import load_trained
from workbench.training.runner import run_to_end, train_run


class RunsCode:
    """Unpickling this runs a shell command (what a booby-trapped checkpoint would do)."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def poison(path, marker, legacy: bool = False) -> None:
    payload = {"backbone": RunsCode(marker), "step": 1}
    if legacy:  # a bare pickle, as torch wrote before its zip format
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("untrusted")
    data = tiny_dataset(base / "data")
    return data, tiny_run(data, base / "run")


@pytest.fixture
def run_copy(trained, tmp_path):
    data, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    return data, copy


def test_the_poisoned_file_really_would_run_code(tmp_path):
    """Guards the tests below: loading it the unsafe way does create the marker."""
    marker = tmp_path / "ran"
    poison(tmp_path / "model.pt", marker)
    torch.load(tmp_path / "model.pt", weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("legacy", [False, True], ids=["torch-zip", "bare-pickle"])
def test_core_loaders_refuse_code(run_copy, tmp_path, legacy):
    data, run = run_copy
    marker = tmp_path / "ran"
    poison(run / "model.pt", marker, legacy)
    poison(run / "checkpoints" / "last.pt", marker, legacy)
    for load in (lambda: safe_torch_load(run / "model.pt"), RunFolder(run).load_model, RunFolder(run).load_checkpoint,
                 lambda: load_trained(str(run), "cpu")):
        with pytest.raises(RunFolderError, match="Refused to load .* run code") as info:
            load()
        assert "posix.system" in str(info.value) or "GLOBAL" in str(info.value) or legacy
    with pytest.raises(RunFolderError, match="Refused to load"):
        run_to_end(train_run(RunFolder(run).read_config(), run, resume=True))
    assert not marker.exists()


def test_cli_refuses_code_in_evaluate_adapt_and_resume(run_copy, tmp_path):
    data, run = run_copy
    marker = tmp_path / "ran"
    poison(run / "model.pt", marker)
    poison(run / "checkpoints" / "last.pt", marker)
    support = data  # class folders of images
    for args in (["evaluate", run, "--episodes", 2, "--device", "cpu"],
                 ["adapt", run, "--support", support, "--query", data / "good_0", "--device", "cpu"],
                 ["train", "--resume", run]):
        result = cli(*args)
        assert result.returncode == 2, result.stderr
        assert last_line(result).startswith("error: Refused to load"), result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(b""), "damaged or not a weights file"),
    (lambda p: p.write_bytes(p.read_bytes()[:200]), "damaged or not a weights file"),
    (lambda p: p.write_bytes(b"hello, not weights"), "damaged or not a weights file"),
    (lambda p: torch.save([1, 2, 3], p), "expected a dictionary"),
    (lambda p: torch.save({"step": 3, "model": {}, "optimizer": {}}, p), "entry 'sampler' is missing"),
])
def test_damaged_checkpoint_is_named(run_copy, damage, words):
    _, run = run_copy
    folder = RunFolder(run)
    damage(folder.checkpoint_path)
    with pytest.raises(RunFolderError, match=words) as info:
        run_to_end(train_run(folder.read_config(), run, resume=True))
    assert "last.pt" in str(info.value)


# --- hand-edited or corrupted JSON / CSV ---------------------------------------------------------
def edit_config(run, change):
    path = run / "config.json"
    data = json.loads(path.read_text())
    result = change(data)
    path.write_text(result if isinstance(result, str) else json.dumps(data))


CONFIG_DAMAGE = [
    ("not-json", lambda d: "{ this is not json", "not valid JSON"),
    ("truncated", lambda d: json.dumps(d)[:50], "not valid JSON"),
    ("not-an-object", lambda d: "[1, 2, 3]", "expected a JSON object"),
    ("missing-data", lambda d: d.pop("data"), "field 'data' is missing"),
    ("data-not-a-list", lambda d: d.update(data="/some/path"), "field 'data' must be a non-empty list"),
    ("ways-wrong-type", lambda d: d.update(ways="five"), "field 'ways' must be a whole number"),
    ("ways-out-of-range", lambda d: d.update(ways=1), "field 'ways' is out of range"),
    ("image-size-out-of-range", lambda d: d.update(image_size=100000), "field 'image_size' is out of range"),
    ("rotations-not-bool", lambda d: d.update(rotations="yes"), "field 'rotations' must be true, false or \"auto\""),
    ("steps-float", lambda d: d.update(steps=2.5), "field 'steps' must be a whole number"),
    ("time-limit-nan", lambda d: "{" + json.dumps(d)[1:-1] + ', "time_limit_s": NaN}', "field 'time_limit_s' must be a number"),
    ("cache-negative", lambda d: d.update(max_cache_mb=-5), "field 'max_cache_mb' is out of range"),
    ("split-bad", lambda d: d["split"].update(val_fraction="a lot"), "field 'split' is invalid .*val_fraction"),
    ("split-groups-not-list", lambda d: d["split"].update(test_groups="abc"), "field 'split' is invalid .*test_groups"),
    ("unknown-algorithm", lambda d: d.update(algorithm="nonesuch"), "field 'algorithm': Unknown algorithm 'nonesuch'"),
    ("bad-hyperparameter", lambda d: d.update(hparams={"lr": "fast"}), "field 'hparams'.*'lr'"),
    ("hparams-not-object", lambda d: d.update(hparams=[1]), "field 'hparams' must be an object"),
]


@pytest.mark.parametrize("name, change, words", CONFIG_DAMAGE, ids=[c[0] for c in CONFIG_DAMAGE])
def test_damaged_config_names_the_file_and_field(run_copy, name, change, words):
    _, run = run_copy
    edit_config(run, change)
    with pytest.raises(WorkbenchError, match=words) as info:
        RunFolder.open(run).read_config()
    assert str(run / "config.json") in str(info.value)
    assert isinstance(info.value, (ConfigError, RunFolderError))


@pytest.mark.parametrize("case, command", [(CONFIG_DAMAGE[0], "evaluate"), (CONFIG_DAMAGE[14], "resume")],
                         ids=["not-json-evaluate", "unknown-algorithm-resume"])
def test_cli_names_the_damaged_config(run_copy, case, command):
    import re

    _, run = run_copy
    _, change, words = case
    edit_config(run, change)
    result = cli(*(["evaluate", run, "--episodes", 2] if command == "evaluate" else ["train", "--resume", run]))
    assert result.returncode == 2
    line = last_line(result)
    assert line.startswith("error: ") and "config.json" in line and re.search(words, line), result.stderr


def test_damaged_status_is_named_and_does_not_block_resume(run_copy):
    _, run = run_copy
    folder = RunFolder(run)
    for text, words in (("not json", "not valid JSON"), ('{"status": 5}', "field 'status'"),
                        ('{"status": "running", "step": "x"}', "field 'step'"), ("[]", "expected a JSON object")):
        (run / "status.json").write_text(text)
        with pytest.raises(RunFolderError, match=words) as info:
            folder.read_status()
        assert "status.json" in str(info.value)
    # Resuming replaces a damaged status instead of failing on it.
    finished = run_to_end(train_run(folder.read_config().__class__.from_dict(
        {**json.loads(folder.config_path.read_text()), "steps": 5}), run, resume=True))
    assert finished.status == "completed"
    assert folder.read_status()["status"] == "completed"


@pytest.mark.parametrize("text, words", [
    ("garbage\n1,2,3\n", "first line must name the columns"),
    ("step,phase,loss,accuracy,ci95,episodes_per_s,elapsed_s\nabc,train,1,0.5,,,\n", "line 2, field 'step'"),
    ("step,phase,loss,accuracy,ci95,episodes_per_s,elapsed_s\n1,train,lots,0.5,,,\n", "line 2, field 'loss'"),
    ("step,phase,loss,accuracy,ci95,episodes_per_s,elapsed_s\n1,train\n", "wrong number of values"),
    (b"\xff\xfe\x00garbage", "damaged"),
])
def test_damaged_metrics_are_named(run_copy, text, words):
    _, run = run_copy
    path = run / "metrics.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RunFolderError, match=words) as info:
        RunFolder(run).read_metrics()
    assert "metrics.csv" in str(info.value)


def test_cli_resume_names_damaged_metrics(run_copy):
    _, run = run_copy
    (run / "metrics.csv").write_text("step,phase,loss,accuracy,ci95,episodes_per_s,elapsed_s\nx,train,1,1,,,\n")
    result = cli("train", "--resume", run)
    assert result.returncode == 2
    assert last_line(result).startswith("error: ") and "metrics.csv" in last_line(result) and "'step'" in last_line(result)
