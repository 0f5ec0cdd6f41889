"""backbone=searched in the real window: the runs' found cells are offered by run, the one chosen is trained on,
and choosing none is said in one sentence before a run starts."""

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.gui.dialogs import answer_next_dialog, choose, key
from workbench.atomic import write_json_atomic
from workbench.gui.architecture_picker import NO_SEARCH_YET, NOT_CHOSEN
from workbench.models.genotype import Genotype
from workbench.runs.config import RunConfig
from workbench.runs.folder import RunFolder

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 120_000
CELL = Genotype(("reduce", "normal"), 2, 4,
                normal=(((0, "sep_conv_3x3"), (1, "skip_connect")), ((0, "max_pool_3x3"), (2, "dil_conv_3x3"))),
                reduce=(((0, "avg_pool_3x3"), (1, "max_pool_3x3")), ((1, "skip_connect"), (2, "max_pool_3x3"))))


def search_run(path: Path, data: Path, best: float) -> Path:
    """A finished MetaNAS run folder as training leaves it: config, status and the cell it found."""
    folder = RunFolder.create(path, RunConfig(data=[str(data)], algorithm="metanas", ways=3, shots=1, queries=2,
                                              steps=2, hparams={"cells": 2, "nodes": 2, "channels": 4}), {})
    folder.write_status("completed", "Training finished.", step=2, best_val_accuracy=best, best_step=2)
    write_json_atomic(path / "architecture.json", CELL.to_record())
    return path / "architecture.json"


def arrow_to(qtbot, combo, text: str) -> None:
    """Choose `text` in a focused combo box with the arrow keys. Not by typing: typed letters make one search
    only within the keyboard interval, which a busy machine can exceed between two keys."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentText() != text:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"{text!r} is not offered"


def choose_searched(qtbot, form) -> None:
    arrow_to(qtbot, form.editors["backbone"], "searched")


def listed(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_searched_backbone_offers_the_runs_cells_and_trains_on_the_one_chosen(window, glyphs, qtbot):
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.algorithm_panel
    panel.set_algorithm("maml")  # as a last session may have left it
    arrow_to(qtbot, panel.combo, panel.combo.itemText(panel.combo.findData("protonet")))
    assert panel.name == "protonet"
    form = panel.form
    picker = form.editors["backbone_architecture"]
    assert not picker.isVisible()  # only with backbone=searched

    # Two searches in the runs folder; the newer one is listed first.
    older = search_run(window.runs_root / "search-old", glyphs, 0.612)
    search_run(window.runs_root / "search-new", glyphs, 0.55)
    made = (older.parent / "config.json").stat().st_mtime - 3600  # an hour before the other
    os.utime(older.parent / "config.json", (made, made))
    choose_searched(qtbot, form)
    assert picker.isVisible() and picker.combo.isVisible() and picker.browse_button.isVisible()
    labels = listed(picker.combo)
    assert labels == ["search-new · val 55.0%", "search-old · val 61.2%"], labels
    assert picker.text() == "" and panel.hyperparams()["backbone_architecture"] == ""

    # Training with no cell chosen is refused at once, in one sentence, and no run folder is made.
    protocol = window.protocol_panel
    protocol.ways.setValue(3)
    protocol.queries.setValue(2)
    protocol.steps.setValue(2)
    protocol.val_every.setValue(2)
    protocol.val_episodes.setValue(1)
    protocol.device.setCurrentIndex(protocol.device.findData("cpu"))
    key(qtbot, picker.combo, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.training is None and window.banner.text.endswith(NOT_CHOSEN)
    assert sorted(p.name for p in window.runs_root.iterdir()) == ["search-new", "search-old"]

    # Opened with the mouse, the list is read again; the older search is chosen with the keys.
    qtbot.mouseClick(picker.combo, Qt.MouseButton.LeftButton)
    view = picker.combo.view()
    qtbot.waitUntil(view.isVisible)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.isVisible())
    assert picker.text() == str(older)
    assert "normal: 2=sep3(0)+skip(1)" in picker.cell.text().replace("\u2060", "") and not picker.problem.isVisible()
    assert panel.hyperparams()["backbone_architecture"] == str(older)

    key(qtbot, picker.combo, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.training is None and window.last_finished is not None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed", window.last_finished.message
    run = Path(window.last_finished.run_dir)
    hparams = json.loads((run / "config.json").read_text())["hparams"]
    assert hparams["backbone"] == "searched" and hparams["backbone_architecture"] == str(older)
    assert (run / "architecture.json").is_file()  # the run keeps the cell it was built on

    # A run trained on a found cell is no new search: the list stays the two searches.
    qtbot.mouseClick(picker.combo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(view.isVisible)
    assert listed(picker.combo) == labels
    qtbot.keyClick(view, Qt.Key.Key_Escape)

    # Another backbone: the field goes, and the run does not get the file.
    backbone = form.editors["backbone"]
    arrow_to(qtbot, backbone, "conv4")
    assert backbone.currentText() == "conv4" and not picker.isVisible()
    assert panel.hyperparams()["backbone_architecture"] == ""


def test_with_no_search_yet_the_picker_says_so_and_browse_picks_any_file(window, qtbot, tmp_path):
    form = window.algorithm_panel.form
    choose_searched(qtbot, form)
    picker = form.editors["backbone_architecture"]
    assert listed(picker.combo) == [NO_SEARCH_YET] and picker.cell.text() == NO_SEARCH_YET + "."
    qtbot.keyClick(picker.combo, Qt.Key.Key_Down)  # the message is no choice
    assert picker.text() == ""

    elsewhere = tmp_path / "shared" / "architecture.json"
    elsewhere.parent.mkdir()
    write_json_atomic(elsewhere, CELL.to_record())
    answered = answer_next_dialog(choose(elsewhere))
    qtbot.mouseClick(picker.browse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(answered))
    assert picker.text() == str(elsewhere) and picker.combo.currentText() == "shared/architecture.json"
    assert window.algorithm_panel.hyperparams()["backbone_architecture"] == str(elsewhere)

    # A damaged file is said under the field in one sentence naming it.
    damaged = tmp_path / "damaged.json"
    damaged.write_text("{half a file")
    answered = answer_next_dialog(choose(damaged))
    qtbot.mouseClick(picker.browse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(answered))
    said = picker.problem.text()
    assert picker.problem.isVisible() and str(damaged) in said and "not valid JSON" in said and "\n" not in said
