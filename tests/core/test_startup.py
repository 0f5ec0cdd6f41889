"""Headless start-up: listing algorithms, help and argument errors never import torch.

The built-ins are listed from the catalogue in the cache folder (see workbench/catalogue/builtin_catalogue.py);
these tests give it a cache folder of their own, so the first run builds the file and the next reads it.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs main.py in this interpreter, then says which heavy modules it imported.
PROBE = textwrap.dedent("""
    import runpy, sys
    sys.argv, code = ['main.py', *sys.argv[1:]], 0
    try:
        runpy.run_path('main.py', run_name='__main__')
    except SystemExit as exit:
        code = exit.code
    heavy = sorted(m for m in ('torch', 'torchvision', 'numpy', 'PIL') if m in sys.modules)
    sys.stderr.write('\\nHEAVY ' + ' '.join(heavy) + '\\n')
    sys.exit(code)
""")


def probe(*args, env):
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, **env})
    heavy = result.stderr.rsplit("HEAVY", 1)[-1].split()
    return result, heavy


@pytest.fixture
def cache_env(tmp_path):
    return {"WORKBENCH_CACHE_DIR": str(tmp_path / "cache")}


def test_listing_algorithms_imports_no_torch_once_the_catalogue_exists(cache_env, tmp_path):
    first, _ = probe("algorithms", "--json", env=cache_env)  # builds the catalogue (imports everything once)
    assert first.returncode == 0 and len(list((tmp_path / "cache").glob("builtin-algorithms-*.json"))) == 1
    listed, heavy = probe("algorithms", "--json", env=cache_env)
    assert heavy == [], listed.stderr
    names = {a["name"] for a in json.loads(listed.stdout)}
    assert {"protonet", "maml", "anil", "example_cosine"} <= names  # built-ins and the (declared) example plugin
    assert json.loads(listed.stdout) == json.loads(first.stdout)
    _, heavy = probe("algorithms", env=cache_env)
    assert heavy == []
    _, heavy = probe("plugins", "--json", env=cache_env)
    assert heavy == []


@pytest.mark.parametrize("args", [("--help",), ("train", "--help"), ("adapt", "--help"), ("train", "--ways", "five")])
def test_help_and_argument_errors_import_no_torch(cache_env, args):
    result, heavy = probe(*args, env=cache_env)
    assert heavy == [], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_stale_or_damaged_catalogue_is_rebuilt(cache_env, tmp_path):
    good = json.loads(probe("algorithms", "--json", env=cache_env)[0].stdout)
    (cache,) = (tmp_path / "cache").glob("builtin-algorithms-*.json")
    data = json.loads(cache.read_text())
    data["fingerprint"] = "from another version"
    data["algorithms"] = [{"name": "ghost", "title": "", "summary": "", "module": "", "hyperparameters": []}]
    cache.write_text(json.dumps(data))
    assert json.loads(probe("algorithms", "--json", env=cache_env)[0].stdout) == good
    cache.write_text("{half a file")
    assert json.loads(probe("algorithms", "--json", env=cache_env)[0].stdout) == good


def test_the_catalogue_describes_the_classes_exactly():
    from workbench import catalogue
    from workbench.algorithms import registry
    from workbench.catalogue import builtin_catalogue

    built = builtin_catalogue.build()
    classes = catalogue.available()
    assert {item["name"] for item in built.algorithms} <= set(classes)
    for item in built.algorithms:
        assert item == registry.describe(classes[item["name"]])
    from workbench.models.backbones import backbone_names

    assert set(built.backbones) <= set(backbone_names()) and "conv4" in built.backbones


def test_a_declared_plugin_whose_class_fails_is_one_sentence(tmp_path, cache_env):
    folder = tmp_path / "lazy"
    (folder / "lazy_plugin").mkdir(parents=True)
    (folder / "lazy_plugin" / "__init__.py").write_text(textwrap.dedent("""
        from workbench.algorithms.registry import declare
        declare("lazy_one", "Lazy", "Declared; its class cannot be imported.", (), "lazy_plugin_missing_module:Nope")
    """))
    env = {**cache_env, "WORKBENCH_PLUGIN_PATH": str(folder)}
    listed, _ = probe("algorithms", "--json", env=env)
    assert "lazy_one" in {a["name"] for a in json.loads(listed.stdout)}
    result, _ = probe("train", "--data", str(tmp_path), "--algorithm", "lazy_one", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: The algorithm 'lazy_one' could not be loaded" in result.stderr
