"""GUI test fixtures: the real main window, offscreen, with runs written under tmp_path."""

import os

import gc  # noqa: E402
import json  # noqa: E402
# Tests never read or change the user's remembered settings or data folder.
import tempfile  # noqa: E402

_SANDBOX = tempfile.mkdtemp(prefix="workbench-gui-tests-")
# Before anything imports Qt: no display is needed (or present) in tests. The offscreen plugin's own
# screen is 800×800, smaller than a desktop; the tests get a 1920×1080 one, so a new window opens at
# the size people see (test_layout.py checks a small screen in a process of its own).
_SCREEN = os.path.join(_SANDBOX, "screen.json")
with open(_SCREEN, "w", encoding="utf-8") as _file:
    json.dump({"screens": [{"name": "desktop", "x": 0, "y": 0, "width": 1920, "height": 1080,
                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}, _file)
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"
os.environ.setdefault("FEWSHOT_WORKBENCH_SETTINGS", os.path.join(_SANDBOX, "settings.ini"))
os.environ.setdefault("FEWSHOT_WORKBENCH_DATA", os.path.join(_SANDBOX, "data"))

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# ../shared/data/omniglot beside the repository root.
OMNIGLOT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "omniglot"
OMNIGLOT_SMALL1 = OMNIGLOT / "images_background_small1.zip"
# Datasets are scanned on a background thread; tests wait for the scan like a person would.
SCAN_TIMEOUT_MS = 30_000


def own_rows(run_table) -> list[int]:
    """The rows of the Runs page's table that are a person's runs (the built-in models are listed first)."""
    return [row for row, run in enumerate(run_table.runs) if not run.builtin]


def _forget_unsaved_work(win) -> None:
    """What a test left unsaved must not stop its window closing at teardown with a question."""
    win.label_page.undo_stack.setClean()
    win.projects.path = None


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path_factory, monkeypatch):
    """Each test's windows remember things (the last dataset, the Label page's model, the theme) in a
    settings file of its own: what one test opened is never reopened by the next test's window."""
    path = tmp_path_factory.mktemp("settings") / "settings.ini"
    monkeypatch.setenv("FEWSHOT_WORKBENCH_SETTINGS", str(path))
    return path


@pytest.fixture
def window_factory(qtbot, tmp_path):
    """Makes main windows that write runs under tmp_path; stops their threads afterwards."""
    from workbench.gui.app import make_application
    from workbench.gui.main_window import MainWindow

    made = []

    def make():
        make_application([])
        win = MainWindow(runs_root=tmp_path / "runs")
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        # Never leave a thread running past a test: Qt aborts the process on that.
        if win.training is not None:
            win.training.stop_and_wait(60_000)
        win.datasets.stop(SCAN_TIMEOUT_MS)
    destroy_windows(made)


def destroy_windows(windows) -> None:
    """Close and delete windows now. Left to a later event loop, closed windows pile up (thousands of
    widgets), and every theme switch restyles all of them: a switch took 10 s late in a test session."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for win in windows:
        _forget_unsaved_work(win)
        win.close()
        win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    windows.clear()
    gc.collect()  # the plots' parentless context menus go with their Python owners


@pytest.fixture
def window(window_factory):
    return window_factory()


@pytest.fixture
def omniglot_zip():
    if not OMNIGLOT_SMALL1.exists():
        pytest.skip(f"Omniglot data not found at {OMNIGLOT_SMALL1} (../shared/data/omniglot is absent)")
    return OMNIGLOT_SMALL1


def make_flat_folder(folder: Path, count: int = 12) -> Path:
    """`count` small grey PNGs in one folder, with no class subfolders (a folder to label)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray((rng.random((16, 16)) * 255).astype(np.uint8), mode="L").save(folder / f"img_{i:02d}.png")
    return folder


@pytest.fixture
def flat_folder(tmp_path):
    return make_flat_folder(tmp_path / "to_label")
