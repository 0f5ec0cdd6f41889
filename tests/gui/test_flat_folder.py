"""A folder of images with no class subfolders cannot train: the Dataset page says why in words,
Start stays off, and the banner offers to open the folder on the Label page instead."""

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.gui.dialogs import key

pytestmark = pytest.mark.gui


def test_a_flat_folder_explains_itself_and_opens_on_the_label_page(window, flat_folder, qtbot):
    window.data_panel.set_paths([str(flat_folder)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert window.banner.level == "warning"
    assert "5-way episodes need 5 class folders" in window.banner.text and "one class" in window.banner.text
    assert not window.actions.start.isEnabled() and "class folders" in window.actions.start.toolTip()
    key(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Start's shortcut does nothing
    assert window.training is None
    assert window.banner.action_button.text() == "Open on the Label page"
    qtbot.mouseClick(window.banner.action_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.label_page
    assert window.label_page.session.folder == str(flat_folder) and len(window.label_page.session.images) == 12


def test_too_few_class_folders_for_n_ways_is_said_before_start(window, glyphs_shared, qtbot, tmp_path):
    from tests.synthetic import make_glyph_dataset

    root = make_glyph_dataset(tmp_path / "three", groups=1, classes_per_group=3, images_per_class=4)
    window.data_panel.set_paths([str(root)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    assert "has 3 classes, and 5-way episodes need at least 5" in window.banner.text
    assert not window.banner.action_button.isVisible()  # classes exist: nothing to label instead
