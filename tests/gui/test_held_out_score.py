"""The test score a person sees as soon as a run ends: measured in the background on the classes the run
held out, shown on the Training page and in the Runs table, and never left running past a new run."""

import re
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.gui.test_main_window import set_small_protocol
from workbench.gui.held_out_score import MEASURING, NO_TEST_CLASSES
from workbench.gui.runs.run_table import TEST
from workbench.inspect.evaluation import load_inspection
from workbench.runs.folder import RunFolder

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 90_000


def choose_purpose(window, qtbot, purpose: str) -> None:
    """Pick what the run is for on the form, by keys, as a person does."""
    box = window.protocol_panel.purpose
    box.setFocus()
    key = Qt.Key.Key_Down if purpose == "measure" else Qt.Key.Key_Up
    qtbot.keyClick(box, key)
    assert box.currentData() == purpose


def running(job) -> bool:
    """Whether a worker's thread still runs (it deletes itself once ended)."""
    return shiboken6.isValid(job) and job.isRunning()


def start(window, qtbot) -> None:
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    assert window.training is not None


def opened(window, data, qtbot, **protocol) -> None:
    window.data_panel.set_paths([str(data)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, **{"ways": 3, "shots": 1, "queries": 2, "val_episodes": 2, **protocol})


@pytest.mark.slow
def test_a_finished_run_shows_its_test_score_and_the_runs_table_too(window, glyphs_shared, qtbot):
    opened(window, glyphs_shared, qtbot, steps=6, val_every=3)
    choose_purpose(window, qtbot, "measure")
    score = window.training_page.test_score
    score.episodes = 30
    said_at_the_end = []
    window.training_page.runFinished.connect(lambda _event: said_at_the_end.append(score.text()))
    started = []
    window.training_page.runStarted.connect(started.append)
    start(window, qtbot)
    qtbot.waitUntil(lambda: window.last_finished is not None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed"
    assert said_at_the_end == [MEASURING] and score.isVisible()
    qtbot.waitUntil(lambda: score.inspection is not None, timeout=RUN_TIMEOUT_MS)
    run_dir = window.last_finished.run_dir
    held_out = started[0].test_classes
    assert held_out > 0
    saved = load_inspection(run_dir)  # the Inspect page's evaluation, in its own format
    assert saved.class_source == "test split of the run" and len(saved.episodes) == 30
    text = score.text()
    match = re.search(r"Test accuracy (\d+\.\d)% ± (\d+\.\d)%</b> on (\d+) held-out classes, (\d+) episodes", text)
    assert match, text
    assert float(match[1]) == pytest.approx(100 * saved.accuracy, abs=0.05)
    assert float(match[2]) == pytest.approx(100 * saved.ci95, abs=0.05)
    assert (int(match[3]), int(match[4])) == (held_out, 30)
    # The Runs table was read again: its test column shows the same score.
    runs = window.runs_page
    row = next(r for r, run in enumerate(runs.model.runs) if run.path == run_dir)
    assert runs.model.index(row, TEST).data() == f"{100 * saved.accuracy:.1f}% ± {100 * saved.ci95:.1f}"
    # Opening it on the Inspect page shows the saved evaluation without computing it again.
    window.inspect_run(run_dir)
    assert not window.inspect_page.busy and window.inspect_page.inspection.accuracy == saved.accuracy


def test_a_model_to_use_says_there_is_no_test_score(window, glyphs_shared, qtbot):
    opened(window, glyphs_shared, qtbot, steps=3, val_every=3)
    assert window.protocol_panel.purpose.currentData() == "use"
    start(window, qtbot)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    score = window.training_page.test_score
    assert score.isVisible() and score.text() == NO_TEST_CLASSES and not score.measuring
    assert not (Path(window.last_finished.run_dir) / "evaluation.json").exists()


def test_a_new_run_cancels_the_measurement_and_a_stopped_run_is_scored(window, glyphs_shared, qtbot):
    opened(window, glyphs_shared, qtbot, steps=4, val_every=2)
    choose_purpose(window, qtbot, "measure")
    score = window.training_page.test_score
    score.episodes = 10_000  # still measuring when the person starts the next run
    start(window, qtbot)
    qtbot.waitUntil(lambda: score.measuring, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    first_run, first_job = window.last_finished.run_dir, score.job
    assert score.text() == MEASURING

    score.episodes = 20
    window.protocol_panel.steps.setValue(3000)
    start(window, qtbot)
    assert first_job.is_cancelled() and not score.measuring and not score.isVisible()
    qtbot.waitUntil(lambda: not running(first_job), timeout=RUN_TIMEOUT_MS)
    assert not (Path(first_run) / "evaluation.json").exists()  # cancelled: nothing saved
    # Stop the second run once a validation has saved its model: a stopped run with a model is scored too.
    second_run = window.training.run_dir
    qtbot.waitUntil(lambda: RunFolder(second_run).model_path.exists(), timeout=RUN_TIMEOUT_MS)
    qtbot.mouseClick(window.ui.run_controls.buttons[2], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "cancelled"
    qtbot.waitUntil(lambda: score.inspection is not None, timeout=RUN_TIMEOUT_MS)
    assert score.inspection.run_dir == second_run and "Test accuracy" in score.text()


def test_closing_the_window_while_measuring_stops_the_measurement(window_factory, glyphs_shared, qtbot):
    window = window_factory()
    opened(window, glyphs_shared, qtbot, steps=4, val_every=2)
    choose_purpose(window, qtbot, "measure")
    score = window.training_page.test_score
    score.episodes = 10_000
    start(window, qtbot)
    qtbot.waitUntil(lambda: window.training is None and score.measuring, timeout=RUN_TIMEOUT_MS)
    job = score.job
    assert window.close()
    assert not running(job) and not score.measuring  # no thread outlives the window
    assert not (Path(window.last_finished.run_dir) / "evaluation.json").exists()
