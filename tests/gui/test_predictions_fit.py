"""The adapted predictions on a laptop-wide panel: every query of a class is on screen, on more lines,
instead of two per class and the rest off to the side under a cut header."""

import pytest

from workbench.gui.predictions_view import PredictionsView
from workbench.training.events import EpisodePredictions

pytestmark = pytest.mark.gui


def episode(ways=5, shots=1, queries=15) -> EpisodePredictions:
    labels = [c for c in range(ways) for _ in range(queries)]
    return EpisodePredictions(
        step=100, class_names=tuple(f"alphabet/character{c:02d}" for c in range(ways)),
        support_rows=tuple(range(ways * shots)), support_labels=tuple(c for c in range(ways) for _ in range(shots)),
        query_rows=tuple(range(len(labels))), query_labels=tuple(labels),
        predicted=tuple((y + (i % 4 == 0)) % ways for i, y in enumerate(labels)),
        confidence=tuple(0.9 for _ in labels), class_turns=tuple(0 for _ in range(ways)))


@pytest.mark.parametrize("width", [430, 700, 1000])
def test_every_query_is_within_the_panel_s_width(qtbot, width):
    view = PredictionsView()
    qtbot.addWidget(view)
    view.resize(width, 500)
    view.show()
    view.show_predictions(episode())
    qtbot.waitUntil(lambda: view.canvas.available_width > 0)
    canvas = view.canvas
    assert len(canvas.query_tiles) == 75
    visible = view.scroll.viewport().width()
    assert all(tile.rect.right() < visible for tile in canvas.query_tiles + canvas.support_tiles)
    assert view.scroll.horizontalScrollBar().maximum() == 0  # nothing to scroll sideways to
    rows = sorted({tile.rect.top() for tile in canvas.query_tiles})
    assert len(rows) >= 5 and (width > 430 or len(rows) > 5)  # a narrow panel wraps each class's queries
    assert not view.grab().isNull()
