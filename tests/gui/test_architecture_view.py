"""The architecture forming, watched live: a metanas run started from the window opens an Architecture tab
on the Training page that draws each edge's mix and the kept cell from the run's events, and a run of
another algorithm afterwards does not keep it."""

import json

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import SCAN_TIMEOUT_MS
from tests.gui.test_main_window import set_small_protocol
from workbench.gui.architecture_view import ArchitectureView, CellGraph, MixHeatMap

pytestmark = pytest.mark.gui

RUN_TIMEOUT_MS = 120_000


def architecture_tab(window):
    tabs = window.training_page.episode_tabs
    return [tabs.tabText(i) for i in range(tabs.count())]


def test_a_search_draws_its_architecture_as_it_forms(window, glyphs_shared, qtbot):
    window.data_panel.set_paths([str(glyphs_shared)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    set_small_protocol(window, ways=3, shots=1, queries=2, steps=6, val_every=3, val_episodes=2)
    window.algorithm_panel.set_algorithm("metanas")
    editors = window.algorithm_panel.form.editors
    for name, value in (("cells", 2), ("nodes", 2), ("channels", 4)):
        editors[name].setValue(value)
    assert architecture_tab(window) == ["Predictions"]  # nothing to show before a search runs
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)

    view = window.training_page.architecture
    qtbot.waitUntil(lambda: view.step is not None and view.step >= 3, timeout=RUN_TIMEOUT_MS)
    assert architecture_tab(window) == ["Predictions", "Architecture"]
    assert window.training_page.episode_tabs.currentWidget() is view  # opened for the person to watch
    assert view.title.text().startswith("Architecture at step") and "temperature" in view.caption.text()
    heat_map = view.findChild(MixHeatMap)
    graph = view.findChild(CellGraph)
    assert heat_map.isVisible() and heat_map.cell.mix is not None and len(heat_map.cell.mix.edges) == 5
    assert heat_map.sizeHint().height() > 5 * 18 and len(graph.cell.kept) == 4
    assert not view.grab().isNull()  # both draw

    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    saved = json.loads((window.last_finished.run_dir and
                        open(f"{window.last_finished.run_dir}/architecture.json", encoding="utf-8").read()))
    assert saved["format"] == "fewshot-workbench-architecture"
    # The person goes back to the predictions by clicking their tab.
    tab_bar = window.training_page.episode_tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(0).center())
    assert window.training_page.episode_tabs.currentIndex() == 0

    # A plain ProtoNet run next: the search's architecture is not left on screen.
    window.algorithm_panel.set_algorithm("protonet")
    qtbot.mouseClick(window.ui.run_controls.buttons[0], Qt.MouseButton.LeftButton)
    assert architecture_tab(window) == ["Predictions"] and view.record is None
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert architecture_tab(window) == ["Predictions"]


def test_a_fixed_cell_and_a_damaged_record_draw_without_error(qtbot):
    from workbench.models.darts_cell import SearchNetwork
    from workbench.models.cell_operations import OPERATIONS

    view = ArchitectureView()
    qtbot.addWidget(view)
    view.resize(760, 600)
    view.show()
    record = SearchNetwork(1, 3, 3, 8, OPERATIONS, 1.0).architecture_record()
    fixed = {k: ({"nodes": v["nodes"]} if isinstance(v, dict) else v) for k, v in record.items()}
    view.show_record(fixed)
    assert view.title.text() == "Searched cell" and not view.findChild(MixHeatMap).isVisible()
    assert not view.grab().isNull()
    view.show_record({"cells": ["normal"], "normal": {"nodes": [{"node": 2, "inputs": "?"}]}, "reduce": 3}, step=1)
    assert not view.grab().isNull()
    view.clear()
    assert view.record is None and "metanas" in view.caption.text()


@pytest.fixture(scope="module")
def search_and_plain_runs(glyphs_shared, tmp_path_factory):
    """A tiny real metanas search and a plain ProtoNet run under one runs root."""
    from workbench.data.splits import SplitSpec
    from workbench.runs.config import RunConfig
    from workbench.training.runner import run_to_end, train_run

    root = tmp_path_factory.mktemp("runs")
    for name, algorithm, hparams in (("search", "metanas", {"cells": 2, "nodes": 2, "channels": 4}),
                                     ("plain", "protonet", {})):
        config = RunConfig(data=[str(glyphs_shared)], algorithm=algorithm, hparams=hparams, ways=3, shots=1, queries=2,
                           steps=4, val_every=2, val_episodes=2, checkpoint_every=2, device="cpu", precision="fp32",
                           split=SplitSpec("group", val_fraction=0.25, test_groups=("group_2",)))
        assert run_to_end(train_run(config, root / name)).status == "completed"
    return root


def click_run(window, qtbot, run_dir, modifier=Qt.KeyboardModifier.NoModifier):
    page = window.runs_page
    row = next(r for r, run in enumerate(page.model.runs) if run.path == str(run_dir))
    rect = page.table.visualRect(page.proxy.mapFromSource(page.model.index(row, 0)))
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def tab_texts(tabs):
    return [tabs.tabText(i) for i in range(tabs.count())]


def test_the_runs_and_inspect_pages_show_a_finished_search_s_cell(window, search_and_plain_runs, qtbot):
    window.set_runs_root(search_and_plain_runs)
    window.tabs.setCurrentWidget(window.runs_page)
    page = window.runs_page
    click_run(window, qtbot, search_and_plain_runs / "search")
    assert tab_texts(page.bottom_tabs) == ["Curves", "Architecture"]
    page.bottom_tabs.setCurrentIndex(1)
    assert page.architecture.title.text() == "Architecture" and "search found" in page.architecture.caption.text()
    assert len(page.architecture.findChild(CellGraph).cell.kept) == 4
    click_run(window, qtbot, search_and_plain_runs / "plain")
    assert tab_texts(page.bottom_tabs) == ["Curves"]  # a Conv4 run has no cell to show
    click_run(window, qtbot, search_and_plain_runs / "search", Qt.KeyboardModifier.ControlModifier)
    assert len(page.selected_paths()) == 2 and tab_texts(page.bottom_tabs) == ["Curves"]  # whose? neither

    click_run(window, qtbot, search_and_plain_runs / "search")
    window.inspect_page.device = "cpu"
    window.inspect_page.episodes.setValue(4)
    qtbot.mouseClick(page.evaluate_button, Qt.MouseButton.LeftButton)
    inspect = window.inspect_page
    assert window.tabs.currentWidget() is inspect and "Architecture" in tab_texts(inspect.views)
    qtbot.waitUntil(lambda: inspect.inspection is not None and not inspect.busy, timeout=60_000)
    inspect.views.setCurrentWidget(inspect.architecture)
    assert inspect.architecture.findChild(MixHeatMap).cell.mix is not None


def test_a_damaged_architecture_file_says_so_in_its_tab(window, search_and_plain_runs, tmp_path, qtbot):
    import shutil

    damaged = tmp_path / "runs" / "damaged"
    shutil.copytree(search_and_plain_runs / "search", damaged)
    (damaged / "architecture.json").write_text('{"format": "something else"}', encoding="utf-8")
    window.set_runs_root(tmp_path / "runs")
    click_run(window, qtbot, damaged)
    page = window.runs_page
    assert tab_texts(page.bottom_tabs) == ["Curves", "Architecture"]
    assert "architecture.json is not a valid architecture file" in page.architecture.caption.text()
    assert page.architecture.findChild(CellGraph) is None
