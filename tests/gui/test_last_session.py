"""After a restart the window picks up where the person left off: the last dataset is open again and
the Label page has its model; what is gone by then is skipped and said in the status bar."""

import shutil

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from workbench.data.splits import SplitSpec
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def tiny_run(glyphs_shared, tmp_path_factory):
    run = tmp_path_factory.mktemp("last-session") / "runs" / "tiny"
    config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=3, shots=1, queries=1, steps=2,
                       val_every=2, val_episodes=1, checkpoint_every=2, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    assert run_to_end(train_run(config, run)).status == "completed"
    return run


def type_dataset(window, qtbot, path) -> None:
    """Type the dataset's path into the first field and press Enter, as a person does."""
    edit = window.data_panel.rows[0].edit
    edit.setFocus()
    qtbot.keyClicks(edit, str(path))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.scan_running and window.scan is not None, timeout=SCAN_TIMEOUT_MS)


def use_for_labelling(window, qtbot, run_dir) -> None:
    """Runs page: click the run's row, then Use for labelling."""
    window.set_runs_root(run_dir.parent)
    page = window.runs_page
    window.tabs.setCurrentWidget(page)
    row = next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, 0).data() == run_dir.name)
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.table.visualRect(page.proxy.index(row, 0)).center())
    qtbot.mouseClick(page.label_button, Qt.MouseButton.LeftButton)
    assert window.label_page.model_run_dir == str(run_dir)


def test_a_restart_reopens_the_last_dataset_and_the_label_pages_model(window_factory, glyphs, tiny_run, qtbot):
    first = window_factory()
    type_dataset(first, qtbot, glyphs)
    use_for_labelling(first, qtbot, tiny_run)
    assert first.close()

    second = window_factory()  # the next start
    qtbot.waitUntil(lambda: not second.scan_running and second.scan is not None, timeout=SCAN_TIMEOUT_MS)
    assert second.data_panel.paths() == [str(glyphs)]
    assert len(second.scan.classes) == 12 and second.actions.start.isEnabled()
    label = second.label_page
    assert label.has_model and label.model_run_dir == str(tiny_run)
    assert tiny_run.name in label.ui.side.model_label.text()
    assert second.close()

    # The dataset is gone by the next start: skipped, and the status bar says so; the model is still there.
    moved = glyphs.parent / "moved-away"
    shutil.move(str(glyphs), moved)
    third = window_factory()
    assert third.data_panel.paths() == [] and third.scan is None and not third.scan_running
    message = third.statusBar().currentMessage()
    assert str(glyphs) in message and "no longer there" in message
    assert third.label_page.model_run_dir == str(tiny_run)
    assert third.close()
    assert window_factory().data_panel.paths() == []  # forgotten, not reported at every start


def test_a_new_window_in_another_test_starts_clean(window, fresh_settings):
    """The test above remembered a dataset and a model in its own settings file; this window sees neither."""
    assert window.data_panel.paths() == [] and window.scan is None and not window.scan_running
    assert window.label_page.model_run_dir is None and not window.label_page.has_model
    assert str(fresh_settings) == window.settings.fileName()
