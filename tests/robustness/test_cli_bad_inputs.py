"""`main.py train` on messy data: it trains on the usable rest and lists every problem, or stops with one line."""

from __future__ import annotations

import os
import zipfile

from tests.robustness.corpus import FILE_CASES, good_bytes, make_corpus_dataset, make_good_classes, make_zip_bomb
from tests.robustness.helpers import cli, last_line
from workbench.data.problems import printable
from workbench.runs.folder import RunFolder

COMMON = ["--ways", 2, "--queries", 1, "--image-size", 16, "--steps", 2, "--val-every", 2, "--val-episodes", 1,
          "--device", "cpu", "--val-fraction", 0, "--test-fraction", 0]


def test_training_on_the_whole_corpus_uses_the_rest_and_lists_every_problem(tmp_path):
    root, paths = make_corpus_dataset(tmp_path / "data")
    # Whole-tree oddities in the same dataset.
    (root / "good_0" / "loop").symlink_to(root, target_is_directory=True)
    (root / "good_1" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (root / "a" / "b" / "empty").mkdir(parents=True)
    os.mkfifo(root / "good_2" / "pipe.png")
    with open(root / "good_3" / "huge.png", "wb") as handle:
        handle.truncate(65 * 2**20)
    result = cli("train", "--data", root, "--out", tmp_path / "run", *COMMON)
    assert result.returncode == 0, result.stderr
    assert RunFolder(tmp_path / "run").read_status()["status"] == "completed"
    listed = (tmp_path / "run" / "data_problems.txt").read_text(encoding="utf-8").splitlines()
    for case in FILE_CASES:
        shown = printable(str(paths[case.name]))
        hits = [line for line in listed if line.startswith(shown + ":")]
        assert len(hits) == (1 if case.kind else 0), (case.name, hits)
    for words in ("symlink loop", "gone.png: broken link", "empty: folder has no images", "pipe.png: not a regular file",
                  "huge.png: file is 65 MiB"):
        assert any(words in line for line in listed), words
    assert "warning:" in result.stderr and "more data problems (all in data_problems.txt)" in result.stderr


def test_training_on_a_zip_with_slip_and_bomb_uses_the_rest_within_a_cache_cap(tmp_path):
    archive = make_zip_bomb(tmp_path / "data.zip", expanded_mib=70)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("data/../../../escape.png", good_bytes())
    result = cli("train", "--data", archive, "--out", tmp_path / "run", "--cache-mb", 0.001, *COMMON)
    assert result.returncode == 0, result.stderr
    listed = (tmp_path / "run" / "data_problems.txt").read_text()
    assert "bomb.png: expands to 70 MiB" in listed and "escape.png: path leaves the zip's folder" in listed
    assert RunFolder(tmp_path / "run").read_config().max_cache_mb == 0.001


def test_a_single_class_stops_with_one_line(tmp_path):
    make_good_classes(tmp_path / "data", classes=1, images=5)
    result = cli("train", "--data", tmp_path / "data", "--out", tmp_path / "run", *COMMON)
    assert result.returncode == 2
    assert last_line(result).startswith("error: Only 1 usable classes")
    assert not (tmp_path / "run").exists()


def test_a_damaged_zip_stops_with_one_line(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("d/a/x.png", good_bytes())
    archive.write_bytes(archive.read_bytes()[:30])
    result = cli("train", "--data", archive, "--out", tmp_path / "run", *COMMON)
    assert result.returncode == 2
    assert last_line(result).startswith("error: ") and "data.zip" in last_line(result)
