"""Double-click a thumbnail (or press Space) to see the image full size; the arrows walk on."""

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_a_double_click_shows_the_image_full_size_and_the_arrows_walk_on(window, flat_folder, qtbot):
    window.label_folder(str(flat_folder))
    page = window.label_page
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 12, timeout=30_000)
    grid = page.ui.images.grid
    first = page.proxy.index(0, 0)
    qtbot.waitUntil(lambda: grid.visualRect(first).isValid() and not grid.visualRect(first).isEmpty(), timeout=10_000)
    centre = grid.visualRect(first).center()
    # A double-click is a click and then the second press (Qt's test double-click sends only the latter).
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    viewer = page.ui.images.viewer
    qtbot.waitUntil(viewer.isVisible, timeout=5_000)
    assert "img_00.png" in viewer.caption.text() and "not labelled" in viewer.caption.text()
    pixmap = viewer.image.pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 256  # a 16 px image, scaled up to be seen

    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert "img_01.png" in viewer.caption.text()
    assert grid.currentIndex().row() == 1  # the grid follows what the person looks at
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    assert "img_00.png" in viewer.caption.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible()

    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert viewer.isVisible() and "img_00.png" in viewer.caption.text()
    qtbot.keyClick(viewer, Qt.Key.Key_Space)
    assert not viewer.isVisible()
