"""Inspect shows the evaluation a person last looked at again after a restart, from the run's saved
evaluation.json, without evaluating anew; a run whose evaluation is gone or damaged is not reopened."""

import pytest
from PySide6.QtCore import Qt

from workbench.data.splits import SplitSpec
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def one_run(glyphs_shared, tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=3, shots=1, queries=2, steps=4, val_every=2,
                       val_episodes=2, checkpoint_every=2, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    assert run_to_end(train_run(config, root / "run")).status == "completed"
    return root


def test_the_last_inspected_evaluation_is_shown_again_after_a_restart(window_factory, one_run, qtbot):
    run_dir = one_run / "run"
    window = window_factory()
    window.set_runs_root(one_run)
    window.inspect_page.device = "cpu"
    window.inspect_page.episodes.setValue(4)
    window.tabs.setCurrentWidget(window.runs_page)
    window.runs_page.select_paths([str(run_dir)])
    qtbot.mouseClick(window.runs_page.evaluate_button, Qt.MouseButton.LeftButton)
    page = window.inspect_page
    qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)
    summary = page.summary.text()
    window.close()

    again = window_factory()  # the next start, with the same remembered settings
    shown = again.inspect_page
    assert shown.run_dir == str(run_dir) and not shown.busy  # shown from the file, not evaluated anew
    assert shown.inspection is not None and shown.summary.text() == summary
    again.close()

    (run_dir / "evaluation.json").write_text("{ damaged", encoding="utf-8")
    third = window_factory()
    assert third.inspect_page.run_dir is None and not third.inspect_page.busy  # nothing half-shown, nothing started
    assert window_factory().inspect_page.run_dir is None  # and it is forgotten
