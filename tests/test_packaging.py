"""`pip install .` gives a working `workbench` command: a wheel built from the repository, installed into a fresh
virtual environment, runs its subcommands and finds the style sheet and the example plugin inside the package."""

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "workbench", "plugins", "resources")


def run(*args, cwd, timeout=300, env=None):
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path):
    # Build from a copy, so the build leaves no build/ or egg-info behind in the repository.
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "screenshots"))
        else:
            shutil.copy2(path, source / name)
    run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist",
        cwd=source)
    (wheel,) = (tmp_path / "dist").glob("fewshot_workbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "workbench/_resources/style.qss" in names
    assert {"workbench/_plugins/cosine_prototypes/__init__.py", "workbench/_plugins/cosine_prototypes/method.py"} <= set(names)
    assert "workbench/cli/__init__.py" in names and "workbench/export/adapted.py" in names
    assert {f"workbench/_resources/models/drawings/{f}" for f in ("config.json", "model.pt", "calibration.json",
                                                                  "provenance.json")} <= set(names)
    assert not any("tests/" in n or "screenshots" in n for n in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    # torch and the rest come from this interpreter's site-packages (no download), added as plain paths:
    # their .pth files are not run, so an editable install of the repository there stays out of the way.
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip())
    (purelib / "outer_site_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WORKBENCH_PLUGIN_PATH")}
    elsewhere = tmp_path / "elsewhere"  # not the repository: nothing can be found by accident
    elsewhere.mkdir()
    command = venv / "bin" / "workbench"
    help_text = run(command, "--help", cwd=elsewhere, env=env).stdout
    assert help_text.startswith("usage: workbench")
    for sub in ("train", "evaluate", "adapt", "export", "table", "algorithms", "plugins", "gui"):
        assert sub in help_text
    listed = {a["name"]: a for a in json.loads(run(command, "algorithms", "--json", cwd=elsewhere, env=env).stdout)}
    assert {"protonet", "maml", "example_cosine"} <= set(listed)
    assert "site-packages" in run(python, "-c", "import workbench; print(workbench.__file__)", cwd=elsewhere, env=env).stdout
    report = json.loads(run(command, "plugins", "--json", cwd=elsewhere, env=env).stdout)
    (example,) = [p for p in report["plugins"] if p["name"] == "cosine_prototypes"]
    assert example["loaded"] and "_plugins" in example["origin"] and str(ROOT) not in example["origin"]
    style = run(python, "-c", "from workbench.resources import resource_path; p = resource_path('style.qss');"
                "print(p.is_file(), p)", cwd=elsewhere, env=env).stdout
    assert style.startswith("True") and "_resources" in style
    # The built-in model labels images with no run trained, from inside the package and offline.
    from tests.synthetic import make_glyph_dataset

    support = make_glyph_dataset(tmp_path / "support", groups=1, classes_per_group=3, images_per_class=2)
    query = make_glyph_dataset(tmp_path / "query", groups=1, classes_per_group=3, images_per_class=2)
    adapted = run(command, "adapt", "--support", support / "group_0", "--query", query, "--json", cwd=elsewhere, env=env)
    assert len(json.loads(adapted.stdout)) == 6
