"""The 'From one group' share in the real window: typed by a person, into the run, said in the run's log."""

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from workbench.runs.group_episodes import DEFAULT_GROUP_EPISODES

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 60_000


def type_into(qtbot, spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def test_the_share_typed_is_the_share_trained_and_the_log_says_which_groups(window, glyphs, qtbot):
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.protocol_panel
    spin = panel.group_share
    assert spin.isVisible() and "one group" in spin.toolTip()
    assert window.build_config().group_episodes == DEFAULT_GROUP_EPISODES
    type_into(qtbot, spin, "0")
    assert spin.text() == "off" and window.build_config().group_episodes == 0
    type_into(qtbot, spin, "100")
    assert window.build_config().group_episodes == 1.0
    panel.ways.setValue(3)
    panel.train_ways.setValue(3)
    panel.queries.setValue(3)
    panel.steps.setValue(2)
    panel.val_every.setValue(2)
    panel.val_episodes.setValue(1)
    panel.val_percent.setValue(25)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed"
    run = Path(window.last_finished.run_dir)
    assert json.loads((run / "config.json").read_text())["group_episodes"] == 1.0
    assert "100% of training episodes draw all 3 classes from one group (2 groups have enough: group_0, group_1)" \
        in (run / "log.txt").read_text()
