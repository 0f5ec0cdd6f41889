"""The built-in model in the window: first in the Runs page, read-only, and one click from labelling."""

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_the_built_in_model_is_listed_first_read_only_and_used_for_labelling(window, qtbot):
    page = window.runs_page
    window.tabs.setCurrentWidget(page)
    names = [page.proxy.index(row, 0).data() for row in range(page.proxy.rowCount())]
    assert names == ["Built-in: Drawings and symbols"]
    assert page.empty_hint.isVisible()  # no run of one's own yet, and the page says how to make one
    assert window.label_page.ui.side.model_label.text().startswith("Built-in: Drawings and symbols, used as soon as")
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.table.visualRect(page.proxy.index(0, 0)).center())
    assert page.selected_paths() and "read-only" in page.selection_hint.text()
    assert page.label_button.isEnabled()
    assert not page.evaluate_button.isEnabled() and not page.resume_button.isEnabled()
    qtbot.mouseClick(page.label_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.label_page
    assert window.label_page.ui.side.model_label.text().startswith("Built-in: Drawings and symbols (Prototypical")


def test_the_hint_to_choose_a_dataset_leaves_with_the_pages_it_is_for(window, qtbot):
    from tests.gui.dialogs import key
    from workbench.gui.window_layout import START_HINT

    assert window.statusBar().currentMessage() == START_HINT
    key(qtbot, window.tabs, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # the Label page
    assert window.tabs.currentWidget() is window.label_page
    assert window.statusBar().currentMessage() == ""
