"""Every bad input gives a readable problem and the usable rest is still used (core scanner and decoder)."""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.robustness.corpus import (
    FILE_CASES,
    FileCase,
    good_bytes,
    make_good_classes,
    make_zip_bomb,
    mark_encrypted,
    write_undecodable_name,
)
from workbench.data import problems as P
from workbench.data import sources
from workbench.data.cache import build_cache
from workbench.data.images import decode_image
from workbench.data.sampler import EpisodeSampler
from workbench.data.sources import scan_datasets
from workbench.data.splits import class_views
from workbench.errors import DataError

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def scan_and_decode(*roots):
    scan = scan_datasets(list(roots))
    return scan, build_cache(scan, 28, 1)


def problems_about(problems, path: Path):
    return [p for p in problems if p.path.endswith(str(path)) or p.path.endswith(path.as_posix())]


# --- one bad (or odd) file among good ones ---------------------------------------------------
@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
def test_file_case(case: FileCase, tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    path = case.write(tmp_path / "good_0")
    scan, cache = scan_and_decode(tmp_path)
    found = problems_about(cache.problems, path)
    if case.kind is None:
        assert found == [], found
        assert str(path) in cache.image_paths  # used like any other image
        assert cache.image_count == 7
    else:
        assert len(found) == 1, cache.problems
        problem = found[0]
        assert problem.kind == case.kind
        import re

        assert re.search(case.words, problem.message), problem.message
        text = str(problem)
        assert "\n" not in text and "Traceback" not in text
        text.encode("utf-8")  # printable and writable to data_problems.txt
        assert cache.image_count == 6  # every good image kept
    assert cache.num_classes == 2


def test_exif_orientation_is_applied_for_every_rotation():
    from tests.robustness.corpus import exif_rotated_jpeg

    # Stored with a dark band on the left; shown turned by the EXIF orientation.
    band = {6: "top", 3: "right", 8: "bottom"}
    for orientation, where in band.items():
        array = decode_image(exif_rotated_jpeg(orientation), 20, 1)[0].astype(float)
        side = {"top": array[:4], "bottom": array[-4:], "right": array[:, -4:]}[where]
        assert side.mean() < array.mean() - 30, (orientation, where)


def test_a_name_that_is_not_utf8_is_used_and_reported_readably(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    path = write_undecodable_name(tmp_path / "good_0")
    (tmp_path / "good_1" / "caf\udce9_broken.png".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_bytes(b"")
    scan, cache = scan_and_decode(tmp_path)
    assert str(path) in cache.image_paths
    (problem,) = [p for p in cache.problems if p.kind == P.UNREADABLE]
    assert "\\xe9_broken.png" in str(problem)
    str(problem).encode("utf-8")


def test_hidden_files_and_os_litter_are_skipped_silently(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    (tmp_path / "good_0" / ".hidden.png").write_bytes(b"")
    (tmp_path / "good_0" / "Thumbs.db").write_bytes(b"\x00" * 10)
    (tmp_path / ".git").mkdir()
    scan, cache = scan_and_decode(tmp_path)
    assert cache.problems == [] and cache.image_count == 6


def test_a_named_pipe_named_png_is_not_read(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    os.mkfifo(tmp_path / "good_0" / "pipe.png")
    started = time.monotonic()
    scan, cache = scan_and_decode(tmp_path)
    assert time.monotonic() - started < 10  # reading it would block forever
    (problem,) = scan.problems
    assert problem.kind == P.NOT_AN_IMAGE and "not a regular file" in problem.message
    assert cache.image_count == 6


def test_a_file_too_large_for_an_image_is_refused_by_its_size(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    with open(tmp_path / "good_0" / "sparse.png", "wb") as handle:
        handle.truncate(65 * 2**20)  # sparse: no disk space used
    scan, cache = scan_and_decode(tmp_path)
    (problem,) = scan.problems
    assert problem.kind == P.TOO_LARGE and "65 MiB" in problem.message
    assert cache.image_count == 6


# --- folder structure ---------------------------------------------------------------------
def test_symlink_loop_is_reported_and_the_rest_used(tmp_path):
    make_good_classes(tmp_path / "data", classes=3, images=3)
    (tmp_path / "data" / "good_0" / "loop").symlink_to(tmp_path / "data", target_is_directory=True)
    (tmp_path / "data" / "self").symlink_to(tmp_path / "data" / "self")  # a link to itself
    scan, cache = scan_and_decode(tmp_path / "data")
    assert cache.num_classes == 3
    kinds = {p.kind: p.message for p in scan.problems}
    assert "symlink loop" in kinds[P.UNREADABLE_FOLDER]
    assert any("self" in p.path and p.kind == P.UNREADABLE for p in scan.problems)


def test_broken_link_is_reported(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    (tmp_path / "good_0" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    scan, _ = scan_and_decode(tmp_path)
    (problem,) = scan.problems
    assert problem.kind == P.UNREADABLE and "broken link" in problem.message


def _scan_as_nobody(root: Path) -> list[dict]:
    """Scan and decode `root` in a forked child that has given up root's right to read anything."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, scan, report as JSON, exit without cleanup
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            scan = scan_datasets([root])
            cache = build_cache(scan, 28, 1)
            payload = json.dumps({"problems": [p.__dict__ for p in cache.problems], "images": cache.image_count})
        except BaseException as exc:  # report, never raise in a forked child
            payload = json.dumps({"error": repr(exc)})
        os.write(write_end, payload.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        data = json.loads(handle.read())
    os.waitpid(pid, 0)
    assert "error" not in data, data
    return data


def test_unreadable_files_and_folders_are_reported(tmp_path_factory):
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="unreadable-"))  # /tmp itself: reachable when not root
    try:
        os.chmod(root, 0o755)
        make_good_classes(root, classes=3, images=3)
        secret = root / "good_0" / "secret.png"
        secret.write_bytes(good_bytes())
        secret.chmod(0)
        locked = root / "locked"
        locked.mkdir()
        (locked / "a.png").write_bytes(good_bytes())
        locked.chmod(0)
        for folder in [root, *root.iterdir()]:
            if folder.is_dir() and folder != locked:
                folder.chmod(0o755)
                for f in folder.iterdir():
                    if f != secret and f.is_file():
                        f.chmod(0o644)
        if AS_ROOT:
            data = _scan_as_nobody(root)
            problems, images = data["problems"], data["images"]
        else:
            scan, cache = scan_and_decode(root)
            problems, images = [p.__dict__ for p in cache.problems], cache.image_count
        by_path = {Path(p["path"]).name: p for p in problems}
        assert by_path["locked"]["kind"] == P.UNREADABLE_FOLDER and "permission denied" in by_path["locked"]["message"]
        assert by_path["secret.png"]["kind"] == P.UNREADABLE and "permission denied" in by_path["secret.png"]["message"]
        assert images == 9
    finally:
        for path in (root / "locked", root / "good_0" / "secret.png"):
            path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


def test_nested_empty_folders_are_named(tmp_path):
    make_good_classes(tmp_path, classes=2, images=3)
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "only_text").mkdir()
    (tmp_path / "only_text" / "notes.txt").write_text("x")
    scan, cache = scan_and_decode(tmp_path)
    empty = sorted(Path(p.path).name for p in scan.problems if p.kind == P.EMPTY_CLASS)
    assert empty == ["c", "only_text"]
    assert cache.num_classes == 2


def test_a_folder_of_only_empty_folders_has_no_classes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    scan, cache = scan_and_decode(tmp_path)
    assert cache.num_classes == 0
    assert any("no class folders with images" in p.message for p in scan.problems)


def test_one_class_cannot_make_an_episode(tmp_path):
    make_good_classes(tmp_path, classes=1, images=6)
    _, cache = scan_and_decode(tmp_path)
    with pytest.raises(DataError, match="Only 1 usable classes.*fewer than the 2 ways"):
        EpisodeSampler(cache, class_views(range(cache.num_classes), False), 2, 1, 1)


def test_classes_smaller_than_shots_plus_queries_are_left_out_by_name(tmp_path):
    make_good_classes(tmp_path, classes=3, images=5)
    make_good_classes(tmp_path, classes=1, images=2, prefix="small")
    _, cache = scan_and_decode(tmp_path)
    sampler = EpisodeSampler(cache, class_views(range(cache.num_classes), False), 3, 2, 2)
    (problem,) = sampler.problems
    assert problem.kind == P.TOO_FEW_IMAGES and problem.path == "small_0"
    assert "has 2 images, fewer than shots + queries = 4" in problem.message
    assert "small_0" not in sampler.sample().class_names


# --- zips -----------------------------------------------------------------------------------
@pytest.mark.parametrize("member", ["../../escape/evil.png", "/etc/evil.png", "C:/Windows/evil.png", "data/../../evil.png",
                                    "..\\..\\evil.png"])
def test_zip_slip_members_are_skipped_and_nothing_is_written(tmp_path, member):
    archive = tmp_path / "inner" / "evil.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for c in range(2):
            for i in range(2):
                zf.writestr(f"data/class_{c}/img_{i}.png", good_bytes())
        zf.writestr(member, good_bytes())
    before = sorted(tmp_path.rglob("*"))
    scan, cache = scan_and_decode(archive)
    assert [p.kind for p in scan.problems] == [P.UNSAFE_PATH]
    assert "leaves the zip's folder" in scan.problems[0].message
    assert cache.image_count == 4 and cache.num_classes == 2
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere


def test_zip_bomb_is_refused_by_its_declared_size(tmp_path):
    archive = make_zip_bomb(tmp_path / "bomb.zip", expanded_mib=80)
    assert archive.stat().st_size < 2**20
    started = time.monotonic()
    scan, cache = scan_and_decode(archive)
    assert time.monotonic() - started < 5
    (problem,) = scan.problems
    assert problem.kind == P.TOO_LARGE and "bomb.png" in problem.path and "80 MiB" in problem.message
    assert cache.image_count == 9


def test_zip_bomb_below_the_size_limit_is_refused_by_its_ratio(tmp_path):
    archive = make_zip_bomb(tmp_path / "bomb.zip", expanded_mib=20)
    scan, cache = scan_and_decode(archive)
    (problem,) = scan.problems
    assert problem.kind == P.TOO_LARGE and "zip bomb" in problem.message
    assert cache.image_count == 9


def test_zip_member_with_a_lying_size_is_not_read_past_its_declared_size(tmp_path):
    """A header that understates the member's size: reading stops at the declared size."""
    archive = make_zip_bomb(tmp_path / "liar.zip", expanded_mib=30)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("data/class_0/bomb.png")
    true_size = info.file_size
    # The local header's zip64 field (8 bytes) and the central directory (4 bytes) both hold the size.
    for width in (8, 4):
        needle = true_size.to_bytes(width, "little")
        assert data.count(needle) == 1
        data = data.replace(needle, (1000).to_bytes(width, "little"))
    archive.write_bytes(bytes(data))
    scan, cache = scan_and_decode(archive)
    assert cache.image_count == 9
    (problem,) = [p for p in cache.problems if "bomb.png" in p.path]
    assert problem.kind == P.UNREADABLE


def test_damaged_zip_is_one_clear_error(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/a/x.png", good_bytes())
    archive.write_bytes(archive.read_bytes()[:40])
    with pytest.raises(DataError, match="neither a folder nor a .zip|Cannot read zip"):
        scan_datasets([archive])


def test_encrypted_zip_member_is_reported(tmp_path):
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for c in range(2):
            for i in range(2):
                zf.writestr(f"data/class_{c}/img_{i}.png", good_bytes())
        zf.writestr("data/class_0/secret.png", good_bytes())
    mark_encrypted(archive, "data/class_0/secret.png")  # a password would be needed to read it
    scan, cache = scan_and_decode(archive)
    (problem,) = [p for p in cache.problems if "secret.png" in p.path]
    assert problem.kind == P.UNREADABLE and "password" in problem.message
    assert cache.image_count == 4


# --- data that changes under our feet ---------------------------------------------------------
def test_folder_disappearing_during_the_scan(tmp_path, monkeypatch):
    make_good_classes(tmp_path, classes=4, images=3)
    real_scandir = os.scandir
    calls = []

    def scandir_then_delete(path):
        # Another program deletes a class folder and a file just after the scanner listed the root.
        calls.append(path)
        entries = list(real_scandir(path))
        monkeypatch.setattr(sources.os, "scandir", real_scandir)  # only the first listing is watched
        shutil.rmtree(tmp_path / "good_2")
        (tmp_path / "good_3" / "img_0.png").unlink()
        return iter(entries)

    monkeypatch.setattr(sources.os, "scandir", scandir_then_delete)
    scan = scan_datasets([tmp_path])
    monkeypatch.undo()
    cache = build_cache(scan, 28, 1)
    gone = [p for p in scan.problems if p.path.endswith("good_2")]
    assert gone and gone[0].kind == P.UNREADABLE_FOLDER and "disappeared" in gone[0].message
    assert cache.num_classes == 3 and cache.image_count == 8


def test_files_changing_between_scan_and_decode(tmp_path):
    make_good_classes(tmp_path, classes=3, images=4)
    scan = scan_datasets([tmp_path])
    (tmp_path / "good_0" / "img_0.png").unlink()
    (tmp_path / "good_0" / "img_1.png").write_bytes(b"\x89PNG\r\n")
    os.unlink(tmp_path / "good_0" / "img_2.png")
    os.mkfifo(tmp_path / "good_0" / "img_2.png")  # became a pipe: reading it must not block
    with open(tmp_path / "good_1" / "img_0.png", "r+b") as handle:
        handle.truncate(70 * 2**20)  # grew past any image's size
    shutil.rmtree(tmp_path / "good_2")
    started = time.monotonic()
    cache = build_cache(scan, 28, 1)
    assert time.monotonic() - started < 10
    messages = {p.path.replace(str(tmp_path) + "/", ""): p.message for p in cache.problems}
    assert "it disappeared" in messages["good_0/img_0.png"] and "it disappeared" in messages["good_2/img_0.png"]
    assert "damaged" in messages["good_0/img_1.png"]
    assert "not a regular file" in messages["good_0/img_2.png"]
    assert "grew beyond 64 MiB" in messages["good_1/img_0.png"]
    assert "no image of this class could be read" in messages["good_2"]
    assert cache.num_classes == 2 and cache.image_count == 1 + 3


def test_whole_dataset_gone_before_decoding_is_one_clear_error(tmp_path):
    from workbench.training.prepare_data import prepare_data
    from workbench.runs.config import RunConfig

    make_good_classes(tmp_path / "data", classes=3, images=3)
    config = RunConfig(data=[str(tmp_path / "data")], ways=2, shots=1, queries=1)
    steps = prepare_data(config)
    next(steps)  # scanned
    shutil.rmtree(tmp_path / "data")
    with pytest.raises(DataError, match="No usable classes"):
        for _ in steps:
            pass


def test_nothing_in_the_corpus_escapes_as_an_exception(tmp_path):
    """All file cases in one folder, decoded together at two sizes and both channel counts."""
    from tests.robustness.corpus import make_corpus_dataset

    root, paths = make_corpus_dataset(tmp_path)
    scan = scan_datasets([root])
    for size, channels in ((16, 1), (32, 3)):
        cache = build_cache(scan, size, channels)
        assert cache.images.shape[1:] == (channels, size, size)
        bad = {c.name for c in FILE_CASES if c.kind}
        reported = {name for name, path in paths.items() if problems_about(cache.problems, path)}
        assert reported == bad
        assert np.isfinite(cache.images.float().numpy()).all()
