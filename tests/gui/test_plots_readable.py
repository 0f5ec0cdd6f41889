"""Plots a person can read: no legend over the curves, no "(x0.001)" on the task map's axes, and an
embedding legend that scrolls instead of losing its last lines."""

import pytest
from PySide6.QtWidgets import QScrollArea

from workbench.gui.curves import CurvesView
from workbench.gui.inspect.scatter_views import EmbeddingView, TaskView
from workbench.training.events import TrainStep, Validation

pytestmark = pytest.mark.gui


def test_the_training_legends_sit_under_the_plots_not_on_the_curves(qtbot):
    view = CurvesView()
    qtbot.addWidget(view)
    view.resize(620, 300)
    view.show()
    for step in range(1, 60):
        view.add_train(TrainStep(step, 60, 2.0 / step, step / 60, 1.0, 10.0, 1.0))
    view.add_validation(Validation(50, 0.5, 0.8, 0.02, 0.8))
    view.redraw()
    legend = view.legend  # one for both plots, which draw the same three series
    assert all(plot.legend is None for plot in (view.loss_plot, view.accuracy_plot))  # nothing drawn on the data
    assert legend.isVisible() and all(word in legend.text() for word in ("train", "smoothed", "validation"))
    for widget in (view.loss_widget, view.accuracy_widget):
        assert legend.geometry().top() >= widget.geometry().bottom()  # under the plots, not on them
    assert legend.sizeHint().width() <= view.width()  # whole, even at a laptop's width


def test_the_task_map_axes_are_plain_numbers(qtbot):
    view = TaskView()
    qtbot.addWidget(view)
    view.set_tasks([(0.001 * i, -0.002 * i) for i in range(8)], [0.5 + 0.05 * i for i in range(8)])
    for axis in ("left", "bottom"):
        assert not view.plot.getAxis(axis).autoSIPrefix and "x0" not in view.plot.getAxis(axis).labelString()


def test_a_long_embedding_legend_scrolls_rather_than_being_cut(qtbot):
    view = EmbeddingView()
    qtbot.addWidget(view)
    view.resize(700, 320)
    view.show()
    view.legend.setText("<br>".join(f"● class {i}" for i in range(20)))
    qtbot.wait(50)
    scroll = view.legend.parentWidget().parentWidget().parentWidget()
    assert isinstance(scroll, QScrollArea)
    assert scroll.widget().sizeHint().height() > scroll.viewport().height()  # taller than the page: it scrolls
    assert scroll.verticalScrollBar().maximum() > 0
