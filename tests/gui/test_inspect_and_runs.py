"""The Inspect and Runs pages, projects, themes, drag and drop and the demo dataset, driven in the real window."""

import json
import math
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import SCAN_TIMEOUT_MS, own_rows
from workbench.data.splits import SplitSpec
from workbench.inspect.evaluation import calibration_of
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui

WAYS, SHOTS, QUERIES, EPISODES = 3, 1, 2, 8


@pytest.fixture(scope="module")
def two_runs(glyphs_shared, tmp_path_factory):
    """Two tiny real ProtoNet runs (different learning rates) under one runs root."""
    root = tmp_path_factory.mktemp("runs")
    for name, lr in (("run-a", 1e-3), ("run-b", 3e-3)):
        config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", hparams={"lr": lr}, ways=WAYS, shots=SHOTS,
                           queries=QUERIES, steps=12, val_every=4, val_episodes=3, checkpoint_every=4, device="cpu",
                           precision="fp32", split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
        finished = run_to_end(train_run(config, root / name))
        assert finished.status == "completed"
    return root


def evaluated_window(window_factory, runs_root, qtbot):
    window = window_factory()
    window.set_runs_root(runs_root)
    window.inspect_page.device = "cpu"
    window.inspect_page.episodes.setValue(EPISODES)
    return window


@pytest.mark.slow
def test_evaluating_a_run_shows_accuracy_per_class_confusion_and_mistakes(window_factory, two_runs, qtbot):
    run_dir = str(two_runs / "run-a")
    window = evaluated_window(window_factory, two_runs, qtbot)
    window.runs_page.select_paths([run_dir])
    window.actions.evaluate.trigger()  # Ctrl+E on the selected run
    page = window.inspect_page
    assert window.tabs.currentWidget() is page
    assert page.progress.isVisible() and page.cancel_button.isVisible()  # a job, with a progress bar and cancel
    qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)
    queries = EPISODES * WAYS * QUERIES
    assert page.inspection.query_count == queries
    assert page.confusion_model.total() == queries
    # Every class evaluated has a row, with its accuracy shown as a percentage.
    assert page.per_class_model.rowCount() == len(page.inspection.classes) >= WAYS
    shown = [page.per_class_model.index(r, 1).data() for r in range(page.per_class_model.rowCount())]
    assert all(text.endswith("%") for text in shown)
    correct = sum(page.confusion_model.matrix[i][i] for i in range(len(page.inspection.classes)))
    assert math.isclose(page.inspection.accuracy, correct / queries, abs_tol=1e-9)  # equal queries per episode
    assert "±" in page.summary.text() and f"{queries} queries" in page.summary.text()
    assert "expected calibration error" in page.summary.text()  # confidences are checked, not only accuracy
    # The reliability diagram: one bar per confidence bin that holds predictions, its height the share right.
    qtbot.mouseClick(page.views.tabBar(), Qt.MouseButton.LeftButton,
                     pos=page.views.tabBar().tabRect(page.views.indexOf(page.reliability)).center())
    assert page.views.currentWidget() is page.reliability and page.reliability.isVisible()
    report = calibration_of(page.inspection)
    filled = [b for b in report.bins if b[3] > 0]
    assert page.reliability.bar_heights() == pytest.approx([100 * b[2] for b in filled])
    assert f"{report.ece:.1%}" in page.reliability.status.text()
    # Each wrong query once (a query drawn in several episodes is one row), at most 24 kept.
    assert len(page.mistakes.rows) == len({m.query_path for m in page.inspection.mistakes})
    assert len(page.inspection.mistakes) == min(24, queries - correct)
    # Saved, and reopened without computing again.
    saved = json.loads((two_runs / "run-a" / "evaluation.json").read_text())
    assert sum(map(sum, saved["confusion"])) == queries
    again = evaluated_window(window_factory, two_runs, qtbot)
    again.inspect_run(run_dir)
    assert not again.inspect_page.busy
    assert again.inspect_page.confusion_model.total() == queries
    assert len(again.inspect_page.mistakes.rows) == len(page.mistakes.rows)


def test_embedding_view_shows_each_point_and_its_image_on_click(window_factory, two_runs, qtbot):
    window = evaluated_window(window_factory, two_runs, qtbot)
    window.inspect_run(str(two_runs / "run-b"))
    page = window.inspect_page
    qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)
    page.views.setCurrentWidget(page.embedding)
    view = page.embedding
    qtbot.waitUntil(lambda: view.embedding is not None, timeout=60_000)
    assert view.point_counts() == {"support": WAYS * SHOTS, "query": WAYS * QUERIES, "prototype": WAYS}
    assert len(view.scatter.points()) == WAYS * SHOTS + WAYS * QUERIES + WAYS
    # Click the first query point with the mouse, where it is drawn.
    target = next(i for i, p in enumerate(view.embedding.points) if p.kind == "query")
    point = view.embedding.points[target]
    view.plot_widget.resize(600, 400)
    QApplication.processEvents()
    scene = view.plot.vb.mapViewToScene(QPointF(point.x, point.y))
    spot = view.plot_widget.mapFromScene(scene)
    qtbot.mouseClick(view.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert view.selected is not None and view.selected.kind in ("query", "support")
    assert view.preview.pixmap() is not None and not view.preview.pixmap().isNull()
    assert "of <b>" in view.preview_caption.text()
    # The task map: one point per episode; clicking a task opens its embedding.
    assert len(page.tasks.scatter.points()) == EPISODES
    page.tasks.episodeClicked.emit(3)
    assert page.views.currentWidget() is view and view.episode.value() == 4


def test_selecting_two_runs_overlays_two_curves(window_factory, two_runs, qtbot):
    window = window_factory()
    window.set_runs_root(two_runs)
    page = window.runs_page
    window.tabs.setCurrentWidget(page)
    assert page.model.rowCount() >= 2 and not page.empty_hint.isVisible()
    names = [page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())]
    first, second = names.index("run-a"), names.index("run-b")
    rect = lambda row: page.table.visualRect(page.proxy.index(row, 0)).center()  # noqa: E731
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect(first))
    assert page.curve_count() == 1
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect(second))
    assert page.curve_count() == 2
    assert len(page.legend.items) == 2
    # Wall-clock axis: the same curves over minutes since training began (chosen as a person would, by keys).
    steps_x = page.curves[page.selected_paths()[0]][-1].getData()[0]
    page.x_axis.setFocus()
    qtbot.keyClick(page.x_axis, Qt.Key.Key_Down)
    assert page.x_axis.currentText() == "wall-clock time" and page.curve_count() == 2
    minutes_x = page.curves[page.selected_paths()[0]][-1].getData()[0]
    assert len(minutes_x) == len(steps_x) and minutes_x.max() < steps_x.max()
    assert "minutes" in page.plot.getAxis("bottom").labelText
    # Smoothing 0 draws the train curve as measured.
    train_before = page.curves[page.selected_paths()[0]][0].getData()[1].copy()
    page.smoothing.selectAll()
    qtbot.keyClicks(page.smoothing, "0")
    qtbot.keyClick(page.smoothing, Qt.Key.Key_Return)
    assert page.smoothing.value() == 0.0
    assert (page.curves[page.selected_paths()[0]][0].getData()[1] != train_before).any()
    assert page.model.index(0, 5).data().endswith("%")  # best validation accuracy, in percent
    assert not page.evaluate_button.isEnabled()  # two selected: nothing to evaluate as one
    # Sorting by best validation accuracy puts the better run first.
    page.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    best = max(page.model.runs, key=lambda r: r.best_val_accuracy)
    assert page.proxy.index(0, 0).data() == best.name


def test_project_is_saved_and_reopened(window_factory, glyphs, tmp_path, qtbot):
    window = window_factory()
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    window.set_runs_root(tmp_path / "my-runs")
    window.algorithm_panel.set_algorithm("maml")
    project_file = tmp_path / "experiment.fswproj"
    assert window.projects.save(path=str(project_file))
    assert "experiment" in window.windowTitle()
    other = window_factory()
    assert other.projects.open(str(project_file))
    qtbot.waitUntil(lambda: not other.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert other.data_panel.paths() == [str(glyphs)]
    assert other.runs_root == tmp_path / "my-runs"
    assert other.algorithm_panel.name == "maml"
    assert other.scan is not None and len(other.scan.classes) == 12
    assert other.projects.recent()[0] == str(project_file.resolve())
    assert any("experiment" in a.text() for a in other.menus.recent_projects.actions())


def test_a_corrupted_project_file_gives_a_message(window, tmp_path):
    broken = tmp_path / "broken.fswproj"
    broken.write_text('{"format": 1, "datasets": ')
    assert not window.projects.open(str(broken))
    assert window.banner.level == "error" and str(broken) in window.banner.text and "not valid JSON" in window.banner.text
    wrong = tmp_path / "wrong.fswproj"
    wrong.write_text(json.dumps({"format": 1, "datasets": "not a list"}))
    assert not window.projects.open(str(wrong))
    assert "'datasets'" in window.banner.text and str(wrong) in window.banner.text


@pytest.mark.slow
def test_dark_theme_applies_and_is_remembered(window_factory, qtbot):
    window = window_factory()
    window.actions.themes["dark"].trigger()
    app = QApplication.instance()
    try:
        assert window.theme == "dark"
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert "dark look" in app.styleSheet()
        assert window.runs_page.plot_widget.backgroundBrush().color().lightness() < 80
        assert window_factory().actions.themes["dark"].isChecked()  # a new window opens dark
    finally:
        window.set_theme("light")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_dropping_a_folder_on_the_window_loads_it(window, glyphs, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(glyphs))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.data_panel.paths() == [str(glyphs)]
    assert window.scan is not None and len(window.scan.classes) == 12
    # A file that is neither a folder nor a zip is refused.
    text = Path(glyphs) / "notes.txt"
    text.write_text("x")
    mime.setUrls([QUrl.fromLocalFile(str(text))])
    refused = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_demo_dataset_from_the_menu_is_drawn_and_loaded(window, qtbot):
    window.demo_classes, window.demo_images = 10, 6
    window.actions.demo.trigger()
    assert window.status_job.progress.isVisible()
    qtbot.waitUntil(lambda: not window.status_job.running and not window.scan_running, timeout=30_000)
    assert window.scan is not None and len(window.scan.classes) == 10
    assert window.banner.level == "success" and "Start training" in window.banner.text
    assert window.actions.start.isEnabled()


def test_get_omniglot_offline_says_so(window, qtbot, monkeypatch, tmp_path):
    import urllib.request

    def offline(*_args, **_kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    # The real download path of torchvision, cut where the network would answer (this machine is offline
    # anyway; this keeps the test from waiting on DNS).
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    window.actions.omniglot.trigger()
    qtbot.waitUntil(lambda: not window.status_job.running, timeout=60_000)
    assert window.banner.level == "error"
    assert "no network connection" in window.banner.text and "demo dataset" in window.banner.text


def test_every_setting_and_hyperparameter_has_a_tooltip(window):
    from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit

    from workbench import catalogue

    for name in catalogue.available():
        window.algorithm_panel.set_algorithm(name)
        editors = [e for cls in (QAbstractSpinBox, QComboBox, QCheckBox, QLineEdit)
                   for e in window.ui.settings_form.findChildren(cls) if e.isVisibleTo(window)]
        assert editors
        missing = [e for e in editors if not (e.toolTip() or (e.parent() is not None and e.parent().toolTip()))]
        assert not missing, f"{name}: {[type(e).__name__ for e in missing]} without a tooltip"


def test_a_stopped_run_is_resumed_from_the_run_list(window_factory, glyphs_shared, tmp_path, qtbot):
    from workbench.training.control import RunControl
    from workbench.training.events import TrainStep

    config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=WAYS, shots=SHOTS, queries=QUERIES,
                       steps=10, val_every=5, val_episodes=3, checkpoint_every=2, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    control = RunControl()
    for event in train_run(config, tmp_path / "runs" / "stopped", control):
        if isinstance(event, TrainStep) and event.step == 4:
            control.cancel()
    window = window_factory()
    window.set_runs_root(tmp_path / "runs")
    page = window.runs_page
    page.select_paths([str(tmp_path / "runs" / "stopped")])
    (row,) = own_rows(page.model)
    assert page.model.runs[row].status == "cancelled" and page.resume_button.isEnabled()
    qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    assert window.training is not None and window.training.resume
    qtbot.waitUntil(lambda: window.training is None, timeout=60_000)
    assert window.last_finished.status == "completed" and window.last_finished.step == 10
    assert page.model.runs[row].status == "completed"  # the list was read again when the run ended
