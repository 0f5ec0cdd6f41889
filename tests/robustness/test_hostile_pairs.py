"""Kills between two related writes: an exported model and its class list are one commit, so a SIGKILL at
any moment leaves the old pair, a file without its companion, or the new pair, never a pair that lies."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings

import pytest
import torch

from tests.robustness.corpus import make_good_classes
from tests.robustness.helpers import ROOT, tiny_dataset, tiny_run

KILL_AT = """
import os, signal, sys
real = os.replace
def replace(source, target):
    if os.path.basename(target) == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)
    real(source, target)
os.replace = replace
from workbench import cli
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def run_and_support(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    run = tiny_run(tiny_dataset(root / "data"), root / "run")
    make_good_classes(root / "support", classes=3, images=2, prefix="new")
    return run, root / "support"


def embedded_classes(model) -> list[str]:
    extra = {"classes.json": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch marks TorchScript deprecated
        torch.jit.load(str(model), _extra_files=extra)
    return json.loads(extra["classes.json"])


def export_killed_at(run, support, out, file_name: str) -> int:
    argv = ["export", str(run), "--support", str(support), "--format", "torchscript", "--out", str(out),
            "--mode", "model"]
    return subprocess.run([sys.executable, "-c", KILL_AT, file_name, *argv], cwd=ROOT, capture_output=True,
                          timeout=300).returncode


@pytest.mark.parametrize("killed_at", ["model.pt", "model.pt.classes.json"])
def test_an_export_killed_between_its_two_files_never_leaves_a_model_beside_another_class_list(
        run_and_support, tmp_path, killed_at):
    run, support = run_and_support
    out = tmp_path / "model.pt"
    old_classes = ["cat", "dog"]
    out.write_bytes(b"an earlier export")
    (tmp_path / "model.pt.classes.json").write_text(json.dumps({"classes": old_classes}))
    assert export_killed_at(run, support, out, killed_at) == -signal.SIGKILL
    classes_file = tmp_path / "model.pt.classes.json"
    # The old class list went first: whatever model is there now has no list that could misname its outputs.
    assert not classes_file.exists()
    if killed_at == "model.pt":
        assert out.read_bytes() == b"an earlier export"
    else:
        assert embedded_classes(out) == ["new_0", "new_1", "new_2"]  # the new model still names its classes
    assert export_killed_at(run, support, out, "never") == 0  # the next export completes the pair
    assert json.loads(classes_file.read_text())["classes"] == embedded_classes(out) == ["new_0", "new_1", "new_2"]
    assert not list(tmp_path.glob(".*.tmp"))


WRITER = """
import sys, time
from workbench.atomic import write_pair_atomic
tag, folder, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
while time.time() < start:
    pass
for _ in range(20):
    write_pair_atomic(folder + "/m.bin", tag.encode() * 1000, folder + "/m.bin.classes.json", tag.encode())
"""


def test_two_processes_writing_one_pair_at_once_leave_one_writers_pair(tmp_path):
    mismatched = []
    for round_ in range(20):  # without the folder lock, about one round in 30 ended with A's model and B's list
        folder = tmp_path / str(round_)
        folder.mkdir()
        start = time.time() + 0.3
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, tag, str(folder), str(start)], cwd=ROOT)
                   for tag in "AB"]
        assert [w.wait(timeout=60) for w in writers] == [0, 0]
        model, classes = (folder / "m.bin").read_bytes(), (folder / "m.bin.classes.json").read_bytes()
        if model[:1] != classes:
            mismatched.append(round_)
        assert sorted(p.name for p in folder.iterdir()) == ["m.bin", "m.bin.classes.json"]
    assert mismatched == []
