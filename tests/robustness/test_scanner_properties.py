"""Property: any folder tree, however odd, scans without raising and every file is accounted for exactly once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.corpus import good_bytes
from workbench.data import problems as P
from workbench.data.cache import build_cache
from workbench.data.sources import IMAGE_EXTENSIONS, scan_datasets

GOOD_PNG = good_bytes("PNG")
GOOD_JPG = good_bytes("JPEG")
FILE_KINDS = {
    "good.png": GOOD_PNG,
    "good.jpg": GOOD_JPG,
    "zero.png": b"",
    "text.png": b"plain text",
    "half.png": GOOD_PNG[: len(GOOD_PNG) // 2],
    "notes.txt": b"notes",
    "noext": b"\x00\x01",
}
LINK_KINDS = ("loop-link", "broken-link")

names = st.text(alphabet=st.sampled_from("abcXYZ019 _-.é漢ñ🙂"), min_size=1, max_size=8).filter(
    lambda n: n not in (".", "..") and not n.endswith(" ") and not n.startswith(" "))
leaf = st.sampled_from(sorted(FILE_KINDS) + list(LINK_KINDS))
trees = st.recursive(
    st.dictionaries(names, leaf, max_size=5),
    lambda children: st.dictionaries(names, st.one_of(leaf, children), max_size=4),
    max_leaves=25,
)


def build(root: Path, tree: dict, top: Path) -> None:
    for name, item in tree.items():
        path = root / name
        if isinstance(item, dict):
            path.mkdir()
            build(path, item, top)
        elif item == "loop-link":
            path.symlink_to(top, target_is_directory=True)
        elif item == "broken-link":
            path.symlink_to(root / "does-not-exist.png")
        else:
            stem = Path(item)
            path = root / (name + stem.suffix) if stem.suffix else path
            if not path.exists():
                path.write_bytes(FILE_KINDS[item])


def expected_image_files(top: Path) -> set[str]:
    """Every regular file with an image extension reachable without following links or hidden names."""
    found = set()
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(folder) / name
            if not name.startswith(".") and not path.is_symlink() and path.suffix.lower() in IMAGE_EXTENSIONS:
                found.add(str(path))
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_any_tree_scans_and_every_file_is_accounted_for(tree):
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "data"
        top.mkdir()
        build(top, tree, top)
        scan = scan_datasets([top])  # must never raise for an existing folder
        refs = [str(Path(ref.source) / ref.member) for entry in scan.classes for ref in entry.images]
        assert len(refs) == len(set(refs)) == scan.image_count
        assert len({c.key for c in scan.classes}) == len(scan.classes)
        assert all(entry.images for entry in scan.classes)
        # Each image file is in exactly one class, the one named by its folder.
        assert set(refs) == expected_image_files(top)
        for entry in scan.classes:
            for ref in entry.images:
                folder = Path(ref.member).parent.as_posix()
                assert entry.key == (folder if folder != "." else top.name)
        cache = build_cache(scan, 16, 1)
        unreadable = [p for p in cache.problems if p.kind == P.UNREADABLE and p.path in set(refs)]
        assert cache.image_count + len(unreadable) == scan.image_count
        assert cache.num_classes <= len(scan.classes)
        assert all(len(rows) > 0 for rows in cache.class_images)
        for problem in cache.problems:
            text = str(problem)
            assert "\n" not in text
            text.encode("utf-8")
