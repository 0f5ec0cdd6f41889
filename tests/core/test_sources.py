"""Scanning folders and zips: classes, groups, and problems reported in words."""

import zipfile

import pytest
from PIL import Image

from workbench.data import problems as P
from workbench.data.cache import build_cache
from workbench.data.sources import scan_datasets
from workbench.errors import DataError


def kinds(problems):
    return [p.kind for p in problems]


def test_leaf_folders_are_classes_and_parents_are_groups(glyphs):
    scan = scan_datasets([glyphs])
    assert len(scan.classes) == 12
    assert scan.groups == ["group_0", "group_1"]
    first = scan.classes[0]
    assert first.key == "group_0/class_00" and first.group == "group_0" and len(first.images) == 8
    assert scan.problems == []


def test_zip_of_a_folder_scans_like_the_folder(glyphs, tmp_path):
    archive = tmp_path / "glyphs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(glyphs.rglob("*.png")):
            zf.write(path, "glyphs/" + path.relative_to(glyphs).as_posix())
    from_zip = scan_datasets([archive])
    from_folder = scan_datasets([glyphs])
    assert [c.key for c in from_zip.classes] == [c.key for c in from_folder.classes]
    cache = build_cache(from_zip, 28, 1)
    assert cache.images.shape == (96, 1, 28, 28)


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        scan_datasets([tmp_path / "nowhere"])


def test_a_plain_file_is_not_a_dataset(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="neither a folder nor a .zip"):
        scan_datasets([path])


def test_bad_files_become_problems_and_the_rest_is_used(glyphs):
    broken = glyphs / "group_0" / "class_00"
    (broken / "zero.png").write_bytes(b"")
    (broken / "text.png").write_text("this is not a picture")
    good = (broken / "img_00.png").read_bytes()
    (broken / "truncated.png").write_bytes(good[: len(good) // 2])
    (broken / "readme.txt").write_text("notes")
    (glyphs / "group_1" / "empty_class").mkdir()
    scan = scan_datasets([glyphs])
    assert P.NOT_AN_IMAGE in kinds(scan.problems)
    empty = [p for p in scan.problems if p.kind == P.EMPTY_CLASS]
    assert empty and "empty_class" in empty[0].path and "no images" in empty[0].message
    cache = build_cache(scan, 28, 1)
    unreadable = {p.path.rsplit("/", 1)[-1]: p.message for p in cache.problems if p.kind == P.UNREADABLE}
    assert set(unreadable) == {"zero.png", "text.png", "truncated.png"}
    assert "empty file" in unreadable["zero.png"]
    assert cache.images.shape[0] == 96  # every good image kept
    assert all(str(p) for p in cache.problems)


def test_zip_member_climbing_out_is_skipped(tmp_path, glyphs):
    archive = tmp_path / "evil.zip"
    image = (glyphs / "group_0" / "class_00" / "img_00.png").read_bytes()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/a/one.png", image)
        zf.writestr("data/b/two.png", image)
        zf.writestr("../../escape/evil.png", image)
    scan = scan_datasets([archive])
    assert P.UNSAFE_PATH in kinds(scan.problems)
    assert all(".." not in ref.member for c in scan.classes for ref in c.images)


def test_combining_datasets_merges_the_same_class(glyphs, tmp_path):
    copy = tmp_path / "copy"
    for path in glyphs.rglob("*.png"):
        target = copy / path.relative_to(glyphs)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    extra = copy / "group_9" / "class_new"
    extra.mkdir(parents=True)
    Image.new("L", (28, 28), 0).save(extra / "a.png")
    scan = scan_datasets([glyphs, copy])
    assert len(scan.classes) == 13
    assert scan.image_count == 97
    assert P.DUPLICATE_CLASS in kinds(scan.problems)


def test_symlink_loop_does_not_hang(glyphs):
    (glyphs / "group_0" / "loop").symlink_to(glyphs, target_is_directory=True)
    scan = scan_datasets([glyphs])
    assert len(scan.classes) == 12


def _many_files(root, classes=30, images=40):
    """Enough files for the scan to report progress; the scan only lists, so the bytes need not decode."""
    for c in range(classes):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True)
        for i in range(images):
            (folder / f"{i:03d}.png").write_bytes(b"\x89PNG")
    return root


def test_scan_reports_images_found_as_it_walks(tmp_path):
    root = _many_files(tmp_path / "many")
    reports = []
    scan = scan_datasets([root], progress=lambda found, total: reports.append((found, total)))
    assert scan.image_count == 1200
    found = [f for f, _ in reports]
    assert found and found == sorted(found) and found[-1] == 1200
    assert {t for _, t in reports} == {0}  # the total is not known while walking


def test_scan_stops_when_cancelled(tmp_path):
    from workbench.data.sources import ScanCancelled

    root = _many_files(tmp_path / "many")
    asked = []

    def cancelled():
        asked.append(1)
        return len(asked) > 5  # the caller changes its mind part-way through

    with pytest.raises(ScanCancelled):
        scan_datasets([root], cancelled=cancelled)
    assert len(asked) == 6  # it stopped at the first check after the request


def test_zip_scan_stops_when_cancelled(tmp_path):
    from workbench.data.sources import ScanCancelled

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(2500):
            zf.writestr(f"d/c{i % 5}/{i}.png", b"\x89PNG")
    assert scan_datasets([archive]).image_count == 2500
    with pytest.raises(ScanCancelled):
        scan_datasets([archive], cancelled=lambda: True)
