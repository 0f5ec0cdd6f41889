"""The GUI's building blocks on their own: image conversion, number fields, generated forms."""

import numpy as np
import pytest
import torch
from PySide6.QtGui import QValidator

from workbench.algorithms.hyperparams import HyperParam

pytestmark = pytest.mark.gui


def test_gray_and_rgb_arrays_become_the_same_pixels(qapp):
    from workbench.gui.qt_images import array_to_qimage

    gray = np.arange(12, dtype=np.uint8).reshape(1, 3, 4) * 20
    image = array_to_qimage(gray)
    assert (image.width(), image.height()) == (4, 3)
    assert image.pixelColor(3, 2).red() == gray[0, 2, 3]
    rgb = np.zeros((3, 2, 2), dtype=np.uint8)
    rgb[0, 0, 1] = 200  # red at x=1, y=0
    rgb[2, 1, 0] = 150  # blue at x=0, y=1
    image = array_to_qimage(rgb)
    assert image.pixelColor(1, 0).red() == 200 and image.pixelColor(1, 0).blue() == 0
    assert image.pixelColor(0, 1).blue() == 150
    with pytest.raises(ValueError):
        array_to_qimage(np.zeros((2, 4, 4), dtype=np.uint8))


def test_cache_images_are_turned_like_the_sampler_turns_them(qapp):
    from workbench.gui.qt_images import array_to_qimage, cache_pixmap

    images = torch.zeros((2, 1, 8, 8), dtype=torch.uint8)
    images[1, 0, 0, 7] = 255  # top-right corner
    expected = torch.rot90(images[1], 1, dims=(-2, -1)).numpy()
    pixmap = cache_pixmap(images, 1, 1, 8)
    assert pixmap.width() == 8
    drawn = pixmap.toImage()
    reference = array_to_qimage(expected)
    assert all(drawn.pixelColor(x, y).red() == reference.pixelColor(x, y).red()
               for x in range(8) for y in range(8))
    assert reference.pixelColor(0, 0).red() == 255  # a quarter turn moves top-right to top-left


def test_scientific_spin_box_accepts_exponents_only_in_range(qapp):
    from workbench.gui.spin_boxes import ScientificSpinBox

    box = ScientificSpinBox()
    box.setRange(1e-6, 1.0)
    box.setValue(1e-3)
    assert box.text() == "0.001"
    assert box.validate("1e-4", 0)[0] == QValidator.State.Acceptable
    assert box.validate("1e-", 0)[0] == QValidator.State.Intermediate
    assert box.validate("abc", 0)[0] == QValidator.State.Invalid
    assert box.validate("5", 0)[0] == QValidator.State.Intermediate  # could become 5e-3
    assert box.validate("nan", 0)[0] == QValidator.State.Invalid
    box.setValue(1e-3)
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-3)
    box.stepBy(-2)
    assert box.value() == pytest.approx(5e-4)
    box.setValue(50)
    assert box.value() == 1.0


class _FakeAlgorithm:
    name = "fake"
    title = "Fake method"
    summary = "Only for this test."
    hyperparams = (
        HyperParam("rate", "float", 0.01, "A rate.", 1e-5, 1.0, log_scale=True),
        HyperParam("scale", "float", 0.5, "A linear number.", 0.0, 2.0),
        HyperParam("layers", "int", 3, "How many.", 1, 8),
        HyperParam("fast", "bool", True, "Go fast."),
        HyperParam("mode", "choice", "b", "Which one.", choices=("a", "b", "c")),
    )


def test_form_is_generated_from_declared_hyperparameters(qtbot):
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

    from workbench.gui.algorithm_panel import AlgorithmPanel

    panel = AlgorithmPanel({"fake": _FakeAlgorithm})
    qtbot.addWidget(panel)
    form = panel.form
    assert panel.summary.text() == "Only for this test."
    assert isinstance(form.editors["rate"], QDoubleSpinBox)
    assert isinstance(form.editors["layers"], QSpinBox)
    assert (form.editors["layers"].minimum(), form.editors["layers"].maximum()) == (1, 8)
    assert isinstance(form.editors["fast"], QCheckBox)
    assert isinstance(form.editors["mode"], QComboBox)
    assert "Which one." in form.editors["mode"].toolTip()
    assert form.values() == {"rate": 0.01, "scale": 0.5, "layers": 3, "fast": True, "mode": "b"}
    form.set_values({"rate": 0.2, "layers": 8, "fast": False, "mode": "c"})
    form.editors["scale"].stepBy(1)
    assert form.values() == {"rate": 0.2, "scale": pytest.approx(0.6), "layers": 8, "fast": False, "mode": "c"}
    for param in _FakeAlgorithm.hyperparams:  # every value the form gives passes the core's check
        param.coerce(form.values()[param.name])
    form.reset()
    assert form.values()["rate"] == 0.01


def test_plugin_that_failed_to_load_is_reported(window_factory, monkeypatch):
    from workbench.catalogue import plugins
    from workbench.catalogue.plugins import PluginStatus

    monkeypatch.setattr(plugins, "statuses", lambda: [
        PluginStatus("broken_plugin", "/plugins/broken_plugin.py", False, "SyntaxError: invalid syntax (line 3)")])
    window = window_factory()
    assert window.banner.level == "warning"
    assert "broken_plugin" in window.banner.text and "SyntaxError" in window.banner.text


def test_curves_keep_the_newest_step_in_view_and_grow_in_round_jumps(qtbot):
    from workbench.gui.curves import CurvesView, nice_ceiling
    from workbench.training.events import TrainStep

    assert [nice_ceiling(v) for v in (3, 10, 11, 140, 201, 4_999)] == [10, 10, 20, 200, 500, 5_000]
    view = CurvesView()
    qtbot.addWidget(view)
    fields = TrainStep.__dataclass_fields__
    for step in range(1, 131):
        values = {name: 0 for name in fields}
        values.update(step=step, loss=1.0 / step, accuracy=0.5)
        view.add_train(TrainStep(**values))
    view.redraw()
    assert view.point_count("train_loss") == view.point_count("train_acc") == 130
    for plot in (view.loss_plot, view.accuracy_plot):
        low, high = plot.getViewBox().viewRange()[0]
        assert low <= 1 and 130 <= high <= 210  # the step axis reaches 200, not one past the last step
