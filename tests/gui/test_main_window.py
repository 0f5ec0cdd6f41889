"""The main window driven like a user would: choose data, set a protocol, train, stop, close."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import SCAN_TIMEOUT_MS
from workbench.data import problems as P

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 60_000


def set_small_protocol(window, steps=300, val_every=20, val_episodes=10, ways=5, shots=1, queries=5):
    panel = window.protocol_panel
    panel.ways.setValue(ways)
    panel.shots.setValue(shots)
    panel.queries.setValue(queries)
    panel.steps.setValue(steps)
    panel.val_every.setValue(val_every)
    panel.val_episodes.setValue(val_episodes)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    window.algorithm_panel.set_algorithm("protonet")


def make_messy_dataset(root: Path) -> Path:
    """3 good classes of small PNGs, plus an empty class folder, a zero-byte .png,
    a text file named .png and a stray .txt."""
    rng = np.random.default_rng(0)
    for c in range(3):
        folder = root / "letters" / f"class_{c}"
        folder.mkdir(parents=True)
        for i in range(6):
            pixels = (rng.random((20, 20)) * 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / f"img_{i}.png")
    (root / "letters" / "empty_class").mkdir()
    (root / "letters" / "class_0" / "zero_bytes.png").write_bytes(b"")
    (root / "letters" / "class_1" / "really_text.png").write_text("this is not an image")
    (root / "letters" / "class_2" / "notes.txt").write_text("a stray note")
    return root


def status_of(run_dir: str) -> dict:
    return json.loads((Path(run_dir) / "status.json").read_text())


def test_first_screen_tells_a_new_user_what_to_do(window):
    assert window.dataset_view.stack.currentWidget() is window.dataset_view.hint
    assert "Choose a dataset folder or zip to begin" in window.dataset_view.hint.text()
    assert "Choose a dataset" in window.statusBar().currentMessage()
    assert window.device_label.text().startswith("Device: ")
    assert not window.actions.start.isEnabled()
    assert not window.actions.stop.isEnabled()
    menus = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert menus[:2] == ["File", "Training"]
    assert window.actions.open_folder.shortcut().toString() == "Ctrl+O"
    assert window.actions.start.shortcut().toString() == "Ctrl+R"


def test_missing_dataset_path_shows_a_clear_message(window, tmp_path, qtbot):
    missing = tmp_path / "no_such_folder"
    row = window.data_panel.rows[0]
    qtbot.keyClicks(row.edit, str(missing))
    qtbot.keyClick(row.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.banner.isVisible()
    assert window.banner.level == "error"
    assert "not found" in window.banner.text and str(missing) in window.banner.text
    assert "Traceback" not in window.banner.text
    assert window.scan is None
    assert not window.actions.start.isEnabled()
    # Starting anyway (e.g. by the shortcut) explains instead of failing.
    window.start_training()
    assert window.training is None
    assert window.banner.level == "error" and "not found" in window.banner.text


def test_data_problems_are_listed(window, tmp_path, qtbot):
    root = make_messy_dataset(tmp_path / "messy")
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    view = window.dataset_view
    assert window.scan is not None and len(window.scan.classes) == 3
    assert view.model.rowCount() == 3
    # The selected (first) class shows thumbnails; its zero-byte file is a crossed tile.
    assert view.thumbnails.count() == 7
    assert view.thumbnails.broken == 1
    # Found by the scan at once: the empty folder and the stray text file.
    kinds = {p.kind for p in view.problems}
    assert {P.EMPTY_CLASS, P.NOT_AN_IMAGE} <= kinds
    # Found by the background check: the two files named .png that are not images.
    qtbot.waitUntil(lambda: not window.image_check_running, timeout=20_000)
    unreadable = [p for p in view.problems if p.kind == P.UNREADABLE]
    assert sorted(Path(p.path).name for p in unreadable) == ["really_text.png", "zero_bytes.png"]
    tree = view.problems_tree
    rows = [[tree.topLevelItem(i).text(c) for c in range(3)] for i in range(tree.topLevelItemCount())]
    assert len(rows) == len(view.problems) == 4
    assert any(r[0] == "Empty class" and r[2].endswith("empty_class") for r in rows)
    assert any(r[0] == "Unreadable image" and "empty file" in r[1] for r in rows)
    assert "<b>4</b> problems" in view.summary.text()
    assert "2 could not be decoded" in view.check_status.text()
    assert window.actions.start.isEnabled()
    assert "3 classes, and 5-way episodes need at least 5" in window.banner.text  # said before Start


def test_hyperparameter_form_follows_the_algorithm(window, qtbot):
    panel = window.algorithm_panel
    panel.set_algorithm("protonet")
    assert set(panel.form.editors) == {"lr", "lr_decay_every", "distance", "backbone", "backbone_architecture",
                                       "backbone_weights", "test_shifts"}
    assert "learning rate" in panel.form.editors["lr"].toolTip()
    panel.set_algorithm("maml")
    assert {"inner_lr", "inner_steps", "first_order", "head_init"} <= set(panel.form.editors)
    assert "distance" not in panel.form.editors
    assert panel.forms.currentWidget() is panel.form

    steps = panel.form.editors["inner_steps"]  # int in [1, 50]
    steps.lineEdit().selectAll()
    qtbot.keyClicks(steps.lineEdit(), "999")
    qtbot.keyClick(steps.lineEdit(), Qt.Key.Key_Return)
    assert 1 <= steps.value() <= 50
    steps.setValue(10_000)
    assert steps.value() == 50

    meta_lr = panel.form.editors["meta_lr"]  # float in [1e-6, 1]
    meta_lr.lineEdit().selectAll()
    qtbot.keyClicks(meta_lr.lineEdit(), "5")
    meta_lr.clearFocus()
    qtbot.keyClick(meta_lr.lineEdit(), Qt.Key.Key_Return)
    assert meta_lr.value() <= 1.0
    meta_lr.lineEdit().selectAll()
    qtbot.keyClicks(meta_lr.lineEdit(), "2e-4")
    qtbot.keyClick(meta_lr.lineEdit(), Qt.Key.Key_Return)
    assert meta_lr.value() == pytest.approx(2e-4)
    meta_lr.stepBy(1)  # log steps: 2e-4 -> 5e-4
    assert meta_lr.value() == pytest.approx(5e-4)

    values = panel.hyperparams()
    assert values["inner_steps"] == 50 and values["meta_lr"] == pytest.approx(5e-4)
    # Switching away and back keeps what was typed.
    panel.set_algorithm("protonet")
    panel.set_algorithm("maml")
    assert panel.hyperparams()["inner_steps"] == 50


@pytest.mark.slow
def test_train_live_then_stop_shows_curves_and_predictions(window, omniglot_zip, qtbot, tmp_path):
    window.data_panel.set_paths([str(omniglot_zip)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.scan is not None and len(window.scan.classes) > 20
    set_small_protocol(window)
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    assert window.training is not None
    assert window.tabs.currentWidget() is window.training_page
    assert not window.ui.settings_form.isEnabled()

    qtbot.waitUntil(lambda: window.curves.point_count("train_loss") > 0, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.curves.point_count("val_acc") > 0, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.predictions.canvas.episode is not None, timeout=RUN_TIMEOUT_MS)
    assert window.training_panel.progress.value() > 0
    assert "episodes/s" in window.training_panel.rate.text()
    assert window.actions.stop.isEnabled() and window.actions.pause.isEnabled()

    qtbot.mouseClick(window.ui.run_controls.buttons[2], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    finished = window.last_finished
    assert finished is not None and finished.status == "cancelled"
    assert Path(finished.run_dir).parent == tmp_path / "runs"
    assert status_of(finished.run_dir)["status"] == "cancelled"
    assert "Stopped" in window.training_panel.status.text()
    assert window.actions.start.isEnabled() and window.ui.settings_form.isEnabled()

    canvas = window.predictions.canvas
    assert len(canvas.support_tiles) == 5  # 5-way 1-shot
    assert len(canvas.query_tiles) == 25  # 5 queries per class
    assert all(not tile.pixmap.isNull() and tile.pixmap.width() == 56 for tile in canvas.support_tiles)
    assert all(tile.caption[0] in "✓✗" and tile.caption.endswith("%") for tile in canvas.query_tiles)
    assert {tile.correct for tile in canvas.query_tiles} <= {True, False}
    assert "queries right" in window.predictions.title.text()
    canvas.grab()  # paints without error


@pytest.mark.slow
def test_pause_and_resume(window, omniglot_zip, qtbot):
    window.data_panel.set_paths([str(omniglot_zip)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, steps=2000, val_every=1000)
    window.start_training()
    qtbot.waitUntil(lambda: window.curves.point_count("train_loss") > 0, timeout=RUN_TIMEOUT_MS)
    window.actions.pause.trigger()
    assert window.training.control.paused
    assert window.actions.pause.text().replace("&", "") == "Resume"
    assert "Paused" in window.training_panel.status.text()
    window.actions.pause.trigger()
    assert not window.training.control.paused
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "cancelled"


@pytest.mark.slow
def test_closing_mid_run_asks_then_stops_cleanly(window, omniglot_zip, qtbot, monkeypatch):
    window.data_panel.set_paths([str(omniglot_zip)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, steps=5000, val_every=1000)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is not None and window.training.started_training, timeout=RUN_TIMEOUT_MS)
    thread = window.training.worker
    run_dir = window.training_panel.run_dir.text()

    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *args, **kwargs: asked.append(args) or QMessageBox.StandardButton.No))
    assert not window.close()
    assert window.isVisible() and thread.isRunning() and len(asked) == 1

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    assert window.close()
    assert thread.isFinished()
    status = status_of(run_dir)
    assert status["status"] == "cancelled"
    assert (Path(run_dir) / "checkpoints" / "last.pt").exists()


def test_a_run_that_cannot_start_explains_why(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=1, classes_per_group=6, images_per_class=4)
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    # As many ways as the data has classes, so Start is on, but the split leaves fewer for training.
    set_small_protocol(window, ways=6, steps=10)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.banner.level == "error"
    assert "classes" in window.banner.text and "Traceback" not in window.banner.text
    assert window.training_panel.finished_status == "failed"
    assert window.actions.start.isEnabled()


def test_bad_split_setting_is_explained(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=2, classes_per_group=3, images_per_class=4)
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.protocol_panel
    panel.split_mode.setCurrentIndex(panel.split_mode.findData("group"))
    assert not panel.groups.isEnabled()  # a model to use holds no group back for test
    panel.purpose.setCurrentIndex(panel.purpose.findData("measure"))
    assert panel.groups.count() == 2 and panel.groups.isEnabled()
    panel.val_percent.setValue(60)
    panel.test_percent.setValue(50)  # validation + test >= 100 %
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.banner.level == "error"
    assert "fractions" in window.banner.text


def test_second_dataset_can_be_added(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    first = make_glyph_dataset(tmp_path / "a", groups=1, classes_per_group=3, images_per_class=3)
    second = make_glyph_dataset(tmp_path / "b", groups=2, classes_per_group=3, images_per_class=3, seed=1)
    window.data_panel.set_paths([str(first)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert len(window.scan.classes) == 3
    window.data_panel.add_path(str(second))
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.data_panel.paths() == [str(first), str(second)]
    assert len(window.scan.classes) == 6  # group_0 classes merged, group_1 added
    window.data_panel._remove_row(window.data_panel.rows[1])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert len(window.scan.classes) == 3


def test_classes_with_too_few_images_are_named_in_the_log(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=1, classes_per_group=6, images_per_class=8)
    for extra in sorted((root / "group_0" / "class_00").glob("*.png"))[2:]:
        extra.unlink()
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, ways=3, queries=3, steps=3, val_every=3, val_episodes=1)
    window.protocol_panel.train_ways.setValue(3)  # 3-way 3-query training episodes: 4 images per class
    window.protocol_panel.val_percent.setValue(0)
    window.protocol_panel.test_percent.setValue(0)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    log = window.training_panel.log.toPlainText()
    assert "group_0/class_00: has 2 images, fewer than shots + queries = 4; left out" in log
    assert window.last_finished.status == "completed"


def test_a_nan_loss_ends_the_run_with_a_message_and_the_window_lives_on(window_factory, tmp_path, qtbot):
    from tests.core.test_runner import ExplodingProtoNet
    from tests.synthetic import make_glyph_dataset
    from workbench.algorithms import registry
    from workbench.gui.main_window import MainWindow

    ExplodingProtoNet.updates = 0
    registry.register(ExplodingProtoNet)
    try:
        window = MainWindow(runs_root=tmp_path / "runs", algorithms={"exploding-test": ExplodingProtoNet})
        qtbot.addWidget(window)
        window.show()
        root = make_glyph_dataset(tmp_path / "glyphs", groups=1, classes_per_group=8, images_per_class=6)
        window.data_panel.set_paths([str(root)])
        qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
        set_small_protocol(window, ways=3, queries=2, steps=40, val_every=10, val_episodes=2)
        window.algorithm_panel.set_algorithm("exploding-test")
        window.start_training()
        qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    finally:
        registry.unregister("exploding-test")
    assert window.last_finished.status == "failed"
    assert window.banner.level == "error" and "not a finite number" in window.banner.text
    assert "last good checkpoint (step 10)" in window.banner.text
    assert window.isVisible() and window.actions.start.isEnabled()


def test_the_scan_runs_in_the_background_and_the_newest_choice_wins(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    first = make_glyph_dataset(tmp_path / "a", groups=1, classes_per_group=3, images_per_class=3)
    second = make_glyph_dataset(tmp_path / "b", groups=2, classes_per_group=4, images_per_class=3, seed=1)
    window.data_panel.set_paths([str(first)])
    # The window is back in the person's hands at once; the panel says a scan is under way.
    assert window.scan_running and window.scan is None
    assert window.data_panel.summary.text().startswith("Scanning")
    window.data_panel.set_paths([str(second)])  # changed their mind before the first scan was shown
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    qtbot.wait(200)  # the first scan's result, if it arrives late, must not replace the second
    assert window.scan.roots == [str(second)] and len(window.scan.classes) == 8
    assert window.dataset_view.model.rowCount() == 8
    assert window.data_panel.summary.text().startswith("8 classes")


def test_start_during_a_scan_trains_on_what_the_scan_finds(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=1, classes_per_group=6, images_per_class=6)
    set_small_protocol(window, ways=3, queries=2, steps=2, val_every=2, val_episodes=1)
    window.data_panel.set_paths([str(root)])
    assert window.scan_running and window.actions.start.isEnabled()
    window.actions.start.trigger()
    assert window.training is None  # waits for the scan instead of refusing
    qtbot.waitUntil(lambda: window.training is not None, timeout=SCAN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed"
    assert window.last_finished.run_dir


def test_closing_the_window_during_a_scan_stops_it_cleanly(window, tmp_path, qtbot):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "glyphs", groups=2, classes_per_group=4, images_per_class=4)
    window.data_panel.set_paths([str(root)])
    job = window.datasets.scan_worker
    assert job is not None
    window.close()
    assert not window.isVisible()
    assert job.isFinished()  # no thread left running behind a closed window
