"""The file field of a 'path' hyperparameter: typed, browsed, flagged, and accepted by the core."""

import pytest
from PySide6.QtCore import Qt

from workbench import catalogue
from workbench.errors import ConfigError


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_bytes(b"any bytes: only existence is checked by the form")
    return path


def test_path_field_is_typed_or_browsed_and_its_value_passes_the_core_check(window, qtbot, weights_file, tmp_path):
    panel = window.algorithm_panel
    panel.set_algorithm("protonet")
    field = panel.form.editors["backbone_weights"]
    assert not field.isVisible()  # an advanced setting: the person opens "Advanced settings" first
    qtbot.mouseClick(panel.form.advanced_button, Qt.MouseButton.LeftButton)
    assert field.isVisible()
    assert field.text() == "" and panel.hyperparams()["backbone_weights"] == ""
    assert "weights file" in field.toolTip()

    # Typing a path that names no file flags it under the field.
    qtbot.keyClicks(field.line, str(tmp_path / "missing.pth"))
    assert field.problem.isVisible() and "No file at" in field.problem.text()
    with pytest.raises(ConfigError, match="backbone_weights"):
        catalogue.get("protonet")(1, 28, panel.hyperparams())

    # Browse… opens a real file dialog; choosing the file fills the field.
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    dialog = field.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.selectFile(str(weights_file))
    dialog.accept()
    assert field.text() == str(weights_file)
    assert not field.problem.isVisible()
    values = panel.hyperparams()
    assert values["backbone_weights"] == str(weights_file)
    assert catalogue.get("protonet").hyperparams[-1].coerce(values["backbone_weights"]) == str(weights_file)

    # Reset empties it again.
    panel.form.reset()
    assert panel.hyperparams()["backbone_weights"] == ""
