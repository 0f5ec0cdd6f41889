"""Inspect, as a person digs into a result: the worst mistakes of one true class, and a click on a
confusion-matrix cell (or a row of Top confusions) that shows the very images counted in it."""

import pytest
from PySide6.QtCore import Qt

from workbench.data.splits import SplitSpec
from workbench.gui.inspect.mistakes_view import ALL_CLASSES, once_per_query
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui

EPISODES = 10


@pytest.fixture(scope="module")
def weak_run(glyphs_shared, tmp_path_factory):
    """A ProtoNet run trained for a few steps only: it confuses classes, so its matrix has red cells."""
    root = tmp_path_factory.mktemp("cell-runs")
    config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=4, shots=1, queries=2, steps=3,
                       val_every=3, val_episodes=1, checkpoint_every=3, device="cpu", precision="fp32",
                       split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
    assert run_to_end(train_run(config, root / "weak")).status == "completed"
    return root / "weak"


def cell_rows(inspection, true_class, predicted_class) -> set[int]:
    """The cache rows of every query of `true_class` predicted as `predicted_class`, from the records."""
    return {row for record in inspection.episodes
            for t, p, row in zip(record.query_labels, record.predicted, record.query_rows)
            if record.classes[t] == true_class and record.classes[p] == predicted_class}


def click_tab(qtbot, tabs, widget) -> None:
    """Click the tab that shows `widget` (the tab's page, or a page holding it)."""
    index = next(i for i in range(tabs.count()) if tabs.widget(i) is widget or tabs.widget(i).isAncestorOf(widget))
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index and widget.isVisible()


def click_cell(qtbot, page, row: int, column: int) -> None:
    """Click the confusion matrix's cell (row, column) where it is drawn, scrolled into view first."""
    click_tab(qtbot, page.result_tabs, page.confusion)
    index = page.confusion_model.index(row, column)
    page.confusion.scrollTo(index)
    qtbot.mouseClick(page.confusion.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.confusion.visualRect(index).center())


def opened(window_factory, run_dir, qtbot, evaluate: bool):
    window = window_factory()
    page = window.inspect_page
    page.device = "cpu"
    page.episodes.setValue(EPISODES)
    window.set_runs_root(run_dir.parent)
    if evaluate:  # Ctrl+E on the run, then Evaluate again if it had been evaluated: its images are loaded
        window.runs_page.select_paths([str(run_dir)])
        window.actions.evaluate.trigger()
        qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)
        if page.setup is None:
            qtbot.mouseClick(page.evaluate_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.setup is not None and not page.busy, timeout=60_000)
    else:
        window.inspect_run(str(run_dir))  # the saved evaluation: no images loaded yet
        assert page.inspection is not None and page.setup is None and not page.busy
    return window, page


def test_clicking_a_confusion_cell_shows_exactly_its_images(window_factory, weak_run, qtbot):
    window, page = opened(window_factory, weak_run, qtbot, evaluate=True)
    inspection, model = page.inspection, page.confusion_model
    paths = page.setup.cache.image_paths
    red = [(i, j) for i in range(model.rowCount()) for j in range(model.columnCount()) if i != j and model.matrix[i][j]]
    assert red, "the weak run should confuse some classes"
    i, j = red[0]
    click_cell(qtbot, page, i, j)
    assert page.views.currentWidget() is page.cell and page.cell.isVisible()
    expected = cell_rows(inspection, model.classes[i], model.classes[j])
    assert {q.query_row for q in page.cell.queries} == expected
    assert len(page.cell.tiles) == len(expected)  # each image once, however many episodes drew it
    assert {tile.toolTip().split("\n")[0] for tile in page.cell.tiles} == {paths[r] for r in expected}
    assert model.names[model.classes[i]] in page.cell.title.text()
    # The diagonal: the queries of that class that were predicted right.
    k = next(k for k in range(model.rowCount()) if model.matrix[k][k])
    click_cell(qtbot, page, k, k)
    assert {q.query_row for q in page.cell.queries} == cell_rows(inspection, model.classes[k], model.classes[k])
    assert "predicted right" in page.cell.title.text()
    # An empty cell says there is nothing to show.
    empty = [(a, b) for a in range(model.rowCount()) for b in range(model.columnCount()) if not model.matrix[a][b]]
    if empty:
        click_cell(qtbot, page, *empty[0])
        assert not page.cell.queries and "Nothing to show" in page.cell.scroll.widget().text()
    # A row of Top confusions shows its cell too.
    click_tab(qtbot, page.result_tabs, page.top_confusions)
    top = page.top_confusions
    qtbot.mouseClick(top.viewport(), Qt.MouseButton.LeftButton, pos=top.visualItemRect(top.item(0, 1)).center())
    _count, true_class, predicted_class = model.top_confusions()[0]
    assert page.views.currentWidget() is page.cell
    assert {q.query_row for q in page.cell.queries} == cell_rows(inspection, true_class, predicted_class)


def test_a_saved_evaluation_loads_its_images_for_a_cell(window_factory, weak_run, qtbot):
    opened(window_factory, weak_run, qtbot, evaluate=True)  # writes evaluation.json
    _window, page = opened(window_factory, weak_run, qtbot, evaluate=False)
    model = page.confusion_model
    i, j = next((i, j) for i in range(model.rowCount()) for j in range(model.columnCount())
                if i != j and model.matrix[i][j])
    click_cell(qtbot, page, i, j)
    assert "Loading the run's images" in page.cell.scroll.widget().text() and page.busy
    qtbot.waitUntil(lambda: bool(page.cell.queries) and not page.busy, timeout=60_000)
    assert {q.query_row for q in page.cell.queries} == cell_rows(page.inspection, model.classes[i], model.classes[j])


def test_the_worst_mistakes_can_be_filtered_by_true_class(window_factory, weak_run, qtbot):
    _window, page = opened(window_factory, weak_run, qtbot, evaluate=True)
    view, inspection = page.mistakes, page.inspection
    click_tab(qtbot, page.views, view)
    every = once_per_query(inspection.mistakes)
    combo = view.class_filter
    assert combo.currentText() == ALL_CLASSES and len(view.rows) == len(every)
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert len(labels) == len(set(labels)) == 1 + len({m.true_class for m in every})
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the first class
    chosen = combo.currentData()
    expected = [m for m in every if m.true_class == chosen]
    assert chosen and view.shown == expected and len(view.rows) == len(expected) > 0
    assert combo.currentText() == f"{page.confusion_model.names[chosen]} ({len(expected)})"
    assert all(f"true class: {chosen}" in tile.toolTip() for tile in view.rows)
    qtbot.keyClick(combo, Qt.Key.Key_Up)
    assert combo.currentText() == ALL_CLASSES and len(view.rows) == len(every)
