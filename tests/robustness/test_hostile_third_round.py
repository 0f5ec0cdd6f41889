"""A third round of hostile cases, each through `main.py` or the function it calls: signals in bursts,
outputs that vanish mid-way, two commands claiming one folder, URLs and moved data, lying locales."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.robustness.corpus import good_bytes, make_good_classes
from tests.robustness.helpers import ROOT, tiny_dataset, tiny_run
from tests.robustness.test_hostile_commands import start_training, wait_until_training
from workbench import cli
from workbench.data.splits import SplitSpec
from workbench.runs.folder import RunFolder

TRAIN = ["--ways", 2, "--queries", 1, "--image-size", 16, "--steps", 2, "--val-every", 2, "--val-episodes", 1,
         "--device", "cpu", "--precision", "fp32", "--val-fraction", 0.34, "--test-fraction", 0, "--quiet"]


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected failure" not in err, err
    return code, out, err


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A tiny run trained to measure (test classes held out) and its data."""
    root = tmp_path_factory.mktemp("measured")
    data = tiny_dataset(root / "data")
    run = tiny_run(data, root / "run", purpose="measure",
                   split=SplitSpec("class", val_fraction=0.34, test_fraction=0.34))
    return run, data


# --- signals -------------------------------------------------------------------------------------
def test_a_burst_of_ctrl_c_stops_training_cleanly_instead_of_deadlocking(tmp_path):
    # Before: the second SIGINT's handler waited for a lock the first one's held, in the same thread: a hang.
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    process = start_training(data, run)
    wait_until_training(run, process)
    for _ in range(500):  # a key held down: each press may land while the loop or a handler holds a lock
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGINT)
        time.sleep(0.002)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    status = RunFolder(run).read_status()
    assert status["status"] == "cancelled" and RunFolder(run).load_checkpoint()["step"] == status["step"]
    assert not list(run.rglob("*.tmp"))
