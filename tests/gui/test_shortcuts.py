"""Every shortcut does one thing: no key is bound twice where both would fire, Ctrl+S saves what the
current page is about, and the Shortcuts dialog lists them all, grouped by page."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from tests.gui.dialogs import answer_next_dialog, choose
from workbench.gui.shortcuts import EVERYWHERE, ambiguous_shortcuts, window_shortcuts

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


def test_no_key_sequence_is_bound_twice_where_both_would_fire(window):
    shortcuts = window_shortcuts(window, window.pages(), widget_keys=False)
    clashes = [(a.keys, a.text, a.page, b.text, b.page) for a, b in ambiguous_shortcuts(shortcuts)]
    assert clashes == []
    assert any(s.keys == "Ctrl+S" for s in shortcuts) and any(s.keys == "Ctrl+Q" for s in shortcuts)
    redo = window.label_page.actions.redo.shortcuts()
    assert len({s.toString() for s in redo}) == len(redo)  # each key once on the one Redo action


def test_ctrl_s_saves_the_labelling_session_on_the_label_page(window, qtbot, flat_folder, tmp_path):
    page = window.label_page
    window.tabs.setCurrentWidget(page)
    page.open_folder(str(flat_folder))
    page.add_class("cat")
    page.label_paths("cat", ["img_00.png"])
    target = tmp_path / "saved.labels.json"
    answered = answer_next_dialog(choose(target))
    page.ui.images.grid.setFocus()
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_S, CTRL)
    assert answered, "Ctrl+S on the Label page did not ask where to save the session"
    assert json.loads(target.read_text())["labels"][0]["path"] == "img_00.png"
    assert page.undo_stack.isClean() and not list(tmp_path.glob("*.fswproj"))  # the project was not saved


def test_ctrl_s_saves_the_project_on_the_other_pages(window, qtbot, tmp_path):
    window.tabs.setCurrentWidget(window.runs_page)
    target = tmp_path / "mine.fswproj"
    answered = answer_next_dialog(choose(target))
    qtbot.keyClick(window.runs_page, Qt.Key.Key_S, CTRL)
    assert answered and window.projects.path is not None and window.projects.path.startswith(str(tmp_path))


def test_the_shortcuts_dialog_lists_every_shortcut_grouped_by_page(window, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_Slash, CTRL)
    dialog = window.shortcuts_dialog
    assert dialog.isVisible()
    rows = dialog.rows()
    groups = [g for g in dict.fromkeys(r[0] for r in rows)]
    assert groups[0] == EVERYWHERE and "Label page" in groups
    shown = [(g, k) for g, k, _t in rows]
    assert len(shown) == len(set(shown))  # nothing listed twice
    label_keys = [k for g, k, _t in rows if g == "Label page"]
    assert "1 … 9" in label_keys and any(k.startswith("0") for k in label_keys)
    native = QKeySequence.SequenceFormat.NativeText
    everywhere = [k for g, k, _t in rows if g == EVERYWHERE]
    assert everywhere == sorted(everywhere, key=lambda k: QKeySequence(k).toString(QKeySequence.SequenceFormat.PortableText))
    expected = {QKeySequence(s.keys).toString(native) for s in window_shortcuts(window, window.pages(), False)}
    assert expected <= {k for _g, k, _t in rows}
    save_rows = {g: t for g, k, t in rows if k == QKeySequence("Ctrl+S").toString(native)}
    assert save_rows == {EVERYWHERE: "Save project (except on the Label page)", "Label page": "Save session…"}
