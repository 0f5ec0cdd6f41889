"""Resuming a stopped run, as a person does it: from the Runs page or the banner's Resume button, it
lands on the Training page with the run's whole history, and no finished scan moves them away."""

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS, own_rows
from workbench.data.splits import SplitSpec
from workbench.runs.folder import RunFolder
from workbench.runs.config import RunConfig
from workbench.training.control import RunControl
from workbench.training.events import TrainStep
from workbench.training.runner import train_run

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 90_000
STOP_AT = 9


def stopped_run(data, run_dir, steps=14):
    """A real ProtoNet run stopped by its control at step STOP_AT (checkpoint and validations before it)."""
    config = RunConfig(data=[str(data)], algorithm="protonet", ways=3, shots=1, queries=2, steps=steps, val_every=3,
                       val_episodes=2, checkpoint_every=3, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)), seed=2)
    control = RunControl()
    for event in train_run(config, run_dir, control):
        if isinstance(event, TrainStep) and event.step >= STOP_AT:
            control.cancel()
    assert RunFolder(run_dir).read_status()["status"] == "cancelled"
    return run_dir


@pytest.mark.slow
def test_resume_from_the_runs_page_shows_the_whole_run_on_the_training_page(window, glyphs_shared, tmp_path, qtbot):
    run_dir = stopped_run(glyphs_shared, tmp_path / "runs" / "stopped")
    status = RunFolder(run_dir).read_status()
    window.set_runs_root(tmp_path / "runs")
    window.tabs.setCurrentWidget(window.runs_page)
    window.runs_page.select_paths([str(run_dir)])
    model = window.runs_page.model
    (row,) = own_rows(model)
    assert model.index(row, 6).data() == f"stopped at {STOP_AT}/14"  # the banner's word, not "cancelled"
    qtbot.mouseClick(window.runs_page.resume_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.training_page
    qtbot.waitUntil(lambda: window.training is not None and window.training.started_training, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.tabs.currentWidget() is window.training_page  # the scan it started did not take the page
    # Before any new step is drawn, the run's earlier steps and its best validation are there.
    x, _y = window.curves.items["train_loss"].getOriginalDataset()
    assert x is not None and x[0] == 1 and window.curves.point_count("val_acc") >= 2
    assert f"{status['best_val_accuracy']:.1%}" in window.training_panel.best.text()
    assert window.training_panel.progress.value() >= status["step"]
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    x, _y = window.curves.items["train_loss"].getOriginalDataset()
    assert list(x) == list(range(1, 15))  # one curve from the first step to the last, none twice
    loss_axis = window.curves.loss_plot.getAxis("left")
    assert loss_axis.autoSIPrefixScale == 1.0 and "x0" not in loss_axis.labelString()


def test_the_stopped_banner_offers_resume(window, glyphs_shared, qtbot):
    from tests.gui.test_main_window import set_small_protocol

    window.data_panel.set_paths([str(glyphs_shared)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, ways=3, shots=1, queries=2, steps=3000, val_every=1000, val_episodes=2)
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training_panel.last_step >= 3, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(window.ui.run_controls.buttons[2], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    run_dir = window.last_finished.run_dir
    assert "resumed" in window.banner.text and window.banner.action_button.isVisible()
    assert window.banner.action_button.text() == "Resume"
    qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
    assert window.training is not None and window.training.resume
    qtbot.waitUntil(lambda: window.training_panel.last_step > 3, timeout=RUN_TIMEOUT_MS)
    assert window.training_panel.run_dir.text() == run_dir  # the same run, not a new one
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
