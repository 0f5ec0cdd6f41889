"""The Label page's label audit, driven as a person would: a label given by mistake is marked after
Adapt with the class it looks like, Review shows only it, Relabel fixes it, Ctrl+Z brings it back."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.test_label_page import WAIT_MS, click_image, page_factory, rows, trained_run  # noqa: F401 (fixtures)
from tests.synthetic import distinct_image
from workbench.gui.labelling.grid_model import PATH_ROLE, SUSPECT_ROLE, SUSPECTS
from workbench.labelling.session import HUMAN

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def shapes(tmp_path):
    """15 images of three shapes that even a barely trained model tells apart; the name tells the true class."""
    folder = tmp_path / "shapes"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for c in range(3):
        for i in range(5):
            distinct_image(c, rng).save(folder / f"c{c}_{i}.png")
    return folder


def marks(page) -> dict:
    """The suspect mark of each thumbnail that has one, by path, as the grid's delegate reads it."""
    found = {}
    for r in range(page.model.rowCount()):
        index = page.model.index(r)
        if index.data(SUSPECT_ROLE) is not None:
            found[index.data(PATH_ROLE)] = index.data(SUSPECT_ROLE)
    return found


def shown(page) -> list[str]:
    return [page.proxy.index(r, 0).data(PATH_ROLE) for r in range(page.proxy.rowCount())]


def adapt(qtbot, page) -> None:
    with qtbot.waitSignal(page.predictionsUpdated, timeout=WAIT_MS):
        qtbot.mouseClick(page.ui.side.adapt_button, Qt.MouseButton.LeftButton)


def test_a_wrong_label_is_marked_reviewed_relabelled_and_undone(page_factory, qtbot, shapes, trained_run):
    page = page_factory()
    page.open_folder(str(shapes))
    page.ui.side.auto_adapt.setChecked(False)  # one adapt per click, so each step below sees the labels it made
    for name in ("bar", "post", "square"):
        page.add_class(name)
    for c, key in enumerate((Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3)):
        click_image(qtbot, page, f"c{c}_0.png")
        for i in (1, 2):
            click_image(qtbot, page, f"c{c}_{i}.png", CTRL)
        qtbot.keyClick(page.ui.images.grid, key)
    click_image(qtbot, page, "c0_3.png")
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_3)  # the mistake: a bar labelled as a square
    assert rows(page)["c0_3.png"]["label"] == "square"
    assert page.load_run(str(trained_run))
    qtbot.waitUntil(lambda: page.images_ready, timeout=WAIT_MS)
    assert not page.ui.audit.box.isVisible() and marks(page) == {}  # nothing audited before an adapt

    adapt(qtbot, page)
    found = marks(page)
    assert list(found) == ["c0_3.png"]  # the ten right labels are left alone
    assert (found["c0_3.png"].given, found["c0_3.png"].likely) == ("square", "bar")
    assert found["c0_3.png"].confidence >= 0.8
    tooltip = page.model.index(page.model.row_of["c0_3.png"]).data(Qt.ItemDataRole.ToolTipRole)
    assert "looks wrong" in tooltip and "puts this image in bar" in tooltip and "key 1" in tooltip
    assert page.ui.audit.box.isVisible() and "1 label looks wrong" in page.ui.audit.label.text()
    assert "1 label looks wrong" in page.ui.images.summary.full_text

    # Review shows only the suspect and selects it; the offer names the class it looks like.
    qtbot.mouseClick(page.ui.audit.review_button, Qt.MouseButton.LeftButton)
    class_filter = page.ui.images.class_filter
    assert class_filter.currentData() == SUSPECTS and class_filter.currentText() == "Suspect labels"
    assert shown(page) == ["c0_3.png"] and page.ui.images.grid.selected_paths() == ["c0_3.png"]
    assert page.ui.audit.relabel_button.isEnabled() and page.ui.audit.relabel_button.text() == "Relabel as bar"

    qtbot.mouseClick(page.ui.audit.relabel_button, Qt.MouseButton.LeftButton)
    assert (rows(page)["c0_3.png"]["label"], rows(page)["c0_3.png"]["source"]) == ("bar", HUMAN)
    assert marks(page) == {} and shown(page) == [] and not page.ui.audit.box.isVisible()
    assert "looks wrong" not in page.ui.images.summary.full_text

    # Ctrl+Z gives the wrong label back, and with it its mark; Ctrl+Shift+Z fixes it again.
    page.ui.images.grid.setFocus()
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_Z, CTRL)
    assert rows(page)["c0_3.png"]["label"] == "square" and list(marks(page)) == ["c0_3.png"]
    assert shown(page) == ["c0_3.png"] and page.ui.audit.box.isVisible()
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert rows(page)["c0_3.png"]["label"] == "bar" and marks(page) == {}

    # Adapting to the fixed labels finds nothing wrong.
    page.ui.images.class_filter.setCurrentIndex(0)
    adapt(qtbot, page)
    assert marks(page) == {} and not page.ui.audit.box.isVisible() and len(page.model.suspects) == 0


def test_clearing_a_suspect_label_takes_its_mark_away(page_factory, qtbot, shapes, trained_run):
    page = page_factory()
    page.open_folder(str(shapes))
    page.ui.side.auto_adapt.setChecked(False)
    for name in ("bar", "post"):
        page.add_class(name)
    page.label_paths("bar", ["c0_0.png", "c0_1.png", "c0_2.png"])
    page.label_paths("post", ["c1_0.png", "c1_1.png", "c1_2.png", "c0_3.png"])  # a bar among the posts
    assert page.load_run(str(trained_run))
    qtbot.waitUntil(lambda: page.images_ready, timeout=WAIT_MS)
    adapt(qtbot, page)
    assert list(marks(page)) == ["c0_3.png"] and marks(page)["c0_3.png"].likely == "bar"
    click_image(qtbot, page, "c0_3.png")
    assert page.ui.audit.relabel_button.text() == "Relabel as bar"
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_0)
    assert rows(page)["c0_3.png"]["label"] is None and marks(page) == {} and not page.ui.audit.box.isVisible()
