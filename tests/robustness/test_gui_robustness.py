"""The window with bad data and failing runs: problems shown in words, errors in the banner, never a freeze or a crash."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from tests.gui.conftest import SCAN_TIMEOUT_MS  # noqa: E402
from tests.robustness.corpus import FILE_CASES, good_bytes, make_good_classes, make_zip_bomb  # noqa: E402
from tests.robustness.faulty_algorithms import FAULTY  # noqa: E402
from workbench.algorithms import registry  # noqa: E402
from workbench.data import problems as P  # noqa: E402
from workbench.runs.folder import RunFolder  # noqa: E402

pytestmark = pytest.mark.gui
RUN_TIMEOUT_MS = 90_000
CASES = {c.name: c for c in FILE_CASES}
GUI_FILE_CASES = ["png-zero-bytes", "jpeg-truncated-half", "executable-named-png", "20000x20000-png",
                  "broken-name-with-newline", "not-an-image-extension", "cmyk-jpeg", "emoji-name"]


def small_protocol(window, steps=6, algorithm="protonet", ways=2, queries=1, val_every=2):
    panel = window.protocol_panel
    panel.ways.setValue(ways)
    panel.shots.setValue(1)
    panel.queries.setValue(queries)
    panel.steps.setValue(steps)
    panel.val_every.setValue(val_every)
    panel.val_episodes.setValue(2)
    panel.image_size.setValue(16)
    panel.val_percent.setValue(34)
    panel.test_percent.setValue(0)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    window.algorithm_panel.set_algorithm(algorithm)


def shown_problems(window) -> list[list[str]]:
    tree = window.dataset_view.problems_tree
    return [[tree.topLevelItem(i).text(c) for c in range(3)] for i in range(tree.topLevelItemCount())]


@pytest.mark.parametrize("name", GUI_FILE_CASES)
def test_a_bad_file_is_listed_in_words(window, tmp_path, qtbot, name):
    case = CASES[name]
    make_good_classes(tmp_path, classes=3, images=3)
    path = case.write(tmp_path / "good_0")
    window.data_panel.set_paths([str(tmp_path)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.image_check_running, timeout=20_000)
    rows = shown_problems(window)
    if case.kind is None:
        assert rows == []
        return
    import re

    matching = [r for r in rows if path.name.replace("\n", "\\n") in r[2]]
    assert len(matching) == 1, rows
    assert re.search(case.words, matching[0][1]), matching
    assert "Traceback" not in str(rows)
    assert window.actions.start.isEnabled()  # the good classes are still usable


def build_tree_case(name: str, root: Path) -> tuple[Path, str, str]:
    """(dataset path, problem kind, words) for whole-dataset cases."""
    if name == "symlink-loop":
        make_good_classes(root, classes=3, images=3)
        (root / "good_0" / "loop").symlink_to(root, target_is_directory=True)
        return root, P.UNREADABLE_FOLDER, "symlink loop"
    if name == "nested-empty":
        make_good_classes(root, classes=3, images=3)
        (root / "x" / "y" / "z").mkdir(parents=True)
        return root, P.EMPTY_CLASS, "no images"
    if name == "zip-slip":
        archive = root / "evil.zip"
        root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w") as zf:
            for c in range(3):
                for i in range(2):
                    zf.writestr(f"d/c{c}/{i}.png", good_bytes())
            zf.writestr("../../outside.png", good_bytes())
        return archive, P.UNSAFE_PATH, "leaves the zip's folder"
    if name == "zip-bomb":
        root.mkdir(parents=True, exist_ok=True)
        return make_zip_bomb(root / "bomb.zip", expanded_mib=70), P.TOO_LARGE, "too large"
    raise KeyError(name)


@pytest.mark.parametrize("name", ["symlink-loop", "nested-empty", "zip-slip", "zip-bomb"])
def test_a_bad_dataset_shape_is_listed_in_words(window, tmp_path, qtbot, name):
    path, kind, words = build_tree_case(name, tmp_path / "data")
    window.data_panel.set_paths([str(path)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.image_check_running, timeout=20_000)
    assert any(p.kind == kind and words in p.message for p in window.dataset_view.problems)
    assert any(words in row[1] for row in shown_problems(window))
    assert window.scan is not None and window.scan.classes
    assert window.actions.start.isEnabled()


def test_a_single_class_explains_why_it_cannot_train(window, tmp_path, qtbot):
    make_good_classes(tmp_path, classes=1, images=5)
    window.data_panel.set_paths([str(tmp_path)])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    small_protocol(window)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    # One class can never make an episode: said in words, and Start is off until there are more.
    assert window.banner.level == "error" and "1 class" in window.banner.text and "need at least" in window.banner.text
    assert window.isVisible() and not window.actions.start.isEnabled()


@pytest.fixture
def faulty_window(window_factory, tmp_path, qtbot):
    from workbench.gui.main_window import MainWindow

    for cls in FAULTY:
        registry.register(cls)
    window = MainWindow(runs_root=tmp_path / "runs", algorithms={cls.name: cls for cls in FAULTY})
    qtbot.addWidget(window)
    window.show()
    yield window
    if window.training is not None:
        window.training.stop_and_wait(60_000)
    window.datasets.stop()
    for cls in FAULTY:
        registry.unregister(cls.name)


@pytest.mark.parametrize("algorithm, words", [
    ("oom-test", "ran out of memory"),
    ("crash-test", "KeyError"),
    ("broken-init-test", "this plugin needs a GPU driver"),
])
def test_a_failing_run_shows_why_and_the_window_lives_on(faulty_window, tmp_path, qtbot, algorithm, words):
    window = faulty_window
    make_good_classes(tmp_path / "data", classes=6, images=4)
    window.data_panel.set_paths([str(tmp_path / "data")])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    small_protocol(window, steps=10, algorithm=algorithm)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.banner.level == "error" and words in window.banner.text
    assert "Traceback" not in window.banner.text
    assert window.isVisible() and window.actions.start.isEnabled() and window.ui.settings_form.isEnabled()
    if algorithm != "broken-init-test":  # that one never got to make a run folder
        assert "last good checkpoint (step 2) is kept" in window.banner.text
        run = window.last_finished.run_dir
        assert RunFolder(run).load_checkpoint()["step"] == 2
    # The window still works: another run can start.
    small_protocol(window, steps=2, algorithm="oom-test")
    window.start_training()
    qtbot.waitUntil(lambda: window.training is None, timeout=RUN_TIMEOUT_MS)
    assert window.last_finished is not None and window.last_finished.status == "completed"


def test_pause_and_stop_answer_within_a_second_during_one_slow_episode(window, tmp_path, qtbot):
    make_good_classes(tmp_path / "data", classes=6, images=4)
    window.data_panel.set_paths([str(tmp_path / "data")])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    small_protocol(window, steps=3, algorithm="maml")
    # A long inner loop answers between its steps; the backward through it cannot be interrupted, so
    # the images stay small enough that one backward is well under a second on a loaded 2-core machine.
    window.protocol_panel.image_size.setValue(56)
    window.algorithm_panel.form.editors["inner_steps"].setValue(40)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is not None and window.training.started_training, timeout=RUN_TIMEOUT_MS)
    qtbot.wait(300)  # inside the first episode's long inner loop
    window.actions.pause.trigger()
    qtbot.wait(1000)
    progress = window.training_panel.progress.value()
    qtbot.wait(1000)
    assert window.training_panel.progress.value() == progress  # held
    window.actions.pause.trigger()
    qtbot.wait(200)
    asked = time.monotonic()
    window.actions.stop.trigger()
    qtbot.waitUntil(lambda: window.training is None, timeout=10_000)
    assert time.monotonic() - asked < 1.5
    assert window.last_finished.status == "cancelled"


def test_closing_mid_run_asks_then_stops_and_leaves_nothing_half_written(window, tmp_path, qtbot, monkeypatch):
    make_good_classes(tmp_path / "data", classes=6, images=4)
    window.data_panel.set_paths([str(tmp_path / "data")])
    qtbot.waitUntil(lambda: not window.scan_running, timeout=SCAN_TIMEOUT_MS)
    small_protocol(window, steps=100_000, val_every=3)
    window.start_training()
    qtbot.waitUntil(lambda: window.training is not None and window.training.started_training, timeout=RUN_TIMEOUT_MS)
    # The progress bar also counts decoded images before training; wait for real training steps.
    qtbot.waitUntil(lambda: window.training_panel.last_step > 3, timeout=RUN_TIMEOUT_MS)
    thread = window.training.worker
    run = Path(window.training_panel.run_dir.text())

    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *args, **kwargs: asked.append(args[1:3]) or QMessageBox.StandardButton.No))
    assert not window.close()  # "No": the run goes on
    assert window.isVisible() and thread.isRunning() and "Stop training?" in asked[0][0]

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    assert window.close()
    assert thread.isFinished()
    folder = RunFolder.open(run)
    assert folder.read_status()["status"] == "cancelled"
    assert folder.load_checkpoint()["step"] >= 3
    folder.read_metrics()
    assert not list(run.rglob("*.tmp"))
