"""Run folders in states a person can get them into: a lost checkpoint, `checkpoints` replaced by a
file, a full disk mid-training, a stop while the data is still loading, one run listed twice."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys

import pytest

from tests.robustness.corpus import make_good_classes
from tests.robustness.helpers import ROOT, cli, signal_at_line, tiny_dataset, tiny_run


def status_of(run) -> dict:
    return json.loads((run / "status.json").read_text())


def test_a_checkpoints_file_in_place_of_the_folder_is_said_and_the_run_is_kept(tmp_path):
    run = tiny_run(tiny_dataset(tmp_path / "data"), tmp_path / "run")
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder")
    model = (run / "model.pt").read_bytes()
    result = cli("train", "--resume", run)
    assert result.returncode != 0
    assert "checkpoints is not a folder" in result.stderr and "Move it away" in result.stderr
    assert status_of(run)["status"] == "completed" and (run / "model.pt").read_bytes() == model


def test_a_trained_run_whose_checkpoint_is_lost_is_not_started_over(tmp_path):
    run = tiny_run(tiny_dataset(tmp_path / "data"), tmp_path / "run")
    (run / "checkpoints" / "last.pt").unlink()
    metrics = (run / "metrics.csv").read_text()
    result = cli("train", "--resume", run)
    assert result.returncode != 0
    assert "checkpoint" in result.stderr and "cannot be resumed" in result.stderr
    assert (run / "metrics.csv").read_text() == metrics and status_of(run)["status"] == "completed"


def test_the_same_run_given_twice_to_table_is_one_row(tmp_path):
    run = tiny_run(tiny_dataset(tmp_path / "data"), tmp_path / "runs" / "only")
    result = cli("table", run, tmp_path / "runs" / "." / "only", tmp_path / "runs")
    assert result.returncode == 0
    assert result.stdout.count("| only |") == 1
    assert "given more than once, listed once" in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="file size limits (RLIMIT_FSIZE) as on Linux")
def test_a_full_disk_mid_training_is_a_sentence_naming_the_file(tmp_path):
    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "main.py", "train", "--data", data, "--algorithm", "protonet", "--ways", "2", "--shots", "1",
         "--queries", "1", "--image-size", "16", "--steps", "4", "--out", run, "--split", "class",
         "--test-fraction", "0", "--val-fraction", "0.34"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=small_disk,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode != 0
    assert "no room to write" in result.stderr and str(run) in result.stderr
    assert status_of(run)["status"] == "failed"
    assert not [p for p in run.rglob("*.tmp")]  # no half-written files left behind


def test_a_stop_while_the_data_is_loading_saves_nothing_and_says_so(tmp_path):
    data = tmp_path / "data"
    make_good_classes(data, classes=40, images=60)
    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "main.py", "train", "--data", data, "--algorithm", "protonet", "--ways", "2", "--shots", "1",
         "--queries", "1", "--image-size", "16", "--steps", "50", "--out", run],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    # "Found ...": the scan is done; decoding the 2,400 images comes next.
    out, err = signal_at_line(process, "Found ", signal.SIGTERM, timeout=120)
    assert "Traceback" not in err, err
    assert "Stopped while loading the data" in out + err or status_of(run)["status"] == "cancelled"
