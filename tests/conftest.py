import os
import tempfile

# Under pytest-xdist (`make test` runs one worker per core) each worker computes on one thread, and so
# does every command it starts: workers that each asked for every core would fight over them. Set
# before torch is first imported, which reads these once.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = "1"

import pytest  # noqa: E402

from tests.synthetic import OMNIGLOT_SMALL1, make_glyph_dataset

# Tests never read or write the user's own settings (plugin folders etc.): a fresh config folder per session,
# inherited by the CLI subprocesses the tests start.
os.environ["WORKBENCH_CONFIG_DIR"] = tempfile.mkdtemp(prefix="workbench-test-config-")
# Nor the user's caches (the plugin catalogue, the pretrained network's features by image).
os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="workbench-test-cache-")
# Nor the user's trash: a run deleted on the Runs page goes to $XDG_DATA_HOME/Trash (read once, when the trash
# library is first imported).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="workbench-test-data-")
# The suite exercises the example plugins, which a person's default settings leave off
# (tests/core/test_plugins.py checks that default with a settings folder of its own).
with open(os.path.join(os.environ["WORKBENCH_CONFIG_DIR"], "plugins.json"), "w", encoding="utf-8") as _settings:
    _settings.write('{"project_folder": true}\n')
os.environ.pop("WORKBENCH_PLUGIN_PATH", None)
os.environ.pop("WORKBENCH_NO_PLUGINS", None)
# A finished run fits its confidence calibration on 50 validation episodes, most of a tiny test run's time;
# the tests check that the fit is made and used, not how good it is, so a few episodes do (commands inherit it).
os.environ["WORKBENCH_CALIBRATION_EPISODES"] = "10"


@pytest.fixture
def glyphs(tmp_path_factory):
    """A fresh dataset of 2 groups x 6 glyph classes x 8 PNG images."""
    return make_glyph_dataset(tmp_path_factory.mktemp("glyphs"))


@pytest.fixture(scope="session")
def glyphs_shared(tmp_path_factory):
    """The same kind of dataset, shared read-only across a session (bigger, for training)."""
    return make_glyph_dataset(tmp_path_factory.mktemp("glyphs_shared"), groups=3, classes_per_group=8, images_per_class=10)


@pytest.fixture(scope="session")
def cli_protonet_run(glyphs_shared, tmp_path_factory):
    """A short ProtoNet run trained through `main.py train` (rotations, meta-batch 2, group 2 held out), once per
    worker for the modules that test commands on a trained run; each module takes a copy (tests/shared_runs.py)."""
    from tests.headless import main_py

    run = tmp_path_factory.mktemp("cli-protonet") / "run"
    result = main_py("train", "--data", glyphs_shared, "--algorithm", "protonet", "--ways", 3, "--shots", 1, "--queries", 3,
                     "--image-size", 28, "--steps", 10, "--out", run, "--channels", 1, "--seed", 1, "--device", "cpu",
                     "--split", "group", "--test-groups", "group_2", "--val-fraction", 0.25, "--val-every", 5,
                     "--val-episodes", 5, "--set", "lr=0.002", "--rotations", "--meta-batch", 2)
    assert result.returncode == 0, result.stderr
    return run


@pytest.fixture
def omniglot_small1():
    if not OMNIGLOT_SMALL1.exists():
        pytest.skip(f"Omniglot data not found at {OMNIGLOT_SMALL1} (../shared/data/omniglot is absent)")
    return OMNIGLOT_SMALL1


def pytest_collection_modifyitems(config, items):
    """Modules with a test marked slow run first: with one worker per core (`make test`), a long module
    started last would leave the other workers idle while it finishes. The sort is stable, so each
    module's tests stay together and in their written order."""
    slow_modules = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in slow_modules)
