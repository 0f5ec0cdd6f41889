"""Label page › Export model…: a person labels a folder, presses Export model…, answers the save dialog, and
gets the classifier of the session as it stands, which predicts outside the workbench what the page shows."""

import json

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QToolBar

from tests.gui.dialogs import answer_next_dialog, choose, key
from tests.gui.test_label_page import trained_run  # noqa: F401  (a fixture: a short real ProtoNet run)
from tests.synthetic import flat_folder_of
from workbench.data.images import load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.labelling.session import ACCEPTED

pytestmark = pytest.mark.gui

WAIT_MS = 180_000  # an ONNX export of the pretrained network takes a while on a busy CPU


@pytest.fixture
def unlabelled(glyphs_shared, tmp_path):
    """16 images of two held-out glyph classes in one flat folder; the name tells the true class."""
    return flat_folder_of(glyphs_shared / "group_2", tmp_path / "to_label", classes=2, per_class=8)


@pytest.fixture
def page(qtbot):
    from workbench.gui.app import make_application
    from workbench.gui.labelling import LabelPage

    make_application([])
    page = LabelPage()
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    yield page
    page.shutdown()  # never leave a thread running past a test


def add_class(qtbot, page, name):
    """Click Add and type the name into the dialog it opens."""
    def answer(dialog):
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(name)
        dialog.accept()
    answered = answer_next_dialog(answer)
    qtbot.mouseClick(page.ui.side.add_class_button, Qt.MouseButton.LeftButton)
    assert answered and name in page.session.classes


def click_image(qtbot, page, path, modifier=Qt.KeyboardModifier.NoModifier):
    index = page.proxy.mapFromSource(page.model.index(page.model.row_of[path]))
    grid = page.ui.images.grid
    grid.scrollTo(index)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, grid.visualRect(index).center())


def label(qtbot, page, paths, key):
    for n, path in enumerate(paths):
        click_image(qtbot, page, path, Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier)
    qtbot.keyClick(page.ui.images.grid, key)


def save_as(path, name_filter=None):
    """An answer to the save dialog: choose a file type (optional), type the name, Save."""
    def answer(dialog):
        assert isinstance(dialog, QFileDialog), f"expected a file dialog, got {type(dialog).__name__}"
        if name_filter:
            dialog.selectNameFilter(name_filter)
        dialog.selectFile(str(path))
        dialog.accept()
    return answer


def exported_labels(model_file, folder, paths, fmt):
    """The classes the exported file predicts for `paths`, fed as its metadata says (float32 [0, 1] at its size)."""
    meta = json.loads((model_file.parent / (model_file.name + ".classes.json")).read_text())
    size, channels = meta["input"]["shape"][3], meta["input"]["shape"][1]
    images = to_model_pixels(torch.from_numpy(np.stack([load_image_file(str(folder / p), size, channels)
                                                        for p in paths])))
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
        probabilities = session.run(None, {"images": images.numpy()})[0]
    else:
        probabilities = torch.jit.load(str(model_file))(images).numpy()
    return [meta["classes"][i] for i in probabilities.argmax(axis=1)]


def test_export_model_saves_what_the_page_predicts(page, qtbot, unlabelled, trained_run, tmp_path):
    page.open_folder(str(unlabelled))
    add_class(qtbot, page, "round")
    add_class(qtbot, page, "square")
    assert not page.actions.export_model.isEnabled() and "two classes" in page.actions.export_model.toolTip()
    answered = answer_next_dialog(choose(trained_run))
    qtbot.mouseClick(page.ui.side.choose_run_button, Qt.MouseButton.LeftButton)
    assert answered and page.model_run_dir == str(trained_run)
    label(qtbot, page, ["c0_0.png", "c0_1.png"], Qt.Key.Key_1)
    label(qtbot, page, ["c1_0.png", "c1_1.png"], Qt.Key.Key_2)
    qtbot.waitUntil(lambda: len(page.session.predictions) == 12 and not page.adapting, timeout=WAIT_MS)
    # An accepted prediction is a label too: it goes into the support set.
    accepted = max(page.session.predictions, key=lambda p: page.session.predictions[p].confidence)
    click_image(qtbot, page, accepted)
    qtbot.mouseClick(page.ui.side.accept_selected_button, Qt.MouseButton.LeftButton)
    assert page.session.labels[accepted].source == ACCEPTED
    qtbot.waitUntil(lambda: len(page.session.predictions) == 11 and not page.adapting, timeout=WAIT_MS)
    counts = page.session.counts()

    # ONNX by the dialog's file type: the name typed has no extension, the filter gives it.
    assert page.ui.side.export_model_button.isEnabled() and "main.py export" in page.ui.side.export_model_button.toolTip()
    answered = answer_next_dialog(save_as(tmp_path / "out" / "glyphs", "ONNX (*.onnx)"))
    qtbot.mouseClick(page.ui.side.export_model_button, Qt.MouseButton.LeftButton)
    assert answered, "Export model… did not ask where to save"
    # In the background: the page answers while it runs, and a second export waits for the first.
    assert not page.actions.export_model.isEnabled() and "being exported" in page.actions.export_model.toolTip()
    assert page.ui.banner.level == "info" and "Exporting the model" in page.ui.banner.text
    qtbot.waitUntil(lambda: page.ui.banner.level == "success", timeout=WAIT_MS)
    onnx_file = tmp_path / "out" / "glyphs.onnx"
    assert onnx_file.is_file() and str(onnx_file) in page.ui.banner.text
    assert (f"2 classes, round ({counts['round']} images), square ({counts['square']} images)" in page.ui.banner.text
            and "It predicts with" in page.ui.banner.text), page.ui.banner.text
    assert page.actions.export_model.isEnabled()

    # TorchScript by the extension typed, from the toolbar's Export model….
    pt_file = tmp_path / "glyphs.pt"
    answered = answer_next_dialog(save_as(pt_file))
    toolbar_button = page.findChild(QToolBar).widgetForAction(page.actions.export_model)
    qtbot.mouseClick(toolbar_button, Qt.MouseButton.LeftButton)
    assert answered
    qtbot.waitUntil(lambda: page.ui.banner.level == "success" and "TorchScript" in page.ui.banner.text, timeout=WAIT_MS)
    assert pt_file.is_file() and json.loads((tmp_path / "glyphs.pt.classes.json").read_text())["classes"] == [
        "round", "square"]

    # Outside the workbench, each file predicts the labels the page shows for the unlabelled images the page is
    # sure of (the page's adapt also weighs and refines with the unlabelled images; an exported model cannot).
    sure = [p for p, prediction in page.session.predictions.items() if prediction.confidence >= 0.8]
    assert sure, "the page is sure of no prediction"
    shown = [page.session.predictions[p].name for p in sure]
    assert exported_labels(onnx_file, unlabelled, sure, "onnx") == shown
    assert exported_labels(pt_file, unlabelled, sure, "torchscript") == shown


def test_nothing_to_export_yet_says_why_and_a_refused_file_is_one_sentence(page, qtbot, unlabelled, trained_run):
    tip = lambda: page.actions.export_model.toolTip()  # noqa: E731
    assert not page.ui.side.export_model_button.isEnabled() and "Open a folder" in tip()
    # A click on the disabled button asks nothing.
    answered = answer_next_dialog(lambda dialog: dialog.reject(), timeout_s=0.5)
    qtbot.mouseClick(page.ui.side.export_model_button, Qt.MouseButton.LeftButton)
    qtbot.wait(700)
    assert not answered
    page.open_folder(str(unlabelled))
    assert page.load_run(str(trained_run))
    add_class(qtbot, page, "round")
    add_class(qtbot, page, "square")
    assert not page.ui.side.export_model_button.isEnabled() and "two classes" in tip()
    label(qtbot, page, ["c0_0.png"], Qt.Key.Key_1)
    assert not page.ui.side.export_model_button.isEnabled() and "two classes" in tip()
    label(qtbot, page, ["c1_0.png"], Qt.Key.Key_2)
    assert page.ui.side.export_model_button.isEnabled()
    add_class(qtbot, page, "star")
    assert not page.ui.side.export_model_button.isEnabled() and "The class 'star' has no labelled images" in tip()
    page.export_model()  # asked for anyway (a shortcut, a script): the same sentence in the banner
    assert page.ui.banner.level == "info" and "The class 'star' has no labelled images" in page.ui.banner.text

    # Undo the empty class; a file the export must not write (inside the run folder, whose files it could
    # overwrite) is refused in one sentence, and nothing is written.
    key(qtbot, page.ui.images.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert page.session.classes == ["round", "square"] and page.ui.side.export_model_button.isEnabled()
    answered = answer_next_dialog(save_as(trained_run / "exported.pt"))
    qtbot.mouseClick(page.ui.side.export_model_button, Qt.MouseButton.LeftButton)
    assert answered
    qtbot.waitUntil(lambda: page.ui.banner.level == "error", timeout=WAIT_MS)
    assert "inside the run folder" in page.ui.banner.text and "\n" not in page.ui.banner.text
    assert "Traceback" not in page.ui.banner.text and not (trained_run / "exported.pt").exists()
    assert page.ui.side.export_model_button.isEnabled()
