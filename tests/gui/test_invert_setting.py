"""The 'Invert pixels' box in the real window: into the run's config, kept with the project, images still shown as they are."""

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 60_000


def mean_lightness(pixmap) -> float:
    """Average lightness (0 black .. 1 white) of a pixmap, sampled on a 14 x 14 grid."""
    image = pixmap.toImage()
    points = [(x * image.width() // 14, y * image.height() // 14) for x in range(14) for y in range(14)]
    return sum(image.pixelColor(x, y).lightnessF() for x, y in points) / len(points)


def test_the_box_goes_into_the_config_and_is_kept_with_the_project(window_factory, glyphs, tmp_path, qtbot):
    window = window_factory()
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    box = window.protocol_panel.invert
    # Auto until the person decides: the run decides from the images (see data/look.py).
    assert box.isVisible() and box.value() == "auto" and "1 − x" in box.toolTip() and "auto" in box.toolTip()
    assert window.build_config().invert == "auto"
    assert window.protocol_panel.image_size.value() == 32 and window.build_config().image_size == 32
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert box.isChecked() and window.build_config().invert is True
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert window.build_config().invert is False
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)

    project_file = tmp_path / "inverted.fswproj"
    assert window.projects.save(path=str(project_file))
    assert json.loads(project_file.read_text())["settings"]["invert"] is True
    other = window_factory()
    assert other.protocol_panel.invert.value() == "auto"
    assert other.projects.open(str(project_file))
    assert other.protocol_panel.invert.isChecked()


def test_a_run_trained_inverted_still_shows_its_images_as_they_are(window, glyphs, qtbot):
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.protocol_panel
    panel.ways.setValue(3)
    panel.queries.setValue(3)
    panel.steps.setValue(4)
    panel.val_every.setValue(4)
    panel.val_episodes.setValue(1)
    panel.val_percent.setValue(25)
    panel.test_percent.setValue(25)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    panel.invert.setChecked(True)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed"
    config = json.loads((Path(window.last_finished.run_dir) / "config.json").read_text())
    assert config["invert"] is True
    # The glyphs are dark strokes on white paper: the tiles show white paper, not what the model saw.
    tiles = window.predictions.canvas.support_tiles + window.predictions.canvas.query_tiles
    assert len(tiles) == 12 and all(mean_lightness(tile.pixmap) > 0.6 for tile in tiles)


def test_left_on_auto_a_run_decides_from_the_images_and_records_it(window, glyphs, qtbot):
    """Dark strokes on white paper: with the boxes left on auto, the run inverts and adds turned classes."""
    window.data_panel.set_paths([str(glyphs)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    panel = window.protocol_panel
    assert panel.rotations.value() == panel.mirror.value() == panel.invert.value() == "auto"
    panel.ways.setValue(3)
    panel.queries.setValue(3)
    panel.steps.setValue(2)
    panel.val_every.setValue(2)
    panel.val_episodes.setValue(1)
    panel.val_percent.setValue(25)
    panel.test_percent.setValue(25)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Start training, as a person would
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished.status == "completed"
    run = Path(window.last_finished.run_dir)
    config = json.loads((run / "config.json").read_text())
    assert config["invert"] is True and config["rotations"] is True and config["mirror"] is True
    assert "Decided from the images" in (run / "log.txt").read_text()


def test_an_auto_box_says_auto_until_clicked(window, qtbot):
    box = window.protocol_panel.rotations
    assert box.text().endswith(": auto")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the box itself
    assert box.isChecked() and not box.text().endswith("auto")
