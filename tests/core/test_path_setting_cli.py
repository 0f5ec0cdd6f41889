"""A file setting given on the command line: `--set backbone_weights=PATH`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_weights_file_that_is_not_there_is_one_clear_line(glyphs_shared, tmp_path):
    missing = tmp_path / "resnet18-f37072fd.pth"
    result = subprocess.run(
        [sys.executable, "main.py", "train", "--data", str(glyphs_shared), "--algorithm", "siamese",
         "--set", "backbone=resnet18_imagenet", "--set", f"backbone_weights={missing}", "--out", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "'backbone_weights' of siamese must name an existing file" in last
    assert str(missing) in last
    assert not (tmp_path / "run").exists()
