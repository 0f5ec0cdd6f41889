"""Managing runs on the Runs page as a person does: rename with F2, tag and annotate in the table, filter by tag,
delete to the trash (asked first, refused while training, Undo puts it back), overlay the loss, and compare two
runs' settings side by side. The runs are real: two short trainings, copied afresh for each test."""

import json
import os
import shutil

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit, QMessageBox

from tests.gui.dialogs import answer_next_dialog, click, key
from workbench.data.splits import SplitSpec
from workbench.gui.banner import MessageBanner
from workbench.gui.runs.run_table import NAME, NOTE, TAGS
from workbench.runs.annotations import ANNOTATIONS_FILE
from workbench.runs.config import RunConfig
from workbench.runs.lock import RunLock
from workbench.runs.store import read_curves
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def trained_runs(glyphs_shared, tmp_path_factory):
    """Two tiny real ProtoNet runs that differ in learning rate and shots."""
    root = tmp_path_factory.mktemp("managed-runs")
    for name, lr, shots in (("run-a", 1e-3, 1), ("run-b", 3e-3, 2)):
        config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", hparams={"lr": lr}, ways=3, shots=shots,
                           queries=2, steps=8, val_every=4, val_episodes=2, checkpoint_every=4, device="cpu",
                           precision="fp32", split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
        assert run_to_end(train_run(config, root / name)).status == "completed"
    return root


@pytest.fixture
def page(window_factory, trained_runs, tmp_path):
    """The Runs page of a window whose runs folder holds a fresh copy of the two runs (tests change them)."""
    shutil.copytree(trained_runs, tmp_path / "runs")
    window = window_factory()
    window.tabs.setCurrentWidget(window.runs_page)
    window.runs_page.resize(1200, 800)
    QApplication.processEvents()
    return window.runs_page


def row_of(page, name: str) -> int:
    return next(r for r in range(page.proxy.rowCount()) if page.proxy.index(r, NAME).data() == name)


def click_cell(qtbot, page, name: str, column: int = NAME, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    index = page.proxy.index(row_of(page, name), column)
    page.table.scrollTo(index)
    qtbot.mouseClick(page.table.viewport(), LEFT, modifier, page.table.visualRect(index).center())


def double_click_cell(qtbot, page, name: str, column: int) -> None:
    """A person's double-click: the first click presses the cell, the second is the double-click (QTest's
    double-click alone sends only the second)."""
    click_cell(qtbot, page, name, column)
    qtbot.mouseDClick(page.table.viewport(), LEFT, pos=page.table.visualRect(page.proxy.index(row_of(page, name), column)).center())


def type_into_editor(qtbot, text: str) -> None:
    """Type `text` over what the open cell editor holds, then Enter."""
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), f"no cell editor open (focus: {type(editor).__name__})"
    qtbot.keyClick(editor, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not editor)  # the view commits it from its event loop


def saved_annotations(page, folder: str) -> dict:
    return json.loads((page.store.root / folder / ANNOTATIONS_FILE).read_text())


def test_f2_renames_the_run_shown_while_its_folder_keeps_its_name(page, qtbot):
    click_cell(qtbot, page, "run-a", column=3)  # anywhere on the row: F2 renames the run
    key(qtbot, page.table, Qt.Key.Key_F2)
    type_into_editor(qtbot, "Baseline ProtoNet")
    assert page.proxy.index(row_of(page, "Baseline ProtoNet"), NAME).data() == "Baseline ProtoNet"
    assert (page.store.root / "run-a" / "config.json").is_file()  # labelling sessions and projects hold this path
    assert saved_annotations(page, "run-a")["name"] == "Baseline ProtoNet"
    assert page.legend.items[0][1].text == "Baseline ProtoNet"  # the selected run's curve says its new name
    assert "Folder: run-a" in page.proxy.index(row_of(page, "Baseline ProtoNet"), NAME).data(Qt.ItemDataRole.ToolTipRole)
    # The Rename button does the same; an empty name shows the folder's name again.
    qtbot.mouseClick(page.rename_button, LEFT)
    type_into_editor(qtbot, "")
    assert row_of(page, "run-a") is not None and saved_annotations(page, "run-a")["name"] == ""
    # A new window reads the name from the run folder.
    page.refresh()
    click_cell(qtbot, page, "run-b")
    key(qtbot, page.table, Qt.Key.Key_F2)
    type_into_editor(qtbot, "Faster lr")
    page.refresh()
    assert row_of(page, "Faster lr") is not None
    # A built-in model is read-only: nothing to rename.
    click_cell(qtbot, page, next(r.name for r in page.model.runs if r.builtin))
    assert not page.rename_button.isEnabled() and not page.delete_button.isEnabled()


def test_tags_and_a_note_are_typed_in_the_table_and_the_list_is_filtered_by_tag(page, qtbot):
    click_cell(qtbot, page, "run-a", column=TAGS)
    key(qtbot, page.table, Qt.Key.Key_F2)  # on the Tags cell, F2 edits the tags
    type_into_editor(qtbot, "baseline, lr sweep")
    double_click_cell(qtbot, page, "run-b", TAGS)  # as does a double-click (it does not evaluate the run)
    type_into_editor(qtbot, "LR sweep")
    assert page.window().tabs.currentWidget() is page
    assert saved_annotations(page, "run-a")["tags"] == ["baseline", "lr sweep"]
    assert page.proxy.index(row_of(page, "run-a"), TAGS).data() == "baseline, lr sweep"
    double_click_cell(qtbot, page, "run-b", NOTE)
    type_into_editor(qtbot, "Three times the learning rate: learns faster, same plateau.")
    assert page.proxy.index(row_of(page, "run-b"), NOTE).data().startswith("Three times")
    assert "same plateau" in page.proxy.index(row_of(page, "run-b"), NAME).data(Qt.ItemDataRole.ToolTipRole)

    # The filter lists each tag once (any case) with its count; picking one shows only its runs.
    combo = page.tag_filter
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == ["All runs", "baseline (1)", "lr sweep (2)", "Runs without tags"]
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # "baseline (1)"
    shown = [page.proxy.index(r, NAME).data() for r in range(page.proxy.rowCount())]
    assert shown == ["run-a"]
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert sorted(page.proxy.index(r, NAME).data() for r in range(page.proxy.rowCount())) == ["run-a", "run-b"]
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert page.proxy.rowCount() == 0  # every run of the person's is tagged (built-ins are not theirs to tag)
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    assert page.proxy.rowCount() == len(page.model.runs)


def test_a_damaged_annotations_file_is_said_and_kept_when_the_run_is_tagged(page, qtbot):
    (page.store.root / "run-a" / ANNOTATIONS_FILE).write_text('{"tags": "not a list", "note": "mine"}')
    page.refresh()
    note = page.proxy.index(row_of(page, "run-a"), NOTE)
    assert "cannot be read" in note.data() and "field 'tags' must be a list" in note.data(Qt.ItemDataRole.ToolTipRole)
    click_cell(qtbot, page, "run-a", column=TAGS)
    key(qtbot, page.table, Qt.Key.Key_F2)
    type_into_editor(qtbot, "repaired")
    assert page.banner.level == "warning" and "annotations.damaged.json" in page.banner.text
    assert json.loads((page.store.root / "run-a" / "annotations.damaged.json").read_text())["note"] == "mine"
    assert saved_annotations(page, "run-a")["tags"] == ["repaired"]
    # A tag too long is one sentence, and the tags stay as they were.
    key(qtbot, page.table, Qt.Key.Key_F2)
    type_into_editor(qtbot, "x" * 60)
    assert page.banner.level == "error" and "at most 40 characters" in page.banner.text
    assert saved_annotations(page, "run-a")["tags"] == ["repaired"]


def test_delete_asks_moves_the_run_to_the_trash_and_undo_puts_it_back(page, qtbot):
    run_a = page.store.root / "run-a"
    click_cell(qtbot, page, "run-a")
    asked = click(QMessageBox.StandardButton.Cancel)
    answered = answer_next_dialog(asked)
    qtbot.mouseClick(page.delete_button, LEFT)
    assert answered and "Move 'run-a' to the trash?" in asked.text and str(run_a) in asked.text
    assert run_a.is_dir()  # cancelled: nothing happened
    answered = answer_next_dialog(click(QMessageBox.StandardButton.Yes))
    key(qtbot, page.table, Qt.Key.Key_Delete)  # the Delete key asks too
    assert answered and not run_a.exists()
    assert [r.name for r in page.model.runs if not r.builtin] == ["run-b"]
    assert (page.store.root / "run-b").is_dir()
    assert page.banner.level == "success" and "Moved 'run-a' to the trash" in page.banner.text
    qtbot.mouseClick(page.banner.action_button, LEFT)  # Undo
    assert (run_a / "model.pt").is_file() and "Put 'run-a' back" in page.banner.text
    assert page.selected_paths() == [str(run_a)]


def test_a_run_that_is_training_or_built_in_is_not_deleted(page, qtbot):
    run_b = page.store.root / "run-b"
    click_cell(qtbot, page, "run-b")
    with RunLock(run_b):  # what a training holds while it writes the run
        answered = answer_next_dialog(click(QMessageBox.StandardButton.Yes), timeout_s=1.0)
        qtbot.mouseClick(page.delete_button, LEFT)
        assert not answered  # refused before asking
        assert page.banner.level == "error" and "'run-b' is being trained now" in page.banner.text
        assert "Nothing was deleted" in page.banner.text and run_b.is_dir()
    builtin = next(r for r in page.model.runs if r.builtin)
    click_cell(qtbot, page, builtin.name)
    key(qtbot, page.table, Qt.Key.Key_Delete)
    assert os.path.isdir(builtin.path) and not page.delete_button.isEnabled()


def test_the_overlay_shows_loss_when_chosen(page, qtbot):
    click_cell(qtbot, page, "run-a")
    click_cell(qtbot, page, "run-b", modifier=CTRL)
    assert page.curve_count() == 2 and page.plot.getAxis("left").labelText == "accuracy (%)"
    page.metric.setFocus()
    qtbot.keyClick(page.metric, Qt.Key.Key_Down)  # "loss"
    assert page.metric.currentText() == "loss" and page.curve_count() == 2
    assert page.plot.getAxis("left").labelText == "loss" and page.plot.titleLabel.text.startswith("Loss")
    path = page.selected_paths()[0]
    validation = page.curves[path][-1].getData()[1]
    assert list(validation) == pytest.approx(list(read_curves(path).val_loss))  # drawn as written, not in percent
    qtbot.keyClick(page.metric, Qt.Key.Key_Up)
    assert max(page.curves[path][-1].getData()[1]) > 1  # accuracy again, in percent


def test_compare_settings_lists_both_runs_settings_with_the_differences_marked(page, qtbot):
    click_cell(qtbot, page, "run-a")
    assert not page.compare_button.isEnabled()  # one run: nothing to compare it with
    click_cell(qtbot, page, "run-b", modifier=CTRL)
    qtbot.mouseClick(page.compare_button, LEFT)
    dialog = page.run_actions.compare_dialog
    assert dialog.isVisible() and dialog.table.horizontalHeaderItem(1).text() == "run-a"
    rows = {label: (first, second, marked) for label, first, second, marked in dialog.shown_rows()}
    assert rows["Learning rate (lr)"] == ("0.001", "0.003", True)
    assert rows["Shots"] == ("1", "2", True) and rows["Ways"] == ("3", "3", False)
    assert "2 settings of" in dialog.caption.text()
    box = dialog.only_differences
    qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))  # on its tick box
    assert [row[0] for row in dialog.shown_rows()] == ["Shots", "Learning rate (lr)"]
    close = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    qtbot.mouseClick(close, LEFT)
    assert not dialog.isVisible()


def test_the_context_menu_of_a_row_offers_the_run_actions(page, qtbot):
    click_cell(qtbot, page, "run-a")
    index = page.proxy.index(row_of(page, "run-b"), 3)
    spot = page.table.visualRect(index).center()
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.RightButton, pos=spot)
    # The window system follows a right-click with a context menu event (QTest's click alone does not).
    viewport = page.table.viewport()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, spot, viewport.mapToGlobal(spot)))
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    menu = QApplication.activePopupWidget()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["Rename", "Edit tags", "Edit note", "Compare settings", "Delete…"]
    assert page.selected_paths() == [str(page.store.root / "run-b")]  # the menu is about the row clicked
    edit_tags = next(a for a in menu.actions() if a.text() == "Edit tags")
    qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(edit_tags).center())
    type_into_editor(qtbot, "from the menu")
    assert saved_annotations(page, "run-b")["tags"] == ["from the menu"]


def test_the_runs_pages_message_and_the_windows_never_show_together_nor_follow_to_another_page(page, qtbot):
    window = page.window()
    shown = lambda: [b.text for b in window.findChildren(MessageBanner) if b.isVisible()]  # noqa: E731
    click_cell(qtbot, page, "run-b")
    answered = answer_next_dialog(click(QMessageBox.StandardButton.Yes))
    key(qtbot, page.table, Qt.Key.Key_Delete)
    assert answered
    assert len(shown()) == 1 and "Moved 'run-b' to the trash" in shown()[0]
    window.banner.show_message("A warning about the dataset of this project.", "warning")
    assert shown() == ["Warning: A warning about the dataset of this project."]
    click_cell(qtbot, page, "run-a")
    answered = answer_next_dialog(click(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(page.delete_button, LEFT)  # the page's newer message takes the window's place
    assert answered
    assert len(shown()) == 1 and "Moved 'run-a' to the trash" in shown()[0]
    key(qtbot, window.tabs, Qt.Key.Key_1, CTRL)  # another page: the Runs page's message stays behind
    assert shown() == []
    key(qtbot, window.tabs, Qt.Key.Key_4, CTRL)
    assert shown() == []
