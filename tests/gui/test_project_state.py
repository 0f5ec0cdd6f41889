"""A project keeps everything a person set, driven as a person does: the training settings typed, picked
and ticked on the left, each algorithm's settings, and the labelling session open on the Label page;
New project shows every setting at its default; a damaged setting is named and the rest opens."""

import json

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS, make_flat_folder

pytestmark = pytest.mark.gui


def type_into(qtbot, spin, text):
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def pick(qtbot, combo, text):
    """Choose an entry of a combo box with the keyboard, as a person does."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentText() != text:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"{text!r} is not in the box"


def click_box(qtbot, box):
    """Click a check box on its box (its centre may lie past its text, where a click does nothing)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def test_a_project_keeps_every_setting_and_the_labelling_session(window_factory, glyphs, tmp_path, qtbot):
    window = window_factory()
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.protocol_panel
    type_into(qtbot, panel.steps, "150")
    type_into(qtbot, panel.val_episodes, "20")
    type_into(qtbot, panel.ways, "3")
    pick(qtbot, panel.purpose, "Measure on held-out classes")
    type_into(qtbot, panel.test_percent, "30")
    click_box(qtbot, panel.augment)  # off
    click_box(qtbot, panel.rotations)  # auto -> on
    assert panel.augment.isChecked() is False and panel.rotations.value() is True
    pick(qtbot, window.algorithm_panel.combo, window.algorithm_panel.combo.itemText(
        window.algorithm_panel.combo.findData("maml")))
    first_order = window.algorithm_panel.form.editors["first_order"]
    was_first_order = first_order.isChecked()
    click_box(qtbot, first_order)
    type_into(qtbot, window.algorithm_panel.form.editors["inner_steps"], "3")

    folder = make_flat_folder(tmp_path / "to-label")
    window.label_page.open_folder(str(folder))
    window.label_page.add_class("round")
    session_file = tmp_path / "to-label.labels.json"
    assert window.label_page.save_session(str(session_file))
    project_file = tmp_path / "kept.fswproj"
    assert window.projects.save(path=str(project_file))
    saved = json.loads(project_file.read_text())
    assert saved["labelling_sessions"] == ["to-label.labels.json"]  # beside the project: kept relative
    window.label_page.shutdown()  # one window labels a folder at a time

    other = window_factory()
    assert other.projects.open(str(project_file))
    qtbot.waitUntil(lambda: not other.scan_running, timeout=SCAN_TIMEOUT_MS)
    shown = other.protocol_panel
    assert (shown.steps.value(), shown.val_episodes.value(), shown.ways.value()) == (150, 20, 3)
    assert shown.purpose.currentData() == "measure" and shown.test_percent.value() == 30
    assert shown.augment.isChecked() is False and shown.rotations.value() is True
    assert other.algorithm_panel.name == "maml"
    assert other.algorithm_panel.form.editors["first_order"].isChecked() is not was_first_order
    assert other.algorithm_panel.form.editors["inner_steps"].value() == 3
    qtbot.waitUntil(lambda: other.label_page.session is not None, timeout=SCAN_TIMEOUT_MS)
    assert other.label_page.session_path == str(session_file) and "round" in other.label_page.session.classes
    config = other.trainer.build_config()  # what Start training would train
    assert (config.steps, config.ways, config.augment, config.hparams["inner_steps"]) == (150, 3, False, 3)

    other.projects.new()
    fresh = window_factory().protocol_panel  # what a new window shows
    assert (other.protocol_panel.steps.value(), other.protocol_panel.ways.value()) == (fresh.steps.value(), 5)
    assert other.protocol_panel.purpose.currentData() == "use" and other.protocol_panel.augment.isChecked()
    assert other.algorithm_panel.name == "protonet" and other.label_page.session is None
    other.algorithm_panel.set_algorithm("maml")
    assert other.algorithm_panel.form.editors["inner_steps"].value() != 3  # MAML's settings are its defaults again


def test_a_damaged_setting_is_named_and_the_rest_opens(window, tmp_path):
    path = tmp_path / "odd.fswproj"
    path.write_text(json.dumps({"format": 1, "settings": {"algorithm": "protonet",
                                                          "training": {"steps": 250, "ways": "many"}}}))
    assert window.projects.open(str(path))
    assert window.protocol_panel.steps.value() == 250 and window.protocol_panel.ways.value() == 5
    assert window.banner.level == "warning" and "'ways' ('many')" in window.banner.text


def test_an_algorithm_setting_its_form_cannot_take_is_named_too(window, tmp_path):
    path = tmp_path / "odd-algorithm.fswproj"
    settings = {"algorithm": "maml", "algorithm_settings": {"maml": {"inner_steps": 3, "inner_lr": "fast"}}}
    path.write_text(json.dumps({"format": 1, "settings": settings}))
    assert window.projects.open(str(path))
    assert window.algorithm_panel.form.editors["inner_steps"].value() == 3  # the valid one is kept
    assert window.banner.level == "warning" and "maml's 'inner_lr' ('fast')" in window.banner.text
