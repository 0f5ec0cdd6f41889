"""The Training page asks what the run is for: a model to use trains on every class, a measurement
holds classes out for a test score."""

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_a_model_to_use_holds_no_class_back_and_a_measurement_does(window, qtbot):
    panel = window.protocol_panel
    assert panel.purpose.currentData() == "use"  # the default, as on the command line
    assert panel.test_percent.value() == 0 and not panel.test_percent.isEnabled()
    assert panel.config_kwargs()["purpose"] == "use" and panel.config_kwargs()["split"].test_fraction == 0

    panel.purpose.setFocus()
    qtbot.keyClick(panel.purpose, Qt.Key.Key_Down)
    assert panel.purpose.currentData() == "measure"
    assert panel.test_percent.isEnabled() and panel.test_percent.value() == 20
    panel.test_percent.setFocus()
    panel.test_percent.selectAll()
    qtbot.keyClicks(panel.test_percent, "30")
    qtbot.keyClick(panel.test_percent, Qt.Key.Key_Return)
    kwargs = panel.config_kwargs()
    assert kwargs["purpose"] == "measure" and kwargs["split"].test_fraction == pytest.approx(0.3)

    panel.purpose.setFocus()
    qtbot.keyClick(panel.purpose, Qt.Key.Key_Up)
    assert panel.test_percent.value() == 0 and panel.config_kwargs()["split"].test_groups == ()
    qtbot.keyClick(panel.purpose, Qt.Key.Key_Down)
    assert panel.test_percent.value() == 30  # the share the person chose comes back
