import os
import tempfile

import pytest

from tests.synthetic import OMNIGLOT_SMALL1, make_glyph_dataset

# Tests never read or write the user's own settings (plugin folders etc.): a fresh config folder per session,
# inherited by the CLI subprocesses the tests start.
os.environ["WORKBENCH_CONFIG_DIR"] = tempfile.mkdtemp(prefix="workbench-test-config-")
# The suite exercises the example plugins, which a person's default settings leave off
# (tests/core/test_plugins.py checks that default with a settings folder of its own).
with open(os.path.join(os.environ["WORKBENCH_CONFIG_DIR"], "plugins.json"), "w", encoding="utf-8") as _settings:
    _settings.write('{"project_folder": true}\n')
os.environ.pop("WORKBENCH_PLUGIN_PATH", None)
os.environ.pop("WORKBENCH_NO_PLUGINS", None)


@pytest.fixture
def glyphs(tmp_path_factory):
    """A fresh dataset of 2 groups x 6 glyph classes x 8 PNG images."""
    return make_glyph_dataset(tmp_path_factory.mktemp("glyphs"))


@pytest.fixture(scope="session")
def glyphs_shared(tmp_path_factory):
    """The same kind of dataset, shared read-only across a session (bigger, for training)."""
    return make_glyph_dataset(tmp_path_factory.mktemp("glyphs_shared"), groups=3, classes_per_group=8, images_per_class=10)


@pytest.fixture
def omniglot_small1():
    if not OMNIGLOT_SMALL1.exists():
        pytest.skip(f"Omniglot data not found at {OMNIGLOT_SMALL1} (../shared/data/omniglot is absent)")
    return OMNIGLOT_SMALL1
