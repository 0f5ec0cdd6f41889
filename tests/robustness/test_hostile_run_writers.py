"""Every writer of a run folder takes its one lock; a run that cannot be written is said before any work;
values of the right type but a wrong meaning are refused with the field named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from tests.robustness.helpers import run_cli, tiny_dataset, tiny_run
from tests.robustness.test_hostile_commands import small_disk
from workbench.runs.lock import RunLock


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("writers")
    return tiny_run(tiny_dataset(root / "data"), root / "run")


@pytest.fixture()
def run(trained, tmp_path):
    """Each test's own copy: they write into it."""
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run"


def test_calibrate_waits_for_no_one_it_refuses_a_run_another_process_is_writing(run, capsys):
    before = (run / "calibration.json").read_bytes()
    with RunLock(run):  # as a training of this run holds it
        code, _, err = run_cli(capsys, "calibrate", run)
    assert code == 2 and "being written by another" in err and "calibrate again" in err, err
    assert (run / "calibration.json").read_bytes() == before
    code, _, err = run_cli(capsys, "calibrate", run)
    assert code == 0, err


def test_a_training_cannot_resume_while_calibrate_holds_the_run(run, capsys):
    with RunLock(run, then="calibrate again"):
        code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", 6)
    assert code == 2 and "being written by another" in err, err


def test_calibrate_on_a_read_only_run_says_so_before_fitting(run, tmp_path, capsys):
    with small_disk(tmp_path / "disk", size="64m") as disk:
        shutil.copytree(run, disk / "run")
        remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot make the small file system read-only here ({remount.stderr.strip()})")
        started = time.monotonic()
        code, _, err = run_cli(capsys, "calibrate", disk / "run")
        assert code == 2 and "cannot be written" in err and "Read-only" in err, err
        assert time.monotonic() - started < 5  # nothing was decoded or fitted first


@pytest.mark.parametrize("seed", [-3, 2**32, 2**70])
def test_a_run_whose_split_seed_cannot_be_a_seed_is_refused_on_resume_naming_it(run, capsys, seed):
    config = json.loads((run / "config.json").read_text())
    config["split"]["seed"] = seed
    (run / "config.json").write_text(json.dumps(config))
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", 6)
    assert code == 2 and "seed" in err and str(seed) in err, err


@pytest.mark.parametrize("field, value", [("step", -5), ("best_step", -1), ("best_val_accuracy", 1.5),
                                          ("best_val_accuracy", -0.2), ("best_val_accuracy", True)])
def test_a_status_with_a_meaningless_number_is_called_damaged_naming_the_field(run, capsys, field, value):
    status = json.loads((run / "status.json").read_text())
    status[field] = value
    (run / "status.json").write_text(json.dumps(status))
    code, _, err = run_cli(capsys, "table", run)
    assert code == 2 and "status.json is damaged" in err and f"'{field}'" in err, err


@pytest.mark.parametrize("step", [10**12, -5])
def test_a_checkpoint_whose_step_is_outside_the_run_is_refused_on_resume_and_nothing_is_written(run, capsys, step):
    import torch

    checkpoint = run / "checkpoints" / "last.pt"
    state = torch.load(checkpoint, weights_only=True)
    state["step"] = step
    torch.save(state, checkpoint)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and not p.name.startswith(".")}
    code, _, err = run_cli(capsys, "train", "--resume", run, "--steps", 6)
    assert code == 2 and f"its step {step} is not one of this run's" in err, err
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert after == before


def test_adapting_with_a_run_that_is_training_works_and_says_so(run, capsys, tmp_path):
    from tests.robustness.corpus import make_good_classes

    make_good_classes(tmp_path / "support", classes=2, images=2)
    args = ("adapt", run, "--support", tmp_path / "support", "--query", tmp_path / "support" / "good_0", "--mode", "model")
    with RunLock(run):  # as the training does
        code, out, err = run_cli(capsys, *args)
    assert code == 0 and f"is still training (process {os.getpid()}); its best model so far is used" in err, err
    assert out.count("\n") == 2
    code, _, err = run_cli(capsys, *args)
    assert code == 0 and "still training" not in err
