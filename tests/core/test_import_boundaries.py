"""The core runs without Qt: nothing outside workbench/gui imports PySide6 or pyqtgraph."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import workbench

ROOT = Path(__file__).resolve().parents[2]


def core_modules():
    return [
        m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.")
        if not m.name.startswith("workbench.gui")
    ]


def test_core_modules_import_without_qt():
    modules = core_modules()
    assert "workbench.training.runner" in modules and "workbench.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "from workbench import catalogue; catalogue.available()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_headless_command_never_imports_qt():
    code = (
        "import sys, runpy\n"
        "sys.argv = ['main.py', 'algorithms', '--json']\n"
        "try:\n    runpy.run_path('main.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph'))\n"
        "sys.stderr.write(repr(bad)); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
