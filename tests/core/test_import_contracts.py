"""The layers hold: `lint-imports` checks the contracts in pyproject.toml (imports point down the
layers, no circles inside a package, no Qt outside workbench/gui)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), "import-linter is part of the test extras: pip install -e '.[test]'"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_a_layer_importing_upwards_breaks_the_contract(tmp_path):
    """The contract can fail: the same check over a copy where the data layer imports training."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "workbench", copy / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    splits = copy / "workbench" / "data" / "splits.py"
    splits.write_text(splits.read_text(encoding="utf-8") + "\nimport workbench.training.runner\n", encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert "Imports point down the layers BROKEN" in result.stdout
