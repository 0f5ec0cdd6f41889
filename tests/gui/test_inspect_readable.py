"""The Inspect page says what it shows: class names unique within the view (group/class when two groups
share a class name), each wrong query once, a ranked list of confusions, and "evaluating…" instead of
the previous run's results while a new run is evaluated."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from workbench.data.splits import SplitSpec
from workbench.gui.inspect.class_names import display_names, elide_middle
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def runs_two_test_groups(glyphs_shared, tmp_path_factory):
    """Two tiny ProtoNet runs whose test classes come from two groups with the same class names."""
    root = tmp_path_factory.mktemp("inspect-runs")
    for name in ("first", "second"):
        config = RunConfig(data=[str(glyphs_shared)], algorithm="protonet", ways=4, shots=1, queries=3, steps=4,
                           val_every=4, val_episodes=1, checkpoint_every=4, device="cpu", precision="fp32",
                           split=SplitSpec("group", val_fraction=0.0, test_groups=("group_1", "group_2")))
        assert run_to_end(train_run(config, root / name)).status == "completed"
    return root


def test_names_are_unique_and_elided_in_the_middle():
    names = display_names(["latin/a", "greek/a", "greek/b"])
    assert names == {"latin/a": "latin/a", "greek/a": "greek/a", "greek/b": "b"}
    long = elide_middle("Old_Church_Slavonic_(Cyrillic)/character14")
    assert len(long) == 24 and long.endswith("character14") and "…" in long


@pytest.mark.slow
def test_inspect_shows_unique_names_each_mistake_once_and_never_a_stale_run(window, runs_two_test_groups, qtbot):
    window.set_runs_root(runs_two_test_groups)
    page = window.inspect_page
    page.device = "cpu"
    page.episodes.setValue(12)
    window.runs_page.select_paths([str(runs_two_test_groups / "first")])
    qtbot.keyClick(window.runs_page, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)

    model = page.confusion_model
    # Rows: number and unique name; columns: the same numbers, narrow enough for every class to fit a laptop.
    rows_shown = [model.headerData(i, Qt.Orientation.Vertical) for i in range(model.rowCount())]
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())] == [
        str(i + 1) for i in range(len(rows_shown))]
    assert all(row.startswith(f"{i + 1}  ") for i, row in enumerate(rows_shown))
    headers = [row.split("  ", 1)[1] for row in rows_shown]
    assert len(headers) == len(set(headers)) == len(page.inspection.classes)
    assert page.confusion.horizontalHeader().length() <= 40 * len(headers)
    assert "Rows: the true class" in page.result_tabs.widget(1).findChild(QLabel).text()
    assert any(h.startswith("group_1/") for h in headers) and any(h.startswith("group_2/") for h in headers)
    rows = [page.per_class_model.index(r, 0).data() for r in range(page.per_class_model.rowCount())]
    assert len(rows) == len(set(rows))
    # Worst mistakes: every wrong query once.
    paths = [tile.toolTip().split("\n")[0] for tile in page.mistakes.rows]
    assert paths and len(paths) == len(set(paths))
    # Top confusions: the largest off-diagonal cells, most first, by the same unique names.
    ranked = [int(page.top_confusions.item(r, 0).text()) for r in range(page.top_confusions.rowCount())]
    assert ranked and ranked == sorted(ranked, reverse=True)
    assert page.top_confusions.item(0, 1).text() in headers

    # Another run: while it is evaluated, nothing of the first run is shown.
    window.runs_page.select_paths([str(runs_two_test_groups / "second")])
    qtbot.keyClick(window.runs_page, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert page.busy and model.rowCount() == 0 and page.per_class_model.rowCount() == 0
    assert "Evaluating second" in page.summary.text() and page.top_confusions.rowCount() == 0
    qtbot.waitUntil(lambda: page.inspection is not None and not page.busy, timeout=60_000)
    assert page.inspection.run_dir.endswith("second")
    # The Runs table shows the test score beside best validation.
    from workbench.gui.runs.run_table import TEST
    window.runs_page.refresh()
    model = window.runs_page.model
    shown = {model.index(r, 0).data(): model.index(r, TEST).data() for r in range(model.rowCount())}
    expected = f"{100 * page.inspection.accuracy:.1f}% ± {100 * page.inspection.ci95:.1f}"
    assert shown["second"] == expected and "±" in shown["first"]
