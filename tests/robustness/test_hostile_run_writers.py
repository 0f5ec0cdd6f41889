"""Every writer of a run folder takes its one lock; a run that cannot be written is said before any work;
values of the right type but a wrong meaning are refused with the field named."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from tests.robustness.helpers import run_cli, tiny_dataset, tiny_run
from tests.robustness.test_hostile_commands import small_disk
from workbench.runs.lock import RunLock


@pytest.fixture()
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("writers")
    data = tiny_dataset(root / "data")
    return tiny_run(data, root / "run")


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
