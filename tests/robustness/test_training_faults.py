"""Faults during training: kills at random moments, exact resume, out-of-memory, crashing plugins, slow episodes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from tests.robustness.faulty_algorithms import FAULTY
from tests.robustness.helpers import ROOT, cli, last_line, tiny_config, tiny_dataset
from workbench.algorithms import registry
from workbench.runs.folder import RunFolder
from workbench.training.control import RunControl
from workbench.training.events import RunFinished, RunStarted, TrainStep
from workbench.training.runner import run_to_end, train_run

PLUGIN_ENV = {"WORKBENCH_PLUGIN_PATH": str(ROOT / "tests" / "robustness" / "plugins")}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_dataset(tmp_path_factory.mktemp("faults") / "data")


@pytest.fixture
def faulty():
    for cls in FAULTY:
        registry.register(cls)
    yield
    for cls in FAULTY:
        registry.unregister(cls.name)


def assert_folder_is_valid(run: Path) -> None:
    """What any reader (GUI, CLI, a person) needs from a run folder at any instant."""
    folder = RunFolder.open(run)
    folder.read_config()
    assert folder.read_status()["status"] in ("running", "completed", "cancelled", "failed")
    folder.read_metrics()
    if folder.checkpoint_path.exists():
        folder.load_checkpoint()
    if folder.model_path.exists():
        folder.load_model()
    (run / "environment.json").exists() and json.loads((run / "environment.json").read_text())


def final_weights(run: Path) -> dict:
    return RunFolder(run).load_checkpoint()["model"]["backbone"]


def train_losses(run: Path) -> dict[int, str]:
    rows = [r for r in RunFolder(run).read_metrics() if r["phase"] == "train"]
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(set(steps)), "a step appears twice or out of order"
    return {int(r["step"]): r["loss"] for r in rows}


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_run(data, tmp_path):
    run = tmp_path / "run"
    steps = 40
    new_run = ["train", "--data", data, "--out", run, "--ways", 2, "--queries", 1, "--image-size", 16, "--steps", steps,
               "--checkpoint-every", 1, "--val-every", 5, "--val-episodes", 2, "--device", "cpu", "--precision", "fp32",
               "--val-fraction", 0.34, "--test-fraction", 0, "--seed", 3, "--quiet"]
    rng = random.Random(20240611)
    kills, before_start = 0, 0
    for attempt in range(9):
        started = (run / "config.json").exists()
        args = ["train", "--resume", run, "--quiet"] if started else new_run
        process = subprocess.Popen([sys.executable, "main.py", *map(str, args)], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        step_before = RunFolder(run).read_status().get("step", 0) if started else -1
        if attempt % 3 == 0:
            time.sleep(rng.uniform(0.1, 2.5))  # anywhere: importing, scanning, training
        else:
            deadline = time.monotonic() + 60  # once it trains again, somewhere in the next steps
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    if RunFolder(run).read_status().get("step", 0) > step_before:
                        break
                except Exception:
                    pass
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
            before_start += not (run / "checkpoints" / "last.pt").exists()
        process.wait()
        if (run / "config.json").exists():
            assert_folder_is_valid(run)
        if RunFolder(run).read_status().get("status") == "completed" if (run / "config.json").exists() else False:
            break
    assert kills >= 6, f"only {kills} kills landed"
    result = cli("train", "--resume", run) if (run / "config.json").exists() else cli(*new_run)
    assert result.returncode == 0, result.stderr
    assert_folder_is_valid(run)
    assert RunFolder(run).read_status()["status"] == "completed"
    assert sorted(train_losses(run)) == list(range(1, steps + 1))
    assert not list(run.rglob("*.tmp")), "half-written files were left behind"
    # And the result is the one an uninterrupted run with the same seed gets (run the same way, in a
    # process of its own: torch's thread count, which the GUI tests change in this one, affects the last bits).
    reference = cli(*[tmp_path / "whole" if a == run else a for a in new_run])
    assert reference.returncode == 0, reference.stderr
    assert train_losses(run) == train_losses(tmp_path / "whole")
    for name, tensor in final_weights(tmp_path / "whole").items():
        assert torch.equal(final_weights(run)[name], tensor), name


def test_resumed_run_equals_uninterrupted_run(data, tmp_path):
    config = tiny_config(data, steps=10, checkpoint_every=4, val_every=3, seed=5)
    run_to_end(train_run(config, tmp_path / "whole"))
    control = RunControl()
    for event in train_run(config, tmp_path / "parts", control):
        if isinstance(event, TrainStep) and event.step == 6:
            control.cancel()  # between checkpoints: the cancel itself checkpoints step 6
    assert RunFolder(tmp_path / "parts").read_status()["status"] == "cancelled"
    events = list(train_run(config, tmp_path / "parts", resume=True))
    assert [e.step for e in events if isinstance(e, TrainStep)] == [7, 8, 9, 10]
    assert train_losses(tmp_path / "parts") == train_losses(tmp_path / "whole")
    whole, parts = final_weights(tmp_path / "whole"), final_weights(tmp_path / "parts")
    assert set(whole) == set(parts)
    for name in whole:
        assert torch.equal(whole[name], parts[name]), name
    best_whole = RunFolder(tmp_path / "whole").load_model()["backbone"]
    best_parts = RunFolder(tmp_path / "parts").load_model()["backbone"]
    assert all(torch.equal(best_whole[n], best_parts[n]) for n in best_whole)


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_again(data, tmp_path):
    config = tiny_config(data, steps=3)
    control = RunControl()
    from workbench.runs.folder import RunFolder as Folder
    from workbench.training.runner import environment

    Folder.create(tmp_path / "run", config, environment(torch.device("cpu"), "fp32"))  # what a kill at step 0 leaves
    (tmp_path / "run" / "checkpoints" / ".last.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    finished = run_to_end(train_run(config, tmp_path / "run", control, resume=True))
    assert finished.status == "completed"
    assert sorted(train_losses(tmp_path / "run")) == [1, 2, 3]
    assert not list((tmp_path / "run").rglob("*.tmp"))


@pytest.mark.parametrize("algorithm, words", [
    ("oom-test", "ran out of memory"),
    ("crash-test", "KeyError: 'weights_of_layer_7'"),
])
def test_a_failing_algorithm_ends_the_run_with_a_message_and_keeps_the_last_checkpoint(data, tmp_path, faulty,
                                                                                        algorithm, words):
    finished = run_to_end(train_run(tiny_config(data, algorithm=algorithm, steps=8, checkpoint_every=2), tmp_path / "run"))
    assert finished.status == "failed" and words in finished.message
    assert "at step 3" in finished.message and "last good checkpoint (step 2) is kept" in finished.message
    folder = RunFolder(tmp_path / "run")
    assert folder.load_checkpoint()["step"] == 2
    assert folder.read_status()["status"] == "failed" and words in folder.read_status()["message"]
    assert "Traceback" in (tmp_path / "run" / "log.txt").read_text()  # the details are kept for a bug report


@pytest.mark.parametrize("algorithm, code, words", [
    ("oom-test", 1, "ran out of memory"),
    ("broken-init-test", 1, "this plugin needs a GPU driver"),
])
def test_cli_failing_algorithm_is_one_line(data, tmp_path, algorithm, code, words):
    result = cli("train", "--data", data, "--algorithm", algorithm, "--out", tmp_path / "run", "--ways", 2,
                 "--queries", 1, "--image-size", 16, "--steps", 8, "--checkpoint-every", 2, "--device", "cpu",
                 "--val-fraction", 0.34, "--test-fraction", 0, "--quiet", env=PLUGIN_ENV, process=True)
    assert result.returncode == code, result.stderr
    assert words in last_line(result), result.stderr


def test_cancel_and_pause_answer_within_a_second_in_the_middle_of_one_slow_episode(data, tmp_path):
    # MAML with a long inner loop on big images: one episode (meta-batch 1) takes seconds.
    config = tiny_config(data, algorithm="maml", image_size=84, steps=3, meta_batch=1,
                         hparams={"inner_steps": 40, "first_order": False})
    control = RunControl()
    events: list = []
    thread = threading.Thread(target=lambda: events.extend(train_run(config, tmp_path / "run", control)))
    thread.start()
    deadline = time.monotonic() + 60
    while not any(isinstance(e, RunStarted) for e in events) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # inside the first episode's inner loop
    control.pause()
    time.sleep(1.0)  # an inner step may finish; then it must hold
    steps_at_pause = sum(isinstance(e, TrainStep) for e in events)
    time.sleep(1.0)
    assert sum(isinstance(e, TrainStep) for e in events) == steps_at_pause
    control.resume()
    time.sleep(0.3)
    asked = time.monotonic()
    control.cancel()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 1.5
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"
