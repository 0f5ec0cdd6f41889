"""The Inspect page's task map: colours span the accuracies shown, and a colour bar says what they mean."""

import pytest

from workbench.gui.inspect.colour_bar import AccuracyScale
from workbench.gui.inspect.scatter_views import TaskView

pytestmark = pytest.mark.gui


def hue_of(spot) -> int:
    return spot.brush().color().hsvHue()


def test_episodes_between_80_and_100_percent_get_the_whole_scale(qtbot):
    view = TaskView()
    qtbot.addWidget(view)
    view.show()
    view.set_tasks([[0, 0], [1, 0], [2, 0]], [0.8, 0.9, 1.0])
    hues = [hue_of(spot) for spot in view.scatter.points()]
    assert hues[0] == 0 and hues[2] == 120 and 50 <= hues[1] <= 70  # red, yellow, green — not three greens
    assert view.colour_bar.isVisible()
    assert (view.colour_bar.low_label.text(), view.colour_bar.high_label.text()) == ("80%", "100%")
    assert "red 80% → green 100%" in view.status.text()


def test_no_embedding_means_no_colour_bar(qtbot):
    view = TaskView()
    qtbot.addWidget(view)
    view.show()
    view.set_tasks([[0, 0]], [0.5])
    assert view.colour_bar.isVisible()
    view.set_tasks([], [])
    assert not view.colour_bar.isVisible() and "No task map" in view.status.text()


def test_a_scale_is_never_narrower_than_five_points():
    assert AccuracyScale.spanning([1.0, 1.0]) == AccuracyScale(0.95, 1.0)
    assert AccuracyScale.spanning([0.0]) == AccuracyScale(0.0, 0.05)
    scale = AccuracyScale.spanning([0.5, 0.5])
    assert scale.high - scale.low == pytest.approx(0.05)
    assert AccuracyScale.spanning([]) == AccuracyScale(0.0, 1.0)
