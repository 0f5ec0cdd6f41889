"""Nothing is lost without a question: replacing or closing unsaved labels or a modified project asks
Save / Discard / Cancel, the title shows the unsaved marker, and the labels autosave so that a window
that ends without saving gives them back when their folder is opened again."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QToolBar

from tests.gui.conftest import make_flat_folder
from tests.gui.dialogs import answer_next_dialog, choose, click, key, press
from workbench.gui.labelling.autosave import AUTOSAVE_NAME, autosave_paths

pytestmark = pytest.mark.gui

B = QMessageBox.StandardButton
CTRL = Qt.KeyboardModifier.ControlModifier


def toolbar_button(page, action):
    return page.findChild(QToolBar).widgetForAction(action)


def label_first_image(qtbot, page, name="cat"):
    page.add_class(name)
    page.ui.images.grid.setFocus()
    page.select_paths(["img_00.png"])
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_1)
    assert page.session.labels["img_00.png"].name == name


def open_label_page(window, folder):
    window.tabs.setCurrentWidget(window.label_page)
    window.label_page.open_folder(str(folder))
    return window.label_page


def test_opening_another_folder_asks_before_dropping_labels(window, qtbot, flat_folder, tmp_path):
    other = make_flat_folder(tmp_path / "other", 4)
    page = open_label_page(window, flat_folder)
    assert not window.isWindowModified() and "[*]" in window.windowTitle()
    label_first_image(qtbot, page)
    assert window.isWindowModified()  # the title shows the unsaved marker
    # The autosave is written now rather than whenever its timer fires, which on a busy machine may be
    # before or after this folder is left: reopened below, the folder offers its labels back either way.
    page.keeper.flush()

    # Cancel: the folder and its labels stay.
    cancel = click(B.Cancel)
    answered = press(choose(other), cancel)
    qtbot.mouseClick(toolbar_button(page, page.actions.open_folder), Qt.MouseButton.LeftButton)
    assert len(answered) == 2 and "not saved" in cancel.text
    assert page.session.folder == str(flat_folder) and page.session.labels["img_00.png"].name == "cat"
    assert page.actions.undo.isEnabled()

    # Save: asks where, writes the session, then opens the other folder.
    saved = tmp_path / "first.labels.json"
    answered = press(choose(other), click(B.Save), choose(saved))
    qtbot.mouseClick(toolbar_button(page, page.actions.open_folder), Qt.MouseButton.LeftButton)
    assert len(answered) == 3
    assert json.loads(saved.read_text())["labels"][0]["class"] == "cat"
    assert page.session.folder == str(other) and not window.isWindowModified()

    # Discard: a clear choice, and the folder's autosave goes with it.
    label_first_image(qtbot, page, "dog")
    page.keeper.flush()
    assert (other / AUTOSAVE_NAME).exists()
    decline = click(B.No)
    answered = press(choose(flat_folder), click(B.Discard), decline)
    qtbot.mouseClick(toolbar_button(page, page.actions.open_folder), Qt.MouseButton.LeftButton)
    assert len(answered) == 3 and "Restore them?" in decline.text  # the first folder's "cat" is offered back
    assert "img_00.png" not in page.session.labels
    assert page.session.folder == str(flat_folder) and not (other / AUTOSAVE_NAME).exists()


def test_quitting_with_unsaved_labels_asks(window, qtbot, flat_folder):
    page = open_label_page(window, flat_folder)
    label_first_image(qtbot, page)
    box = click(B.Cancel)
    answered = answer_next_dialog(box)
    key(qtbot, page.ui.images.grid, Qt.Key.Key_Q, CTRL)
    assert answered and "quitting" in box.text and window.isVisible()
    answered = answer_next_dialog(click(B.Discard))
    key(qtbot, page.ui.images.grid, Qt.Key.Key_Q, CTRL)
    assert answered and not window.isVisible()


def test_labels_autosave_and_come_back_after_a_window_that_ended_without_saving(window_factory, qtbot, flat_folder):
    window = window_factory()
    page = open_label_page(window, flat_folder)
    label_first_image(qtbot, page)
    autosave = flat_folder / AUTOSAVE_NAME
    qtbot.waitUntil(autosave.exists, timeout=5000)  # a moment after the change, without any save
    assert json.loads(autosave.read_text())["labels"][0]["class"] == "cat"
    page.undo_stack.setClean()  # as if the process had died: nothing asked, nothing saved
    assert window.close()  # ended: its hold on the folder goes, as a dead process's does

    again = window_factory()
    again.tabs.setCurrentWidget(again.label_page)
    box = click(B.Yes)
    answered = press(choose(flat_folder), box)
    qtbot.mouseClick(toolbar_button(again.label_page, again.label_page.actions.open_folder), Qt.MouseButton.LeftButton)
    assert len(answered) == 2 and "1 labelled image" in box.text
    assert again.label_page.session.labels["img_00.png"].name == "cat"
    assert again.label_page.session.classes == ["cat"]


def test_a_folder_that_cannot_hold_the_autosave_uses_the_data_folder(window, qtbot, flat_folder):
    (flat_folder / AUTOSAVE_NAME).mkdir()  # the folder refuses the file (as a read-only one would)
    page = open_label_page(window, flat_folder)
    label_first_image(qtbot, page)
    written = page.keeper.flush()
    assert written == autosave_paths(str(flat_folder))[1] and written.is_file()
    assert page.ui.banner.level != "warning"


def test_a_modified_project_asks_before_a_new_one(window, qtbot, tmp_path):
    path = tmp_path / "p.fswproj"
    assert window.projects.save(path=str(path))
    assert not window.isWindowModified()
    window.algorithm_panel.set_algorithm("maml")
    assert window.isWindowModified() and "p[*]" in window.windowTitle()
    answered = answer_next_dialog(click(B.Cancel))
    key(qtbot, window, Qt.Key.Key_N, CTRL)
    assert answered and window.projects.path == str(path.resolve())
    answered = answer_next_dialog(click(B.Save))
    key(qtbot, window, Qt.Key.Key_N, CTRL)
    assert answered and window.projects.path is None
    assert json.loads(path.read_text())["settings"]["algorithm"] == "maml"
