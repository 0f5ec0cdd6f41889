"""Every page fits a 1024 x 700 screen: the window never asks for more, long paths are elided (the
full path in the tooltip), and the Label page's buttons are not clipped."""

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import make_flat_folder
from tests.gui.dialogs import key

pytestmark = pytest.mark.gui

SMALL = (1024, 700)


def fits(window) -> bool:
    hint = window.minimumSizeHint()
    return hint.width() <= SMALL[0] and hint.height() <= SMALL[1]


def test_every_page_fits_1024_by_700(window, qtbot, tmp_path):
    window.resize(*SMALL)
    for number, (title, page) in enumerate(window.pages(), start=1):
        key(qtbot, window, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentWidget() is page
        QApplication.processEvents()
        assert fits(window), f"{title} page needs {window.minimumSizeHint()}"
        assert window.width() <= SMALL[0]
        # The training settings show only with the pages they configure.
        assert window.ui.settings_side.isVisible() == (title in ("Dataset", "Training"))


def test_a_long_folder_path_and_many_classes_do_not_widen_the_label_page(window, qtbot, tmp_path):
    deep = tmp_path.joinpath(*[f"a_rather_long_folder_name_{i}" for i in range(8)])
    folder = make_flat_folder(deep / "images_to_label_from_the_field_survey", 6)
    window.resize(*SMALL)
    window.tabs.setCurrentWidget(window.label_page)
    page = window.label_page
    page.open_folder(str(folder))
    for i in range(12):
        page.add_class(f"a class with a long descriptive name {i}")
    QApplication.processEvents()
    assert len(str(folder)) > 250
    assert fits(window), f"the Label page needs {window.minimumSizeHint()}"
    assert str(folder) in page.ui.images.summary.toolTip() and "…" in page.ui.images.summary.text()
    assert page.ui.images.summary.text().endswith("predicted · showing 6")  # the path gives way; the counts stay whole
    button = page.ui.side.accept_all_button
    assert button.width() >= button.sizeHint().width()  # "Accept all ≥ threshold" whole
    assert page.class_button_list[-1].text().endswith("11")  # all twelve buttons, in a scrolling row


def test_the_label_pages_side_column_scrolls_rather_than_squeeze_the_audit_on_a_short_screen(window, qtbot, tmp_path):
    window.resize(*SMALL)
    window.tabs.setCurrentWidget(window.label_page)
    page = window.label_page
    page.open_folder(str(make_flat_folder(tmp_path / "to_label", 6)))
    for i in range(6):
        page.add_class(f"class {i}")
    # What an adapt whose audit doubts a label shows (page._update_audit): the box at its longest.
    page.ui.audit.label.setText("⚠ 3 labels look wrong: adapted without each, the model puts it in another class. "
                                "Review, then relabel or keep.")
    page.ui.audit.box.show()
    QApplication.processEvents()
    assert fits(window), f"the Label page needs {window.minimumSizeHint()}"
    audit, side = page.ui.audit, page.ui.side
    for widget in (audit.review_button, audit.relabel_button, side.adapt_button, side.accept_all_button):
        assert widget.height() >= widget.sizeHint().height(), f"{widget.text()!r} squeezed to {widget.height()} px"
    label = page.ui.audit.label
    assert label.height() >= label.heightForWidth(label.width()), "the audit's sentence is cut off"


def test_a_new_window_fits_the_screen_it_opens_on(tmp_path):
    """With no remembered size, the window takes its preferred size only where the screen holds it: on
    the offscreen plugin's own 800×800 screen (in a process of its own), smaller than the preferred 1400×880."""
    import subprocess
    import sys

    code = (
        "from workbench.gui.app import make_application\n"
        "from workbench.gui.main_window import PREFERRED_SIZE, MainWindow\n"
        "app = make_application([])\n"
        "screen = app.primaryScreen().availableGeometry()\n"
        f"window = MainWindow(runs_root={str(tmp_path / 'runs')!r})\n"
        "print(screen.width(), screen.height(), window.width(), window.height(), PREFERRED_SIZE.width())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "FEWSHOT_WORKBENCH_SETTINGS": str(tmp_path / "fresh.ini")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    screen_w, screen_h, width, height, preferred = map(int, result.stdout.split()[-5:])
    assert screen_w < preferred  # the case this test is about
    assert width <= screen_w and height <= screen_h


def test_the_class_folders_button_shows_its_whole_text_and_its_menu(window):
    page = window.label_page
    window.tabs.setCurrentWidget(page)
    button = page.ui.folders_button
    assert button.text().endswith("▾")  # the arrow is part of the text, so nothing is drawn over it
    assert button.width() >= button.fontMetrics().horizontalAdvance(button.text())
    assert button.menu().actions()[:2] == [page.actions.copy_to_folders, page.actions.move_to_folders]
