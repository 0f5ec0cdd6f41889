"""The runner: a readable run folder, live events, pause/cancel within a second, NaN stops, resume."""

import csv
import json
import threading
import time

import pytest
import torch

from workbench.algorithms import registry
from workbench.algorithms.protonet import ProtoNet
from workbench.data.splits import SplitSpec
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.training.control import RunControl
from workbench.training.events import EpisodePredictions, RunFinished, RunStarted, TrainStep, Validation
from workbench.training.runner import run_to_end, train_run


def config_for(data, **overrides):
    settings = dict(
        data=[str(data)], algorithm="protonet", ways=3, shots=1, queries=2, steps=30, val_every=10,
        val_episodes=5, checkpoint_every=10, split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)), precision="fp32",
    )
    settings.update(overrides)
    return RunConfig(**settings)


def test_a_short_run_writes_a_folder_a_person_can_read(glyphs_shared, tmp_path):
    events = list(train_run(config_for(glyphs_shared, steps=6, val_every=2, checkpoint_every=2), tmp_path / "run"))
    kinds = [type(e) for e in events]
    assert RunStarted in kinds and kinds[-1] is RunFinished
    steps = [e for e in events if isinstance(e, TrainStep)]
    assert [s.step for s in steps] == list(range(1, 7))
    assert all(s.episodes_per_s > 0 and s.eta_s >= 0 for s in steps)
    assert len([e for e in events if isinstance(e, Validation)]) == 3
    predictions = [e for e in events if isinstance(e, EpisodePredictions)]
    assert predictions and len(predictions[-1].predicted) == 6
    assert events[-1].status == "completed"
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["algorithm"] == "protonet" and config["split"]["test_groups"] == ["group_2"]
    env = json.loads((run / "environment.json").read_text())
    assert {"torch", "python", "device", "precision"} <= set(env)
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert len([r for r in rows if r["phase"] == "train"]) == 6 and len([r for r in rows if r["phase"] == "val"]) == 3
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    assert torch.load(run / "model.pt", weights_only=True)
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"] == 6
    calibration = RunFolder(run).read_calibration()  # what adapt will calibrate confidences with
    # ProtoNet's predictions refined with the queries have a calibration of their own (adaptation/refine.py).
    assert set(calibration["temperatures"]) == set(calibration["powers"]) == {"model", "pixels", "model+refined"}


def test_a_calibration_file_from_before_powers_or_damaged_costs_only_what_is_wrong(tmp_path):
    folder = RunFolder(tmp_path)
    (tmp_path / "calibration.json").write_text(json.dumps({"temperatures": {"model": 1.3, "pixels": 0.2}}))
    assert folder.read_calibration() == {"temperatures": {"model": 1.3, "pixels": 0.2}, "powers": {}}  # power 1
    (tmp_path / "calibration.json").write_text(json.dumps(
        {"temperatures": {"model": 0.09, "pixels": -1}, "powers": {"model": 0.3, "pixels": 0.5, "other": "x"}}))
    assert folder.read_calibration() == {"temperatures": {"model": 0.09}, "powers": {"model": 0.3}}
    (tmp_path / "calibration.json").write_text("{not json")
    assert folder.read_calibration() == {"temperatures": {}, "powers": {}}


def test_calibration_takes_its_episode_count_from_the_environment_when_set(monkeypatch):
    from workbench.adaptation.run_calibration import CALIBRATION_EPISODES
    from workbench.training.recalibrate import EPISODES_VARIABLE, calibration_episodes

    monkeypatch.delenv(EPISODES_VARIABLE, raising=False)
    assert calibration_episodes() == CALIBRATION_EPISODES == 50
    monkeypatch.setenv(EPISODES_VARIABLE, "3")
    assert calibration_episodes() == 3
    for unusable in ("0", "-2", "many", ""):
        monkeypatch.setenv(EPISODES_VARIABLE, unusable)
        assert calibration_episodes() == CALIBRATION_EPISODES


def test_an_existing_run_folder_is_not_overwritten(glyphs_shared, tmp_path):
    run_to_end(train_run(config_for(glyphs_shared, steps=2), tmp_path / "run"))
    from workbench.errors import RunFolderError

    with pytest.raises(RunFolderError, match="already holds a run"):
        run_to_end(train_run(config_for(glyphs_shared, steps=2), tmp_path / "run"))


def test_cancel_and_pause_answer_within_a_second(glyphs_shared, tmp_path):
    # MAML with a big meta-batch: one meta-update takes several seconds on this CPU.
    config = config_for(glyphs_shared, algorithm="maml", meta_batch=64, steps=5, image_size=56, queries=5)
    control = RunControl()
    events = []
    thread = threading.Thread(target=lambda: events.extend(train_run(config, tmp_path / "run", control)))
    thread.start()
    deadline = time.monotonic() + 60
    while not any(isinstance(e, RunStarted) for e in events) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # now in the middle of the first slow meta-update
    control.pause()
    time.sleep(1.5)
    assert not any(isinstance(e, TrainStep) for e in events), "paused before the first step finished"
    control.resume()
    time.sleep(0.3)
    asked = time.monotonic()
    control.cancel()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 1.5
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "cancelled"
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "cancelled"


class ExplodingProtoNet(ProtoNet):
    """ProtoNet whose inputs blow up after a few updates, as a diverging run's would."""

    name = "exploding-test"
    updates = 0

    def meta_train(self, episodes):
        type(self).updates += 1
        if type(self).updates > 12:
            episodes = [e.__class__(e.support_x * float("inf"), e.support_y, e.query_x, e.query_y, e.class_names) for e in episodes]
        return super().meta_train(episodes)


@pytest.fixture
def exploding():
    registry.register(ExplodingProtoNet)
    ExplodingProtoNet.updates = 0
    yield ExplodingProtoNet.name
    registry.unregister(ExplodingProtoNet.name)


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(glyphs_shared, tmp_path, exploding):
    finished = run_to_end(train_run(config_for(glyphs_shared, algorithm=exploding, steps=30), tmp_path / "run"))
    assert finished.status == "failed" and "not a finite number" in finished.message
    assert "step 10" in finished.message
    checkpoint = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert checkpoint["step"] == 10
    assert all(torch.isfinite(t).all() for t in checkpoint["model"]["backbone"].values() if t.is_floating_point())
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["status"] == "failed" and "finite" in status["message"]


@pytest.mark.slow
def test_resume_continues_where_the_run_stopped(glyphs_shared, tmp_path):
    # Cancelled half-way, at a validation and checkpoint step, as with longer runs.
    config = config_for(glyphs_shared, steps=8, val_every=2, checkpoint_every=2)
    uninterrupted = [e for e in train_run(config, tmp_path / "whole") if isinstance(e, TrainStep)]
    control = RunControl()
    partial = []
    for event in train_run(config, tmp_path / "parts", control):
        if isinstance(event, TrainStep):
            partial.append(event)
            if event.step == 4:
                control.cancel()
    resumed = [e for e in train_run(config, tmp_path / "parts", resume=True) if isinstance(e, TrainStep)]
    assert resumed[0].step == 5 and resumed[-1].step == 8
    # Same seed, same sampler and optimiser state: the resumed losses equal the uninterrupted ones.
    assert len(uninterrupted[4:]) == len(resumed) == 4
    for a, b in zip(uninterrupted[4:], resumed):
        assert a.loss == pytest.approx(b.loss, rel=1e-4, abs=1e-5)
    steps = [int(r["step"]) for r in RunFolder(tmp_path / "parts").read_metrics() if r["phase"] == "train"]
    assert steps == list(range(1, 9))


def test_cancel_while_loading_data_writes_nothing(glyphs_shared, tmp_path):
    control = RunControl()
    events = []
    for event in train_run(config_for(glyphs_shared), tmp_path / "run", control):
        events.append(event)
        control.cancel()  # right after the first event, before the images are decoded
    assert isinstance(events[-1], RunFinished) and events[-1].status == "cancelled"
    assert "before training began" in events[-1].message
    assert not (tmp_path / "run").exists()
