"""The Runs table fits a laptop's width: no sideways scrolling, the date whole, the long texts elided."""

import shutil

import pytest

from tests.gui.conftest import own_rows
from tests.gui.test_inspect_reopens import one_run  # noqa: F401  (a fixture: one short real run)
from workbench.gui.runs.run_table import COLUMNS

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("evaluated", [False, True])
@pytest.mark.parametrize("width", [1024, 1440])
def test_the_runs_table_fits_the_window(window, one_run, qtbot, width, evaluated, tmp_path):  # noqa: F811
    window.resize(width, 700 if width == 1024 else 900)
    root = tmp_path / "runs-shown"
    shutil.copytree(one_run, root)
    if evaluated:  # "completed · evaluated": a wider status, which the giving columns make room for
        (root / "run" / "evaluation.json").write_text("{}")
    window.set_runs_root(root)
    window.tabs.setCurrentWidget(window.runs_page)
    table = window.runs_page.table
    qtbot.waitUntil(lambda: own_rows(window.runs_page.model) != [])
    qtbot.wait(50)
    assert table.horizontalScrollBar().maximum() == 0  # nothing off to the side
    date = COLUMNS.index("Date")
    needed = table.sizeHintForColumn(date)
    assert table.horizontalHeader().sectionSize(date) >= needed  # the date is never cut
    assert table.horizontalHeader().sectionSize(0) >= min(150, table.sizeHintForColumn(0))
