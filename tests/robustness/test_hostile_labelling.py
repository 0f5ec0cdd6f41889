"""Labelling and inspecting under hostile conditions: an export killed mid-copy, two windows on one folder,
an autosave that names another folder, and an evaluation.json that names pipes and devices as images."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QToolBar  # noqa: E402

from tests.gui.conftest import make_flat_folder  # noqa: E402
from tests.gui.dialogs import choose, click, press  # noqa: E402
from tests.robustness.helpers import ROOT, tiny_config, tiny_dataset  # noqa: E402
from workbench.data.sources import scan_datasets  # noqa: E402
from workbench.gui.inspect.mistakes_view import TILE  # noqa: E402
from workbench.gui.labelling.autosave import AUTOSAVE_NAME, lock_places  # noqa: E402
from workbench.gui.qt_images import placeholder_pixmap  # noqa: E402
from workbench.inspect.evaluation import EpisodeRecord, Inspection, Mistake  # noqa: E402
from workbench.labelling.export import export_to_class_folders  # noqa: E402
from workbench.labelling.folder_lock import FolderBusyError, LabelFolderLock  # noqa: E402
from workbench.labelling.session import Label, LabellingError, LabelSession, list_images  # noqa: E402
from workbench.labelling.session_file import load_session  # noqa: E402
from workbench.runs.folder import RunFolder  # noqa: E402

B = QMessageBox.StandardButton
CHILD_TIMEOUT_S = 60


def noise_images(folder: Path, count: int, side: int) -> Path:
    """`count` real PNGs of random colour noise (barely compressible: each about 3 * side² bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels, mode="RGB").save(folder / f"img_{i:02d}.png", compress_level=0)
    return folder


def child(code: str) -> subprocess.Popen:
    """A Python process of its own (this checkout, this environment) running `code`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, line: str) -> None:
    """Block until `process` prints `line` (it is killed, and the test fails, if it ends first)."""
    for got in process.stdout:
        if got.strip() == line:
            return
    process.kill()
    pytest.fail(f"the child process ended before saying {line!r}: {process.stderr.read()[-2000:]}")


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(CHILD_TIMEOUT_S)


def whole_copies_only(target: Path, source: Path) -> list[Path]:
    """Every file under an image's name in `target` (hidden ones aside) is byte-identical to its source."""
    finals = [p for p in target.rglob("*") if p.is_file() and not p.name.startswith(".")]
    for copy in finals:
        original = source / (re.match(r"(img_\d+)(_\d+)?\.png$", copy.name)[1] + ".png")  # img_03_2.png: a 2nd copy
        assert copy.read_bytes() == original.read_bytes(), f"{copy} is not a whole copy of {original}"
    return finals


# --- 1. an export killed mid-copy -------------------------------------------------------------------------
EXPORT_CHILD = """
import shutil, sys, time
from workbench.labelling.export import export_to_class_folders
from workbench.labelling.session import Label, LabelSession
STOP_AT = {stop_at}
copied = []
real_copy = shutil.copyfileobj
def copy_then_stall(reader, writer, *args):
    copied.append(1)
    if len(copied) < STOP_AT:
        return real_copy(reader, writer, *args)
    data = reader.read()
    writer.write(data[: len(data) // 2])  # half an image written: now kill me
    writer.flush()
    print("half", flush=True)
    time.sleep(600)
shutil.copyfileobj = copy_then_stall
session = LabelSession.open_folder({source!r})
session.classes = ["a"]
session.labels = {{path: Label("a") for path in session.images}}
export_to_class_folders(session, {target!r})
print("done", flush=True)
"""


def test_an_export_killed_mid_copy_leaves_only_whole_images_under_image_names(tmp_path):
    source, target = noise_images(tmp_path / "images", 8, 64), tmp_path / "export"
    process = child(EXPORT_CHILD.format(stop_at=5, source=str(source), target=str(target)))
    try:
        wait_for_line(process, "half")  # the fifth image is half copied
    finally:
        kill(process)
    finals = whole_copies_only(target, source)
    assert sorted(p.name for p in finals) == [f"img_{i:02d}.png" for i in range(4)]
    leftovers = [p for p in (target / "a").iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".partial")  # the half copy, hidden
    # Nothing that reads a folder of images takes the half copy for one.
    assert list_images(target / "a") == sorted(p.name for p in finals)
    scanned = scan_datasets([target])
    assert sorted(Path(ref.member).name for entry in scanned.classes for ref in entry.images) == sorted(
        p.name for p in finals)
    # The next export into the folder removes what the killed one left, and copies everything whole.
    session = LabelSession.open_folder(source)
    session.classes, session.labels = ["a"], {path: Label("a") for path in session.images}
    report = export_to_class_folders(session, target)
    assert not report.failed and len(report.done) == 8
    assert not [p for p in (target / "a").iterdir() if p.name.startswith(".")]
    assert len(whole_copies_only(target, source)) == 12


def test_an_export_killed_at_any_moment_never_leaves_a_half_image(tmp_path):
    source, target = noise_images(tmp_path / "images", 16, 400), tmp_path / "export"  # about 0.5 MB each
    code = EXPORT_CHILD.format(stop_at=10**9, source=str(source), target=str(target))
    process = child(code)
    try:
        deadline = time.monotonic() + CHILD_TIMEOUT_S
        while not any((target / "a").glob("img_0[2-9].png")) and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.002)  # a few images are done: the next one is under way
    finally:
        kill(process)
    assert whole_copies_only(target, source)


def test_without_hard_links_a_copy_still_never_replaces_a_file(tmp_path, monkeypatch):
    source = noise_images(tmp_path / "images", 2, 16)
    target = tmp_path / "export"
    (target / "a").mkdir(parents=True)
    (target / "a" / "img_00.png").write_bytes(b"a person's own file")

    def no_links(*_args, **_kwargs):  # what a FAT or exFAT drive answers
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    session = LabelSession.open_folder(source)
    session.classes, session.labels = ["a"], {path: Label("a") for path in session.images}
    report = export_to_class_folders(session, target)
    assert not report.failed
    assert (target / "a" / "img_00.png").read_bytes() == b"a person's own file"
    assert (target / "a" / "img_00_2.png").read_bytes() == (source / "img_00.png").read_bytes()
    assert (target / "a" / "img_01.png").read_bytes() == (source / "img_01.png").read_bytes()
    assert sorted(p.name for p in (target / "a").iterdir()) == ["img_00.png", "img_00_2.png", "img_01.png"]


# --- 2. two windows labelling one folder ---------------------------------------------------------------------
HOLDER_CHILD = """
import time
from workbench.gui.labelling.autosave import autosave_paths, lock_places
from workbench.labelling.folder_lock import LabelFolderLock
from workbench.labelling.session import Label, LabelSession
from workbench.labelling.session_file import save_session
folder = {folder!r}
lock = LabelFolderLock(folder, lock_places(folder)).acquire()
session = LabelSession.open_folder(folder)
session.classes, session.labels = ["cat"], {{"img_00.png": Label("cat")}}
save_session(session, autosave_paths(folder)[0])  # what its window autosaved
print("held", flush=True)
time.sleep(600)
"""


def hold_folder(folder: Path) -> subprocess.Popen:
    """Another process labelling `folder`: it holds the folder's lock and has autosaved img_00 as 'cat'."""
    process = child(HOLDER_CHILD.format(folder=str(folder)))
    wait_for_line(process, "held")
    return process


def test_a_folder_another_process_labels_cannot_be_locked_until_that_process_dies(tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 3)
    process = hold_folder(folder)
    try:
        with pytest.raises(FolderBusyError) as refused:
            LabelFolderLock(folder, lock_places(str(folder))).acquire()
        assert refused.value.holder == str(process.pid) and f"process {process.pid}" in str(refused.value)
    finally:
        kill(process)
    with LabelFolderLock(folder, lock_places(str(folder))) as lock:  # the OS let go of a killed holder's lock
        assert lock.held


def toolbar_button(page, action):
    return page.findChild(QToolBar).widgetForAction(action)


def open_by_toolbar(qtbot, page, *answers) -> list:
    answered = press(*answers)
    qtbot.mouseClick(toolbar_button(page, page.actions.open_folder), Qt.MouseButton.LeftButton)
    return answered


def test_a_window_opening_a_folder_another_process_labels_is_told_so_and_loses_nothing(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 3)
    autosave = folder / AUTOSAVE_NAME
    process = hold_folder(folder)
    try:
        written = autosave.read_bytes()
        window.tabs.setCurrentWidget(window.label_page)
        page = window.label_page
        answered = open_by_toolbar(qtbot, page, choose(folder))
        assert len(answered) == 1 and QApplication.activeModalWidget() is None  # no restore was offered
        assert page.ui.banner.level == "warning"
        assert f"being labelled in another window (process {process.pid})" in page.ui.banner.text
        assert page.session is None and autosave.read_bytes() == written
    finally:
        kill(process)
    # Its process gone, the folder opens here and offers that process's labels back.
    box = click(B.Yes)
    answered = open_by_toolbar(qtbot, page, choose(folder), box)
    assert len(answered) == 2 and "1 labelled image" in box.text
    assert page.session.labels["img_00.png"].name == "cat"


def label_first_image(qtbot, page, name: str) -> None:
    page.add_class(name)
    page.ui.images.grid.setFocus()
    page.select_paths(["img_00.png"])
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_1)
    page.keeper.flush()


def test_two_windows_on_one_folder_keep_both_windows_labels(window_factory, qtbot, tmp_path):
    folder, other = make_flat_folder(tmp_path / "shared", 3), make_flat_folder(tmp_path / "other", 3)
    first, second = window_factory(), window_factory()
    for win, path, name in ((first, folder, "cat"), (second, other, "dog")):
        win.tabs.setCurrentWidget(win.label_page)
        win.label_page.open_folder(str(path))
        label_first_image(qtbot, win.label_page, name)
    page = second.label_page
    answered = open_by_toolbar(qtbot, page, choose(folder))
    assert len(answered) == 1 and QApplication.activeModalWidget() is None  # refused before asking anything
    assert f"(process {os.getpid()})" in page.ui.banner.text
    assert page.session.folder == str(other) and page.session.labels["img_00.png"].name == "dog"
    # The first window goes on autosaving its folder; neither autosave has lost anything.
    first.label_page.ui.images.grid.setFocus()
    first.label_page.select_paths(["img_01.png"])
    qtbot.keyClick(first.label_page.ui.images.grid, Qt.Key.Key_1)
    first.label_page.keeper.flush()
    assert {e["path"]: e["class"] for e in json.loads((folder / AUTOSAVE_NAME).read_text())["labels"]} == {
        "img_00.png": "cat", "img_01.png": "cat"}
    assert json.loads((other / AUTOSAVE_NAME).read_text())["labels"][0]["class"] == "dog"
    # Once the first window is closed (its labels saved), the second may open the folder and get them back.
    assert first.label_page.save_session(str(tmp_path / "first.labels.json")) and first.close()
    saved, box = tmp_path / "second.labels.json", click(B.Yes)
    answered = open_by_toolbar(qtbot, page, choose(folder), click(B.Save), choose(saved), box)
    assert len(answered) == 4 and "2 labelled images" in box.text
    assert json.loads(saved.read_text())["labels"][0]["class"] == "dog"
    assert page.session.folder == str(folder) and set(page.session.labels) == {"img_00.png", "img_01.png"}


# --- 3. an autosave whose "folder" names another folder ------------------------------------------------------
def write_autosave(folder: Path, claimed_folder: str) -> None:
    (folder / AUTOSAVE_NAME).write_text(json.dumps({
        "format": "fewshot-workbench-labelling", "version": 1, "folder": claimed_folder, "classes": ["cat"],
        "threshold": 0.9, "model_run_dir": None,
        "labels": [{"path": "img_00.png", "class": "cat", "source": "human", "confidence": None}]}))


def test_an_autosave_is_read_for_the_folder_opened_never_the_folder_it_names(tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 3)
    write_autosave(folder, "/")
    opened = LabelSession.open_folder(folder)
    started = time.monotonic()
    loaded = load_session(folder / AUTOSAVE_NAME, opened=opened)
    assert time.monotonic() - started < 2
    assert loaded.session.folder == opened.folder and loaded.session.images == opened.images
    assert loaded.session.labels["img_00.png"].name == "cat"


@pytest.mark.parametrize("claimed", ["root", "another real folder"])
def test_opening_a_folder_whose_autosave_names_another_folder_lists_only_the_folder_opened(
        window, qtbot, tmp_path, claimed):
    folder = make_flat_folder(tmp_path / "to_label", 3)
    elsewhere = make_flat_folder(tmp_path / "elsewhere", 9)
    write_autosave(folder, "/" if claimed == "root" else str(elsewhere))
    window.tabs.setCurrentWidget(window.label_page)
    page = window.label_page
    started = time.monotonic()
    box = click(B.Yes)
    answered = open_by_toolbar(qtbot, page, choose(folder), box)
    assert time.monotonic() - started < 10
    assert len(answered) == 2 and "1 labelled image" in box.text
    assert page.session.folder == str(folder.resolve())
    assert page.session.images == ["img_00.png", "img_01.png", "img_02.png"] and page.model.rowCount() == 3
    assert page.session.labels["img_00.png"].name == "cat"
    page.keeper.flush()  # the autosave now names the folder it lives in
    assert json.loads((folder / AUTOSAVE_NAME).read_text())["folder"] == str(folder.resolve())


# --- 4. Inspect reading the images an evaluation.json names -------------------------------------------------
def unblock_later(fifo: Path, after_s: float) -> None:
    """Should a reader hang on `fifo`, end its wait after `after_s` (the test then fails on time, not by hanging)."""
    def run() -> None:
        time.sleep(after_s)
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # no reader waits: nothing to unblock
    threading.Thread(target=run, daemon=True).start()


def hostile_evaluation(tmp_path: Path) -> tuple[Path, dict[str, str], tuple[str, str]]:
    """A run folder whose evaluation.json names, as its mistakes' images, real PNGs and hostile paths."""
    run = tmp_path / "run"
    RunFolder.create(run, tiny_config(tiny_dataset(tmp_path / "data"), image_size=16), {})
    good = noise_images(tmp_path / "images", 3, 24)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    unblock_later(fifo, 20)
    (tmp_path / "folder.png").mkdir()
    with open(tmp_path / "huge.png", "wb") as handle:
        handle.truncate(2**31)  # 2 GiB, sparse: takes no disk space
    paths = {"good": str(good / "img_00.png"), "pipe": str(fifo), "device": "/dev/zero",
             "folder": str(tmp_path / "folder.png"), "missing": str(tmp_path / "gone.png"),
             "huge": str(tmp_path / "huge.png")}
    support = (str(good / "img_01.png"), str(good / "img_02.png"))
    mistakes = [Mistake(0, row, path, 0, 0, "a", "b", 0.9 - row / 100, (100,), (101,), support[:1], support[1:])
                for row, path in enumerate(paths.values())]
    record = EpisodeRecord(("a", "b"), (0, 0), (100, 101), (0, 1), tuple(range(len(paths))), (0,) * len(paths),
                           (1,) * len(paths), (0.9,) * len(paths))
    Inspection(run_dir=str(run), data=[str(tmp_path / "data")], ways=2, shots=1, queries=len(paths), seed=0,
               class_source="test", accuracy=0.0, ci95=0.0, classes=["a", "b"],
               per_class=[{"class": "a", "correct": 0, "total": len(paths), "accuracy": 0.0},
                          {"class": "b", "correct": 0, "total": 0, "accuracy": float("nan")}],
               confusion=[[0, len(paths)], [0, 0]], mistakes=mistakes, episodes=[record]).save(run)
    return run, paths, support


def test_an_evaluation_naming_pipes_devices_folders_or_missing_files_shows_the_other_images(window, qtbot, tmp_path):
    run, paths, support = hostile_evaluation(tmp_path)
    started = time.monotonic()
    window.inspect_run(str(run))
    assert time.monotonic() - started < 5
    page = window.inspect_page
    assert page.inspection is not None and len(page.mistakes.rows) == len(paths)
    crossed = placeholder_pixmap(TILE).toImage()
    shown = {tile.toolTip().split("\n")[0]: tile.pixmap().toImage() for tile in page.mistakes.rows}
    for kind, path in paths.items():
        assert (shown[path] == crossed) == (kind != "good"), f"the {kind} image ({path})"
    # Beside each refused query, its support images still show.
    strips = [label for label in page.mistakes.scroll.widget().findChildren(QLabel) if label.toolTip() in support]
    assert len(strips) == 2 * len(paths) and all(label.pixmap().toImage() != crossed for label in strips)


def test_an_export_into_a_folder_inside_the_one_being_labelled_is_refused_copying_nothing(tmp_path):
    source = noise_images(tmp_path / "images", 3, 16)
    session = LabelSession.open_folder(source)
    session.classes, session.labels = ["a"], {path: Label("a") for path in session.images}
    before = sorted(p.relative_to(source) for p in source.rglob("*"))
    with pytest.raises(LabellingError, match="inside the folder being labelled"):
        export_to_class_folders(session, source / "sorted")
    assert sorted(p.relative_to(source) for p in source.rglob("*")) == before
