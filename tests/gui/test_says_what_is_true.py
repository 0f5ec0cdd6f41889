"""What the window says is true of what it holds: the next step on the Training page, counts that
agree with their nouns, shortcuts as they work on each page, settings in words, images that decode."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel

from tests.gui.conftest import SCAN_TIMEOUT_MS, own_rows
from tests.gui.dialogs import key
from workbench.gui.counted import counted

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier
CHECK_TIMEOUT_MS = 20_000


def open_dataset(window, qtbot, path: Path) -> None:
    """Type the dataset's path into the data panel and press Return, then wait for the scan and the image check."""
    row = window.data_panel.rows[0]
    row.edit.clear()
    qtbot.keyClicks(row.edit, str(path))
    qtbot.keyClick(row.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.scan_running and window.scan is not None, timeout=SCAN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.image_check_running, timeout=CHECK_TIMEOUT_MS)


def show_page(window, qtbot, page) -> None:
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(window.tabs.indexOf(page)).center())
    assert window.tabs.currentWidget() is page


def class_folders(root: Path, classes: int, images: int, broken: dict[int, int] | None = None) -> Path:
    """`classes` folders of `images` small PNGs each; class i also holds broken[i] files named .png that
    are not images (the scan, which reads names only, counts them)."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = root / f"class_{c}"
        folder.mkdir(parents=True)
        for i in range(images):
            Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8), mode="L").save(folder / f"img_{i}.png")
        for i in range((broken or {}).get(c, 0)):
            (folder / f"broken_{i}.png").write_bytes(b"not an image at all")
    return root


def shown_texts(window) -> list[str]:
    return [label.text() for label in window.findChildren(QLabel)] + [window.data_panel.summary.text()]


def test_the_training_page_says_to_press_start_once_a_dataset_is_loaded(window, qtbot, tmp_path):
    show_page(window, qtbot, window.training_page)
    status = window.training_panel.status
    assert "Choose a dataset" in status.text()  # nothing loaded yet: that is the next step
    open_dataset(window, qtbot, class_folders(tmp_path / "six", classes=6, images=4))
    start_keys = window.actions.start.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    assert start_keys and window.actions.start.isEnabled()
    text = status.text()
    assert "Choose a dataset" not in text
    assert "6 classes, 24 images" in text and "Start training" in text and f"({start_keys})" in text


def test_the_training_page_says_why_a_one_class_folder_cannot_train(window, qtbot, flat_folder):
    show_page(window, qtbot, window.training_page)
    open_dataset(window, qtbot, flat_folder)
    text = window.training_panel.status.text()
    assert not window.actions.start.isEnabled()
    assert "one class" in text and "Press" not in text  # not told to press a button that is off


def test_a_single_class_and_image_are_counted_in_the_singular(window, qtbot, tmp_path):
    open_dataset(window, qtbot, class_folders(tmp_path / "one", classes=1, images=1))
    assert window.data_panel.summary.text().startswith("1 class, 1 image")
    assert "<b>1</b> class ·" in window.dataset_view.summary.text()
    model = window.dataset_view.model
    assert model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole).endswith(": 1 image")
    wrong = re.compile(r"(?<![\d,.])1 (classes|images|runs|problems|episodes|queries|groups|plugins)\b")
    assert [t for t in shown_texts(window) if wrong.search(t)] == []
    assert [counted(n, "class") for n in (0, 1, 2, 1000)] == ["0 classes", "1 class", "2 classes", "1,000 classes"]
    assert counted(1, "query") == "1 query" and counted(3, "query") == "3 queries"


def test_the_shortcuts_list_says_ctrl_s_saves_the_labelling_session_on_the_label_page(window, qtbot):
    key(qtbot, window, Qt.Key.Key_Slash, CTRL)
    dialog = window.shortcuts_dialog
    assert dialog.isVisible()
    ctrl_s = QKeySequence("Ctrl+S").toString(QKeySequence.SequenceFormat.NativeText)
    saves = {group: text for group, keys, text in dialog.rows() if keys == ctrl_s}
    assert saves["Label page"].startswith("Save session")
    assert saves["Everywhere"] == "Save project (except on the Label page)"


def test_the_runs_page_names_key_settings_in_words_and_says_first_order(window, qtbot, tmp_path):
    from workbench.runs.config import RunConfig
    from workbench.runs.folder import RunFolder

    hparams = {"inner_lr": 0.01, "inner_steps": 5, "first_order": True, "backbone": "conv4"}
    folder = RunFolder.create(window.runs_root / "fomaml", RunConfig(data=[str(tmp_path)], algorithm="maml",
                                                                     hparams=hparams), {})
    folder.write_status("completed", "Finished.", step=1000)
    show_page(window, qtbot, window.runs_page)
    qtbot.mouseClick(window.runs_page.refresh_button, Qt.MouseButton.LeftButton)
    model = window.runs_page.model
    (row,) = own_rows(model)
    settings = model.index(row, 2).data()
    assert settings == "Inner learning rate 0.01, Inner steps 5, First-order gradients, Backbone conv4"
    assert "inner_lr" in model.index(row, 2).data(Qt.ItemDataRole.ToolTipRole)  # the code names stay findable


def test_image_counts_leave_out_images_that_cannot_be_read_and_say_how_many(window, qtbot, tmp_path):
    open_dataset(window, qtbot, class_folders(tmp_path / "broken", classes=3, images=5, broken={1: 2}))
    summary = window.data_panel.summary.text()
    assert summary.startswith("3 classes, 15 images (2 more cannot be read)")
    assert "<b>15</b> images (2 more cannot be read)" in window.dataset_view.summary.text()
    model = window.dataset_view.model
    counts = {model.index(r, 1).data(): model.index(r, 2).data() for r in range(model.rowCount())}
    assert counts == {"class_0": 5, "class_1": 5, "class_2": 5}
    assert "2 could not be decoded" in window.dataset_view.check_status.text()
    show_page(window, qtbot, window.training_page)
    assert "15 images (2 more cannot be read)" in window.training_panel.status.text()
