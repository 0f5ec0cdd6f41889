"""Hostile inputs, second round: class names that are paths, special and endless files, litter folders,
one folder reached twice, garbage weights and zips that say what is wrong."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import torch

from tests.robustness.corpus import good_bytes, make_good_classes, mark_encrypted
from workbench.data.episode_file import read_episode_file
from workbench.data.sources import scan_datasets
from workbench.errors import DataError, RunFolderError, WorkbenchError
from workbench.files import read_bytes, read_json
from workbench.labelling import operations as ops
from workbench.labelling.export import export_to_class_folders
from workbench.labelling.session import LabellingError, LabelSession, Label
from workbench.labelling.session_file import load_session, save_session
from workbench.projects.project import ProjectError, load_project
from workbench.runs.folder import RunFolder, safe_torch_load
from workbench.weights import load_weights


# --- class names are names, never paths ---------------------------------------------------
def _session_with_images(tmp_path: Path) -> tuple[Path, dict]:
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        (images / f"img{i}.png").write_bytes(good_bytes())
    session = LabelSession.open_folder(images)
    session.classes = ["cat"]
    session.labels = {p: Label("cat") for p in session.images}
    save_session(session, tmp_path / "s.labels.json")
    return images, json.loads((tmp_path / "s.labels.json").read_text())


@pytest.mark.parametrize("name", ["../outside/relative", "/abs/olute", "..", "a\\b", "two\nlines", "nul\0", " padded"])
def test_a_session_file_whose_class_names_are_paths_is_refused(tmp_path, name):
    _, data = _session_with_images(tmp_path)
    data["classes"] = [name]
    for label in data["labels"]:
        label["class"] = name
    (tmp_path / "evil.labels.json").write_text(json.dumps(data))
    with pytest.raises(LabellingError, match=r"field 'classes\[0\]'.*cannot be a class name"):
        load_session(tmp_path / "evil.labels.json")


def test_move_into_class_folders_never_writes_outside_the_target(tmp_path):
    images, _ = _session_with_images(tmp_path)
    session = LabelSession.open_folder(images)
    session.classes = ["../escaped"]  # as a session built in memory by a plugin or a script might be
    session.labels = {p: Label("../escaped") for p in session.images}
    target = tmp_path / "target"
    with pytest.raises(LabellingError, match="cannot be a class name.*Nothing was copied or moved"):
        export_to_class_folders(session, target, move=True)
    assert sorted(p.name for p in images.iterdir()) == ["img0.png", "img1.png", "img2.png"]
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("name", ["../up", "tab\there", "x" * 300])
def test_renaming_a_class_to_a_path_is_refused(tmp_path, name):
    images, _ = _session_with_images(tmp_path)
    session = LabelSession.open_folder(images)
    session.classes = ["cat"]
    with pytest.raises(LabellingError, match="cannot be a class name"):
        ops.rename_class(session, "cat", name)


# --- one bounded, type-checked reader -----------------------------------------------------
def test_the_reader_refuses_a_fifo_a_device_and_a_folder_by_type_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a named pipe"), ("/dev/zero", "a device"), (tmp_path, "a folder")):
        with pytest.raises(WorkbenchError, match=f"is {kind}, not a"):
            read_bytes(path, 100)


def test_the_reader_refuses_a_file_over_its_bound_before_reading(tmp_path):
    big = tmp_path / "status.json"
    with open(big, "wb") as handle:
        handle.truncate(3 * 2**20)  # sparse: no data written, so the bound is checked from the size
    with pytest.raises(WorkbenchError, match=r"is 3 MiB, more than the 1 MiB"):
        read_json(big, 2**20)


def _run_folder(tmp_path: Path) -> RunFolder:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"data": [str(tmp_path)]}))
    return RunFolder(run)


@pytest.mark.parametrize("name", ["config.json", "status.json", "metrics.csv"])
def test_run_files_that_are_pipes_are_refused_with_a_sentence(tmp_path, name):
    folder = _run_folder(tmp_path)
    (folder.path / name).unlink(missing_ok=True)
    os.mkfifo(folder.path / name)
    read = {"config.json": lambda: folder.read_config(check_algorithm=False), "status.json": folder.read_status,
            "metrics.csv": folder.read_metrics}[name]
    with pytest.raises(RunFolderError, match="is a named pipe"):
        read()


def test_a_model_file_that_is_a_pipe_or_a_link_to_dev_zero_is_refused(tmp_path):
    folder = _run_folder(tmp_path)
    os.mkfifo(folder.model_path)
    with pytest.raises(RunFolderError, match="is a named pipe"):
        folder.load_model()
    folder.model_path.unlink()
    folder.model_path.symlink_to("/dev/zero")
    with pytest.raises(RunFolderError, match="is a device"):
        folder.load_model()


def test_an_endless_episode_file_and_a_fifo_episode_file_are_refused(tmp_path):
    fifo = tmp_path / "episodes.json"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="named pipe"):
        read_episode_file(str(fifo))
    with pytest.raises(DataError, match="is a device"):
        read_episode_file("/dev/zero")


def test_a_project_file_that_is_a_pipe_is_refused_and_format_true_is_not_format_1(tmp_path):
    fifo = tmp_path / "p.fswproj"
    os.mkfifo(fifo)
    with pytest.raises(ProjectError, match="named pipe"):
        load_project(fifo)
    project = tmp_path / "q.fswproj"
    project.write_text(json.dumps({"format": True, "name": "x"}))
    with pytest.raises(ProjectError, match="field 'format' must be 1"):
        load_project(project)


def test_a_session_file_with_version_true_is_refused(tmp_path):
    _, data = _session_with_images(tmp_path)
    data["version"] = True
    (tmp_path / "v.labels.json").write_text(json.dumps(data))
    with pytest.raises(LabellingError, match="field 'version'"):
        load_session(tmp_path / "v.labels.json")


# --- --data that is not a dataset ---------------------------------------------------------
def test_data_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "data.zip"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="is a named pipe, not a folder or a .zip"):
        scan_datasets([fifo])
    with pytest.raises(DataError, match="is a device, not a folder or a .zip"):
        scan_datasets(["/dev/zero"])


def test_empty_truncated_and_password_protected_zips_say_what_is_wrong(tmp_path):
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        scan_datasets([empty])
    whole = tmp_path / "whole.zip"
    with zipfile.ZipFile(whole, "w") as zf:
        for c in ("a", "b"):
            zf.writestr(f"d/{c}/x.png", good_bytes())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[:-30])
    with pytest.raises(DataError, match="damaged or incomplete"):
        scan_datasets([cut])
    locked = tmp_path / "locked.zip"
    locked.write_bytes(whole.read_bytes())
    for member in ("d/a/x.png", "d/b/x.png"):
        mark_encrypted(locked, member)
    with pytest.raises(DataError, match="protected by a password"):
        scan_datasets([locked])


def test_a_link_to_a_device_is_not_called_a_broken_link(tmp_path):
    make_good_classes(tmp_path / "data", classes=2, images=2)
    (tmp_path / "data" / "good_0" / "zero.png").symlink_to("/dev/zero")
    scan = scan_datasets([tmp_path / "data"])
    [problem] = [p for p in scan.problems if p.path.endswith("zero.png")]
    assert "broken" not in problem.message and "not a regular file" in problem.message


LITTER = ["@eaDir", ".AppleDouble", "__MACOSX", "#recycle", ".Trash-1000", ".thumbnails", "$RECYCLE.BIN",
          "System Volume Information"]


def test_nas_and_os_litter_folders_never_become_classes(tmp_path):
    root = tmp_path / "data"
    make_good_classes(root, classes=2, images=2)
    for litter in LITTER:
        for where in (root / litter / "thumb", root / "good_0" / litter):
            where.mkdir(parents=True, exist_ok=True)
            (where / "SYNOPHOTO_THUMB_M.png").write_bytes(good_bytes())
    (root / "good_1" / "Thumbs.db").write_bytes(b"\0" * 10)
    (root / "good_1" / ".DS_Store").write_bytes(b"\0" * 10)
    scan = scan_datasets([root])
    assert sorted(c.key for c in scan.classes) == ["good_0", "good_1"]
    assert scan.image_count == 4 and not scan.problems


def test_litter_inside_a_zip_is_skipped_too(tmp_path):
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for c in ("a", "b"):
            zf.writestr(f"d/{c}/x.png", good_bytes())
            zf.writestr(f"d/{c}/@eaDir/x.png/SYNOFILE_THUMB.png", good_bytes())
        zf.writestr("d/#recycle/c/x.png", good_bytes())
    scan = scan_datasets([archive])
    assert sorted(c.key for c in scan.classes) == ["a", "b"]


def test_the_same_folder_reached_twice_is_counted_once(tmp_path):
    first = tmp_path / "first"
    make_good_classes(first, classes=3, images=2)
    second = tmp_path / "second"
    second.mkdir()
    (second / "alias").symlink_to(first / "good_0", target_is_directory=True)
    make_good_classes(second, classes=1, images=2, prefix="other")
    scan = scan_datasets([first, second])
    assert sorted(c.key for c in scan.classes) == ["good_0", "good_1", "good_2", "other_0"]
    again = scan_datasets([first, tmp_path / "first"])
    assert len(again.classes) == 3 and again.image_count == 6


# --- garbage weight files say what is wrong in plain words --------------------------------
def _evil_bytes() -> bytes:
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    buffer = io.BytesIO()
    torch.save({"w": Evil()}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("content, words", [
    (b"\0" * 4096, "only zero bytes"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "a web page"),
    (gzip.compress(b"x" * 100, mtime=0), "gzip-compressed"),
    (b"", "it is empty"),
])
def test_garbage_weight_files_are_called_not_a_weights_file(tmp_path, content, words):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(RunFolderError) as caught:
        safe_torch_load(path)
    text = str(caught.value)
    assert "damaged or not a weights file" in text and words in text and "run code" not in text


def test_a_cut_off_weights_file_is_called_damaged(tmp_path):
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(100)}, buffer)
    path = tmp_path / "model.pt"
    path.write_bytes(buffer.getvalue()[:300])
    with pytest.raises(RunFolderError, match="damaged or not a weights file.*cut off"):
        safe_torch_load(path)


def test_a_poisoned_weights_file_is_refused_without_torch_advice_to_turn_protection_off(tmp_path):
    path = tmp_path / "backbone.pt"
    path.write_bytes(_evil_bytes())
    with pytest.raises(WorkbenchError) as caught:
        load_weights(path)
    text = str(caught.value)
    assert "asks to run code (posix.system)" in text
    for advice in ("weights_only", "False", "add_safe_globals", "safe_globals", "trusted source"):
        assert advice not in text
    from workbench.models.backbones import load_weights_file

    with pytest.raises(WorkbenchError) as caught:
        load_weights_file(torch.nn.Linear(2, 2), path, "conv4")
    assert "asks to run code" in str(caught.value) and "weights_only" not in str(caught.value)
