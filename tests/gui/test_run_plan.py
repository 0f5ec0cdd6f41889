"""Before Start the Training page gives each algorithm its own default steps and says how long the
run should take, from the runs already made."""

import pytest
from PySide6.QtCore import Qt

from tests.core.test_runner import config_for
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui


def test_steps_follow_the_algorithm_until_the_person_sets_them(window, qtbot):
    steps = window.protocol_panel.steps
    window.algorithm_panel.set_algorithm("protonet")
    assert steps.value() == 5000  # ProtoNet's updates are cheap: its default trains more of them
    window.algorithm_panel.set_algorithm("anil")  # alphabetically first of the gradient family
    assert steps.value() == 1000
    steps.lineEdit().selectAll()
    qtbot.keyClicks(steps.lineEdit(), "1234")
    qtbot.keyClick(steps.lineEdit(), Qt.Key.Key_Return)
    window.algorithm_panel.set_algorithm("protonet")
    assert steps.value() == 1234  # the person's number stays


@pytest.mark.slow
def test_the_estimate_comes_from_earlier_runs(window_factory, glyphs_shared, tmp_path, qtbot):
    window = window_factory()
    window.algorithm_panel.set_algorithm("protonet")
    window.tabs.setCurrentWidget(window.training_page)
    estimate = window.training_panel.estimate
    assert estimate.isVisible() and "not known yet" in estimate.text()

    run_to_end(train_run(config_for(glyphs_shared, steps=30), window.runs_root / "earlier"))
    window.set_runs_root(window.runs_root)  # the runs folder is read again, as after any run
    protocol = window.protocol_panel
    protocol.ways.setValue(3)
    protocol.shots.setValue(1)
    assert "from 1 earlier run, same ways and shots" in estimate.text()
    assert "5,000 steps: about" in estimate.text()
