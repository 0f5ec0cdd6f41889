"""The pages follow the work: a run started on the Training page is on the Runs page at once, and a new
project shows every page afresh, with nothing of the project before."""

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS, own_rows
from tests.gui.dialogs import click, key, press
from tests.gui.test_main_window import set_small_protocol
from workbench.gui.banner import MessageBanner
from workbench.gui.unsaved_guard import DISCARD

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 90_000


def load(window, qtbot, data) -> None:
    window.data_panel.set_paths([str(data)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)


def test_a_run_started_on_the_training_page_is_on_the_runs_page_without_f5(window, glyphs_shared, qtbot):
    load(window, qtbot, glyphs_shared)
    set_small_protocol(window, ways=3, shots=1, queries=2, steps=3000, val_every=1000, val_episodes=2)
    runs = window.runs_page.model
    assert own_rows(runs) == []
    with qtbot.waitSignal(window.training_page.runStarted, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    (row,) = own_rows(runs)
    assert runs.index(row, 6).data() == "running"
    qtbot.waitUntil(lambda: window.training_panel.last_step >= 2, timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(window.ui.run_controls.buttons[2], Qt.MouseButton.LeftButton)  # Stop
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    key(qtbot, window.tabs, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # the Runs page, no F5
    (row,) = own_rows(runs)
    assert runs.index(row, 6).data().startswith("stopped at ")


@pytest.mark.slow
def test_new_project_shows_every_page_afresh(window, glyphs_shared, flat_folder, qtbot):
    load(window, qtbot, glyphs_shared)
    set_small_protocol(window, ways=3, shots=1, queries=2, steps=6, val_every=3, val_episodes=2)
    purpose = window.protocol_panel.purpose
    purpose.setCurrentIndex(purpose.findData("measure"))  # some classes held out: a test score, and its evaluation
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    score = window.training_page.test_score
    qtbot.waitUntil(lambda: not score.measuring and "test" in score.text().lower(), timeout=RUN_TIMEOUT_MS)
    assert window.curves.point_count("val_acc") >= 1 and window.banner.isVisible()
    page = window.label_page
    key(qtbot, window.tabs, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    page.open_folder(str(flat_folder))
    page.add_class("round")
    key(qtbot, page.ui.images.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_1)
    assert page.session.labels
    key(qtbot, window.tabs, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    window.runs_page.select_paths([window.last_finished.run_dir])
    inspect = window.inspect_page
    qtbot.mouseClick(window.runs_page.evaluate_button, Qt.MouseButton.LeftButton)  # opens the score's evaluation
    qtbot.waitUntil(lambda: inspect.inspection is not None, timeout=RUN_TIMEOUT_MS)
    key(qtbot, window.tabs, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)

    answered = press(click(DISCARD))  # the labels are not saved: the window asks first
    key(qtbot, window.tabs, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(answered) == 1 and "Save the labels?" in answered[0].windowTitle()

    assert window.data_panel.paths() == [] and window.scan is None
    assert window.dataset_view.stack.currentWidget() is window.dataset_view.hint
    # Training: no curves, predictions, test score, run folder or log of the run before.
    assert window.curves.point_count("val_acc") == 0 and window.curves.point_count("train_loss") == 0
    assert window.last_finished is None and not score.isVisible() and score.text() == ""
    panel = window.training_panel
    assert panel.run_dir.text() == "" and panel.log.toPlainText() == ""
    assert "Choose a dataset" in panel.status.text()
    # Label: no folder, labels, classes or model.
    assert page.session is None and page.model.rowCount() == 0 and page.ui.side.class_list.count() == 0
    assert page.ui.images.stack.currentWidget() is page.ui.images.hint and not page.has_model
    # Runs and Inspect: nothing chosen, nothing opened; and no message anywhere.
    assert window.runs_page.selected_paths() == []
    assert inspect.run_dir is None and inspect.inspection is None and "No run opened" in inspect.title.text()
    assert inspect.per_class_model.rowCount() == 0
    assert [b.text for b in window.findChildren(MessageBanner) if not b.isHidden()] == []
    assert window.windowTitle().startswith("Few-Shot Workbench")
    assert window.tabs.currentWidget() is window.dataset_view  # where a new project begins
