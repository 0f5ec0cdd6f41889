"""Messages do not pile up: a page shows one message strip at most, a newer message replaces the older,
and a message stays with the page and the project it was said about."""

import pytest
from PySide6.QtCore import Qt

from tests.gui.dialogs import click, key, press
from workbench.gui.banner import MessageBanner
from workbench.gui.unsaved_guard import DISCARD
from workbench.training.events import RunFinished

pytestmark = pytest.mark.gui


def shown_strips(window) -> list[str]:
    return [banner.text for banner in window.findChildren(MessageBanner) if banner.isVisible()]


def go_to(qtbot, window, number: int) -> None:
    """Ctrl+1 … Ctrl+5: the View menu's pages."""
    key(qtbot, window.tabs, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)


def label_all_and_copy(qtbot, page, target) -> None:
    page.add_class("round")
    key(qtbot, page.ui.images.grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_1)
    page.export_to_folders(str(target))


def test_one_message_per_page_that_stays_with_its_page_and_project(window, qtbot, flat_folder, tmp_path):
    page = window.label_page
    go_to(qtbot, window, 3)
    assert window.tabs.currentWidget() is page
    page.open_folder(str(flat_folder))
    label_all_and_copy(qtbot, page, tmp_path / "sorted")
    assert shown_strips(window) == [f"Copied 12 images into class folders under {tmp_path / 'sorted'}."]

    # A newer message replaces the older one: still one strip, and nothing of "Copied" in it.
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_5)
    assert len(shown_strips(window)) == 1 and "no class 5" in shown_strips(window)[0]
    # A run finishing meanwhile says so in the window's strip and offers its model on this page's:
    # the newer takes the place of the older, never two strips at once.
    window.training_page.show_event(RunFinished("completed", "Finished 6 steps.", 6, 0.5,
                                                str(tmp_path / "runs" / "protonet-1")))
    assert shown_strips(window) == ["Training finished: protonet-1."]
    assert page.ui.banner.action_button.isVisible()

    # Messages are about the page they were said on: another page shows none of them.
    go_to(qtbot, window, 4)
    assert shown_strips(window) == []
    go_to(qtbot, window, 3)
    assert shown_strips(window) == []

    # Nor do they follow the person into a new project.
    label_all_and_copy(qtbot, page, tmp_path / "sorted again")
    assert len(shown_strips(window)) == 1
    go_to(qtbot, window, 1)
    window.banner.show_message("A warning about the dataset of this project.", "warning")
    answered = press(click(DISCARD))  # the labels are not saved in a session file: discard them
    window.actions.new_project.trigger()
    assert len(answered) == 1
    assert shown_strips(window) == []
    go_to(qtbot, window, 3)
    assert shown_strips(window) == []


def test_a_window_message_on_the_label_page_takes_the_place_of_the_pages_own(window, qtbot, flat_folder):
    page = window.label_page
    go_to(qtbot, window, 3)
    page.open_folder(str(flat_folder))
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_5)
    assert len(shown_strips(window)) == 1 and page.ui.banner.isVisible()
    window.training_page.show_event(RunFinished("failed", "The run failed: out of memory.", 3, None, ""))
    assert shown_strips(window) == ["Error: The run failed: out of memory."]
    assert not page.ui.banner.isVisible()

