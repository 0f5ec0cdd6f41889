"""Labelling, session, project and Inspect files under hostile conditions, the second round: folders too
large or too deep to list, pipes and links named like images, session and project files whose values are
valid JSON but mean harm, processes killed between two writes, and two processes on one target."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from tests.gui.conftest import make_flat_folder  # noqa: E402
from tests.gui.dialogs import choose, click, press  # noqa: E402
from tests.robustness.hostile_labelling_inputs import (DEPTH, EXPORT_WHEN_TOLD, MOVE_CHILD, SAVE_CHILD,  # noqa: E402
                                                       SWAP_CHILD, deep_tree, link_loop, remove_deep_tree,
                                                       session_json, spoil, wide_tree, write_session)
from tests.robustness.test_hostile_labelling import (CHILD_TIMEOUT_S, child, hostile_evaluation, kill,  # noqa: E402
                                                     noise_images, open_by_toolbar, toolbar_button, wait_for_line)
from workbench.files import SETTINGS_LIMIT  # noqa: E402
from workbench.gui.labelling.autosave import AUTOSAVE_NAME, autosave_paths  # noqa: E402
from workbench.labelling.export import export_to_class_folders  # noqa: E402
from workbench.labelling.listing import LIST_ENTRY_LIMIT, list_images  # noqa: E402
from workbench.labelling.session import MAX_CLASSES, Label, LabellingError, LabelSession  # noqa: E402
from workbench.labelling.session_file import load_session, save_session  # noqa: E402
from workbench.projects.project import ProjectError, load_project  # noqa: E402

B = QMessageBox.StandardButton
WAIT_MS = 60_000


def label_page(window):
    window.tabs.setCurrentWidget(window.label_page)
    return window.label_page


def settle(qtbot, page) -> None:
    """Wait, as a person would, until the model has read the folder's images and the grid's thumbnails are drawn."""
    qtbot.waitUntil(lambda: not page.adapting and not page.model.thumbnails.pending, timeout=WAIT_MS)


def open_session_by_toolbar(qtbot, page, path: Path, *more) -> list:
    answered = press(choose(path), *more)
    qtbot.mouseClick(toolbar_button(page, page.actions.open_session), Qt.MouseButton.LeftButton)
    return answered


def copy_by_menu(qtbot, page, target: Path, move: bool = False) -> list:
    """Class folders › Copy (or Move) labelled images…, choosing `target` (and agreeing to move)."""
    target.mkdir(parents=True, exist_ok=True)  # the folder dialog chooses folders that exist
    answered = press(choose(target), *([click(B.Yes)] if move else []))
    (page.actions.move_to_folders if move else page.actions.copy_to_folders).trigger()
    qtbot.waitUntil(lambda: len(answered) == 1 + move, timeout=10_000)
    return answered


# --- 1. folders too large, too deep or of the wrong kind to list ----------------------------------------------
def test_a_session_file_naming_a_folder_too_large_to_label_is_refused_in_seconds_keeping_the_session_shown(
        window, qtbot, tmp_path):
    shm = Path("/dev/shm")
    parent = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    try:
        tree = wide_tree(parent)
        session_file = write_session(tmp_path / "huge.labels.json", session_json(str(tree)))
        page = label_page(window)
        page.open_folder(str(make_flat_folder(tmp_path / "mine", 3)))
        page.add_class("mine")
        started = time.monotonic()
        answered = open_session_by_toolbar(qtbot, page, session_file)
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=10_000)
        elapsed = time.monotonic() - started
    finally:
        if parent != tmp_path:
            shutil.rmtree(parent)
    assert elapsed < 10, f"opening took {elapsed:.1f} s"
    assert page.ui.banner.level == "error"
    assert f"holds more than {LIST_ENTRY_LIMIT:,} files and folders" in page.ui.banner.text
    assert "field 'folder'" in page.ui.banner.text and "Traceback" not in page.ui.banner.text
    assert page.session.folder == str((tmp_path / "mine").resolve()) and page.session.classes == ["mine"]


def test_a_session_file_naming_the_root_folder_is_read_or_refused_within_seconds(tmp_path):
    session_file = write_session(tmp_path / "root.labels.json", session_json("/"))
    started = time.monotonic()
    try:
        loaded = load_session(session_file)
    except LabellingError as exc:  # a machine whose "/" holds more than a folder to label may
        assert "field 'folder'" in str(exc) and "choose the folder that holds the images" in str(exc)
    else:  # a small container's "/": listed within the bound
        assert loaded.session.folder == "/" and len(loaded.session.images) <= LIST_ENTRY_LIMIT
    assert time.monotonic() - started < 30


def test_a_folder_1500_folders_deep_opens_with_its_deepest_image(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "deep", 2)
    try:
        level = deep_tree(folder)
        shutil.copy(folder / "img_00.png", level / "bottom.png")
        page = label_page(window)
        started = time.monotonic()
        page.open_folder(str(folder))
        assert time.monotonic() - started < 10
        deepest = "d/" * DEPTH + "bottom.png"
        assert page.session.images == sorted(["img_00.png", "img_01.png", deepest])
        assert page.model.rowCount() == 3 and page.ui.banner.level != "error"
        assert list_images(level.parent) == ["d/bottom.png"]
        settle(qtbot, page)
    finally:
        window.label_page.reset()  # the folder's lock and autosave are let go before it is removed
        remove_deep_tree(folder)


def test_pipes_devices_and_link_loops_named_like_images_are_left_out_and_said(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 3)
    os.mkfifo(folder / "pipe.png")
    os.symlink("/dev/zero", folder / "zero.png")
    link_loop(folder, "loop.png")
    os.symlink(folder / "gone.png", folder / "dangling.jpg")
    page = label_page(window)
    started = time.monotonic()
    page.open_folder(str(folder))
    settle(qtbot, page)
    assert time.monotonic() - started < 30
    assert page.session.images == ["img_00.png", "img_01.png", "img_02.png"]
    assert page.ui.banner.level == "warning" and "4 names" in page.ui.banner.text and "left out" in page.ui.banner.text
    assert not page.model.thumbnails.failed  # every tile shown is a real image, drawn
    # Labelled and exported, the real images are copied whole; the pipe was never opened (it would block).
    page.add_class("cat")
    page.label_paths("cat", list(page.session.images))
    copy_by_menu(qtbot, page, tmp_path / "export")
    assert sorted(p.name for p in (tmp_path / "export" / "cat").iterdir()) == page.session.images
    assert stat.S_ISFIFO(os.lstat(folder / "pipe.png").st_mode)


# --- 2. files swapped under an open session by another process --------------------------------------------
def test_images_another_process_swaps_for_a_pipe_or_dev_zero_never_block_thumbnails_adapt_or_exports(
        window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 4)
    page = label_page(window)
    page.open_folder(str(folder))
    settle(qtbot, page)
    process = child(SWAP_CHILD.format(folder=str(folder)))  # listed as images, now a pipe and /dev/zero
    wait_for_line(process, "swapped")
    assert process.wait(CHILD_TIMEOUT_S) == 0
    started = time.monotonic()
    page.model.thumbnails.reset()  # the tiles are read again, as after scrolling away and back
    for path in page.session.images:
        page.model.thumbnails.get(path, page.session.absolute(path))
    page.use_builtin_model()  # the model chosen again: every image is read again for it
    settle(qtbot, page)
    assert set(page.model.thumbnails.failed) == {"img_01.png", "img_02.png"}
    assert "2 images cannot be read" in page.ui.banner.text
    for name in ("cat", "dog"):
        page.add_class(name)
    page.label_paths("cat", ["img_00.png"])
    page.label_paths("dog", ["img_03.png"])
    page.adapt()
    settle(qtbot, page)
    assert "Adapted to 2 labelled images" in page.ui.side.adapt_status.text()
    page.label_paths("cat", ["img_01.png", "img_02.png"])
    copy_by_menu(qtbot, page, tmp_path / "export")
    assert "Copied 2 images" in page.ui.banner.text and "2 could not be copied" in page.ui.banner.text
    page.export_csv(str(tmp_path / "labels.csv"))
    assert time.monotonic() - started < 30
    assert sorted(p.relative_to(tmp_path / "export").as_posix() for p in (tmp_path / "export").rglob("*.png")) == [
        "cat/img_00.png", "dog/img_03.png"]
    assert len((tmp_path / "labels.csv").read_text().splitlines()) == 5


def test_a_file_larger_than_the_free_space_is_refused_before_a_byte_is_copied(tmp_path):
    folder = make_flat_folder(tmp_path / "to_label", 2)
    huge = folder / "huge.png"
    free = shutil.disk_usage(tmp_path).free
    try:
        with open(huge, "wb") as handle:
            handle.truncate(free + 2**40)  # sparse: takes no space until copied
    except OSError:
        pytest.skip("this file system cannot hold a sparse file larger than its free space")
    session = LabelSession.open_folder(folder)
    session.classes, session.labels = ["a"], {path: Label("a") for path in session.images}
    started = time.monotonic()
    report = export_to_class_folders(session, tmp_path / "export")
    assert time.monotonic() - started < 10
    assert [Path(p).name for p, _ in report.done] == ["img_00.png", "img_01.png"]
    assert len(report.failed) == 1 and Path(report.failed[0][0]).name == "huge.png"
    assert "free on the target drive" in report.failed[0][1]
    assert sorted(p.name for p in (tmp_path / "export" / "a").iterdir()) == ["img_00.png", "img_01.png"]
    assert shutil.disk_usage(tmp_path).free > free - 2**30  # nothing near the drive's size was written


# --- 3. session files: valid JSON, hostile values ---------------------------------------------------------------
def test_a_relative_folder_field_is_read_relative_to_the_session_file_never_the_working_folder(
        tmp_path, monkeypatch):
    beside = make_flat_folder(tmp_path / "project" / "images", 2)
    make_flat_folder(tmp_path / "elsewhere" / "images", 7)
    session_file = write_session(tmp_path / "project" / "s.labels.json",
                                 session_json("images", labels=[("img_00.png", "cat")]))
    monkeypatch.chdir(tmp_path / "elsewhere")
    loaded = load_session(session_file)
    assert loaded.session.folder == str(beside.resolve()) and loaded.session.images == ["img_00.png", "img_01.png"]
    assert loaded.session.labels == {"img_00.png": Label("cat")} and not loaded.warnings


@pytest.mark.parametrize("threshold, meaning", [
    ("1" + "0" * 400, "an integer too large for a float"),
    ("9" * 5000, "an integer Python refuses to read"),
    ("NaN", "not a number"),
    ("1e308", "a float far above 1"),
    ("-1e-300", "just below 0"),
])
def test_a_threshold_that_is_no_probability_is_refused_in_one_sentence(window, qtbot, tmp_path, threshold, meaning):
    make_flat_folder(tmp_path / "images", 2)
    text = json.dumps(session_json(str(tmp_path / "images"))).replace('"threshold": 0.9', f'"threshold": {threshold}')
    session_file = write_session(tmp_path / "s.labels.json", text)
    page = label_page(window)
    page.open_session(str(session_file))
    assert page.session is None and page.ui.banner.level == "error"
    assert str(session_file) in page.ui.banner.text and len(page.ui.banner.text) < 400, page.ui.banner.text
    assert "threshold" in page.ui.banner.text or "digits" in page.ui.banner.text


def test_a_threshold_of_minus_zero_opens_as_zero_and_is_saved_as_zero(tmp_path):
    make_flat_folder(tmp_path / "images", 2)
    session_file = write_session(tmp_path / "s.labels.json", session_json(str(tmp_path / "images"), threshold=-0.0))
    loaded = load_session(session_file)
    save_session(loaded.session, tmp_path / "again.labels.json")
    assert '"threshold": 0.0,' in (tmp_path / "again.labels.json").read_text()


def test_a_session_file_with_thirty_thousand_classes_is_refused_and_500_classes_keep_a_click_quick(
        window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "images", 3)
    page = label_page(window)
    many = write_session(tmp_path / "many.labels.json",
                         session_json(str(folder), classes=[f"c{i}" for i in range(30_000)]))
    started = time.monotonic()
    page.open_session(str(many))
    assert time.monotonic() - started < 5  # it took 4 s to open, then 7 s a click
    assert page.session is None and f"at most {MAX_CLASSES}" in page.ui.banner.text
    most = write_session(tmp_path / "most.labels.json",
                         session_json(str(folder), classes=[f"c{i}" for i in range(MAX_CLASSES)]))
    page.open_session(str(most))
    assert len(page.session.classes) == MAX_CLASSES
    page.ui.images.grid.setFocus()
    page.select_paths(["img_00.png", "img_01.png"])
    started = time.monotonic()
    qtbot.mouseClick(page.class_button_list[1], Qt.MouseButton.LeftButton)  # "2 · c1"
    qtbot.keyClick(page.ui.images.grid, Qt.Key.Key_3)
    assert time.monotonic() - started < 1.0
    assert {p: label.name for p, label in page.session.labels.items()} == {"img_00.png": "c2", "img_01.png": "c2"}
    page.add_class("one more")
    assert "at most 500 classes" in page.ui.banner.text and len(page.session.classes) == MAX_CLASSES


def test_an_image_labelled_twice_in_a_session_file_keeps_its_first_label_and_says_so(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "images", 3)
    session_file = write_session(tmp_path / "merged.labels.json", session_json(str(folder), labels=[
        ("img_00.png", "cat"), ("img_01.png", "dog"), ("img_00.png", "dog"), ("img_01.png", "dog")]))
    page = label_page(window)
    page.open_session(str(session_file))
    assert {p: label.name for p, label in page.session.labels.items()} == {"img_00.png": "cat", "img_01.png": "dog"}
    assert page.ui.banner.level == "warning"
    banner = page.ui.banner
    assert "1 image(s) are labelled twice" in banner.text and "img_00.png: 'cat', not 'dog'" in banner.text


def test_labels_naming_paths_outside_the_folder_are_never_shown_copied_or_moved(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "images", 2)
    outside = noise_images(tmp_path / "private", 1, 8) / "img_00.png"
    before = outside.read_bytes()
    names = ["../private/img_00.png", str(outside), "img_00.png/../../private/img_00.png", "./img_00.png/"]
    session_file = write_session(tmp_path / "s.labels.json", session_json(
        str(folder), labels=[(name, "cat") for name in names] + [("img_01.png", "cat")]))
    page = label_page(window)
    page.open_session(str(session_file))
    assert set(page.session.labels) == {"img_01.png"} and page.model.rowCount() == 2
    assert "4 labelled image(s) are no longer in" in page.ui.banner.text
    copy_by_menu(qtbot, page, tmp_path / "export", move=True)
    assert sorted(p.relative_to(tmp_path / "export").as_posix() for p in (tmp_path / "export").rglob("*.png")) == [
        "cat/img_01.png"]
    assert outside.read_bytes() == before and sorted(p.name for p in folder.iterdir() if p.suffix == ".png") == [
        "img_00.png"]


def test_a_session_of_100000_labels_the_workbench_saves_is_read_back_whole(tmp_path):
    images = [f"2024-05-14 survey of the north ridge/site {i // 1000:03d}/camera trap 2/IMG_{i:06d}.png"
              for i in range(100_000)]
    session = LabelSession(folder=str(tmp_path), images=images, classes=["deer", "fox"],
                           labels={path: Label("deer" if i % 3 else "fox") for i, path in enumerate(images)})
    target = tmp_path / "survey.labels.json"
    started = time.monotonic()
    save_session(session, target)
    assert target.stat().st_size > SETTINGS_LIMIT  # the bound it was once read with: refused, labels set aside
    loaded = load_session(target, opened=session)  # as an autosave is read back
    assert time.monotonic() - started < 30
    assert loaded.session.labels == session.labels and not loaded.warnings


def test_class_names_that_share_a_folder_on_case_blind_drives_are_refused(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "images", 3)
    page = label_page(window)
    page.open_folder(str(folder))
    page.add_class("Café")
    for twin in ("café", "CAFÉ", "Cafe\u0301"):  # the last: é as e and a combining accent (macOS writes it so)
        page.add_class(twin)
        assert "only in upper and lower case" in page.ui.banner.text and page.session.classes == ["Café"]
    # A session file may hold both: export refuses before anything is copied.
    session_file = write_session(tmp_path / "s.labels.json", session_json(
        str(folder), classes=["Cat", "cat"], labels=[("img_00.png", "Cat"), ("img_01.png", "cat")]))
    page.undo_stack.setClean()
    page.open_session(str(session_file))
    copy_by_menu(qtbot, page, tmp_path / "export")
    assert page.ui.banner.level == "error" and "would share one folder" in page.ui.banner.text
    assert not (tmp_path / "export").exists() or not any((tmp_path / "export").iterdir())


# --- 4. links: loops, and an autosave that points elsewhere ----------------------------------------------------
def test_a_link_loop_as_folder_session_folder_or_export_target_is_one_sentence(window, qtbot, tmp_path):
    loop = link_loop(tmp_path)
    page = label_page(window)
    page.open_folder(str(loop))
    assert page.session is None and "Too many levels of symbolic links" in page.ui.banner.text
    page.open_session(str(write_session(tmp_path / "s.labels.json", session_json(str(loop)))))
    assert page.session is None and "field 'folder'" in page.ui.banner.text
    folder = make_flat_folder(tmp_path / "images", 2)
    page.open_folder(str(folder))
    page.add_class("cat")
    page.label_paths("cat", ["img_00.png"])
    page.export_to_folders(str(loop))  # typed into the folder dialog (it lists no loop to click)
    assert page.ui.banner.level == "error"
    assert f"Cannot export into {loop}: Too many levels of symbolic links" in page.ui.banner.text


def test_an_autosave_that_links_to_a_file_elsewhere_is_neither_offered_nor_overwritten(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "shared", 3)
    precious = tmp_path / "mine" / "work.labels.json"
    precious.parent.mkdir()
    save_session(LabelSession(str(tmp_path / "mine"), ["a.png"], ["keep"], {"a.png": Label("keep")}), precious)
    before = precious.read_bytes()
    os.symlink(precious, folder / AUTOSAVE_NAME)  # planted in a shared folder
    page = label_page(window)
    answered = open_by_toolbar(qtbot, page, choose(folder))
    assert len(answered) == 1  # no "Restore the labels?" about another session's labels
    page.add_class("cat")
    page.label_paths("cat", ["img_00.png"])
    written = page.keeper.flush()
    assert precious.read_bytes() == before and os.path.islink(folder / AUTOSAVE_NAME)
    assert written == autosave_paths(str(folder))[1]  # the user's data folder
    assert json.loads(written.read_text())["labels"][0]["class"] == "cat"
    # Opened again, the labels come back from there.
    page.undo_stack.setClean()
    page.reset()
    box = click(B.Yes)
    answered = open_by_toolbar(qtbot, page, choose(folder), box)
    assert len(answered) == 2 and "1 labelled image" in box.text
    assert page.session.labels["img_00.png"].name == "cat"


# --- 5. the folder goes away under the page -----------------------------------------------------------------
def test_a_folder_deleted_while_labelled_keeps_its_labels_and_exports_say_what_failed(window, qtbot, tmp_path):
    folder = make_flat_folder(tmp_path / "images", 3)
    page = label_page(window)
    page.open_folder(str(folder))
    page.add_class("cat")
    page.label_paths("cat", ["img_00.png"])
    settle(qtbot, page)
    shutil.rmtree(folder)
    page.label_paths("cat", ["img_01.png"])
    page.keeper.flush()
    copy_by_menu(qtbot, page, tmp_path / "export")
    assert page.ui.banner.level == "warning" and "2 could not be copied" in page.ui.banner.text
    page.export_csv(str(tmp_path / "labels.csv"))
    assert (tmp_path / "labels.csv").read_text().count(",cat,") == 2
    kept = json.loads((folder / AUTOSAVE_NAME).read_text())  # written where the folder was: nothing lost
    assert {e["path"] for e in kept["labels"]} == {"img_00.png", "img_01.png"}
    assert not [p for p in folder.iterdir() if p.suffix == ".png"]  # the images are gone; only their labels came back


# --- 6. project files ---------------------------------------------------------------------------------------
def test_a_project_naming_link_loops_huge_numbers_or_a_device_opens_or_refuses_in_one_sentence(window, tmp_path):
    loop = link_loop(tmp_path)
    a, b = tmp_path / "a.labels.json", tmp_path / "b.labels.json"
    sessions = [write_session(a, session_json(str(b))), write_session(b, session_json(str(a)))]  # each other's folder
    project = tmp_path / "p.fswproj"
    project.write_text(json.dumps({"format": 1, "name": "hostile", "datasets": ["loop"], "runs_root": "/dev/zero",
                                   "labelling_sessions": ["loop", "/dev/zero", str(sessions[0]), str(sessions[1])]}))
    loaded = load_project(project)
    assert loaded.datasets == [str(loop)] and loaded.labelling_sessions[:2] == [str(loop), "/dev/zero"]
    runs_before = window.runs_root
    assert window.projects.open(str(project))
    assert window.runs_root == runs_before and window.banner.level == "warning"
    assert "runs folder /dev/zero is a device, not a folder" in window.banner.text
    assert window.projects.save(path=str(tmp_path / "again.fswproj"))
    again = json.loads((tmp_path / "again.fswproj").read_text())
    assert again["runs_root"] != "/dev/zero" and again["datasets"] == ["loop"]
    project.write_text('{"format": 1, "name": ' + "7" * 5000 + "}")
    with pytest.raises(ProjectError, match="number of more than 4300 digits"):
        load_project(project)
    page = label_page(window)
    page.open_session(str(a))  # the project's sessions name each other as their folder
    assert page.session is None and f"Folder {b} is a file, not a folder of images" in page.ui.banner.text


# --- 7. Inspect: an evaluation.json of valid JSON and hostile structure -------------------------------------
@pytest.mark.parametrize("how", ["a mistake that is a number", "confusion rows shorter than the classes",
                                 "text where an accuracy goes", "an episode predicting class 99 of 2",
                                 "100,000 mistakes", "100,000 support images beside a mistake"])
def test_an_evaluation_of_hostile_structure_is_one_sentence_never_a_crash(window, qtbot, tmp_path, how):
    run, _, _ = hostile_evaluation(tmp_path)
    data = json.loads((run / "evaluation.json").read_text())
    spoil(data, how)
    (run / "evaluation.json").write_text(json.dumps(data))
    started = time.monotonic()
    window.inspect_run(str(run))  # a short confusion row or text as accuracy crashed the window (SIGSEGV)
    page = window.inspect_page
    qtbot.waitUntil(lambda: not page.busy, timeout=WAIT_MS)
    assert time.monotonic() - started < 20  # 100,000 rows of widgets took minutes
    assert f"{run / 'evaluation.json'} is damaged: field '" in page.summary.text()
    assert page.inspection is None  # nothing of the damaged file is shown


# --- 8. two processes, and kills between two writes ---------------------------------------------------------
def test_two_processes_exporting_into_one_target_at_once_never_take_one_name_twice(tmp_path):
    source, target, go = noise_images(tmp_path / "images", 30, 96), tmp_path / "export", tmp_path / "go"
    processes = [child(EXPORT_WHEN_TOLD.format(source=str(source), target=str(target), go=str(go))) for _ in range(2)]
    for process in processes:
        wait_for_line(process, "ready")
    go.touch()
    outputs = [process.communicate(timeout=CHILD_TIMEOUT_S) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert [out.split() for out, _ in outputs] == [["30", "0"], ["30", "0"]]
    copies = sorted((target / "a").iterdir())
    assert len(copies) == 60 and not [p for p in copies if p.name.startswith(".")]
    originals = {p.name: p.read_bytes() for p in source.iterdir()}
    for copy in copies:  # img_03.png and img_03_2.png: both whole copies of img_03.png
        stem = copy.stem.rsplit("_", 1)[0] if copy.stem.count("_") == 2 else copy.stem
        assert copy.read_bytes() == originals[stem + ".png"], copy.name


def test_a_move_killed_between_the_copy_and_the_delete_loses_no_image(tmp_path):
    source, target = noise_images(tmp_path / "images", 8, 64), tmp_path / "export"
    originals = {p.name: p.read_bytes() for p in source.iterdir()}
    process = child(MOVE_CHILD.format(source=str(source), target=str(target), stop_at=5))
    try:
        wait_for_line(process, "copied")
    finally:
        kill(process)
    left = {p.name: p.read_bytes() for p in source.iterdir()}
    moved = {p.name: p.read_bytes() for p in (target / "a").iterdir() if not p.name.startswith(".")}
    assert sorted(left) == [f"img_{i:02d}.png" for i in range(4, 8)]  # the fifth: in both places
    assert sorted(moved) == [f"img_{i:02d}.png" for i in range(5)]
    assert all(originals[name] == data for name, data in (left | moved).items())


def test_a_save_killed_before_its_rename_leaves_the_old_session_file_whole(tmp_path):
    folder = make_flat_folder(tmp_path / "images", 2)
    target = tmp_path / "work.labels.json"
    save_session(LabelSession(str(folder), ["img_00.png", "img_01.png"], ["old"], {"img_00.png": Label("old")}), target)
    before = target.read_bytes()
    process = child(SAVE_CHILD.format(folder=str(folder), target=str(target)))
    try:
        wait_for_line(process, "written")
    finally:
        kill(process)
    assert target.read_bytes() == before
    assert load_session(target).session.labels == {"img_00.png": Label("old")}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".work.labels.json.")]
    assert len(leftovers) == 1  # hidden, and the next save of the file removes it (its writer is dead)
    save_session(load_session(target).session, target)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".work.labels.json.")]
