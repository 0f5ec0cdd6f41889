"""JSON nested without end (`[[[[...]]]]`, 200 KB) in every file the workbench reads from elsewhere: each
reader gives its usual sentence for a file that is not valid JSON, naming the file, never a RecursionError."""

from __future__ import annotations

import json

import pytest

from tests.robustness.helpers import cli
from workbench.catalogue import builtin_catalogue
from workbench.catalogue.plugin_settings import PluginSettings
from workbench.data.episode_file import read_episode_file
from workbench.errors import ConfigError, DataError, RunFolderError
from workbench.files import JSON_DEPTH_LIMIT, parse_json
from workbench.inspect.evaluation import EVALUATION_FILE, load_inspection
from workbench.labelling.session import LabellingError
from workbench.labelling.session_file import load_session
from workbench.projects.project import ProjectError, load_project
from workbench.runs.fingerprint import FILE_NAME as FINGERPRINT_FILE
from workbench.runs.fingerprint import read_fingerprint
from workbench.runs.folder import RunFolder

DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB, far past the interpreter's stack


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_past_the_bound_is_malformed_json_even_where_the_parser_would_cope():
    assert parse_json(nested(JSON_DEPTH_LIMIT)) is not None  # as deep as allowed
    json.loads(nested(JSON_DEPTH_LIMIT + 50))  # the plain parser takes it, and code walking it might not
    for text in (nested(JSON_DEPTH_LIMIT + 1), nested(JSON_DEPTH_LIMIT + 50), DEEP,
                 '{"a": ' * 5000 + "1" + "}" * 5000):
        with pytest.raises(json.JSONDecodeError, match=f"nested more than {JSON_DEPTH_LIMIT} levels deep"):
            parse_json(text)
    assert parse_json('{"text": "' + "[" * 5000 + '"}') == {"text": "[" * 5000}  # brackets in text are text


def write(path, text=DEEP):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


READERS = {
    "labelling session": (lambda p: load_session(write(p / "s.labels.json")), LabellingError, "not a valid session file"),
    "project": (lambda p: load_project(write(p / "p.fswproj")), ProjectError, "is damaged: it is not valid JSON"),
    "episode file": (lambda p: read_episode_file(str(write(p / "episodes.json"))), DataError, "not a readable JSON file"),
    "plugin settings": (lambda p: PluginSettings.load(write(p / "plugins.json")), ConfigError, "cannot be read"),
    "status.json": (lambda p: RunFolder(p).read_status() if write(p / "status.json") else None, RunFolderError,
                    "is damaged (not valid JSON"),
    "config.json": (lambda p: RunFolder(p).read_config() if write(p / "config.json") else None, RunFolderError,
                    "is damaged (not valid JSON"),
    "environment.json": (lambda p: RunFolder(p).read_environment() if write(p / "environment.json") else None,
                         RunFolderError, "is damaged (not valid JSON"),
    "evaluation": (lambda p: load_inspection(p) if write(p / EVALUATION_FILE) else None, RunFolderError, "cannot be read"),
    "fingerprint": (lambda p: read_fingerprint(p) if write(p / FINGERPRINT_FILE) else None, RunFolderError, "is damaged"),
}


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_calls_deep_json_damaged_and_names_the_file(tmp_path, reader):
    read, error, words = READERS[reader]
    with pytest.raises(error) as raised:
        read(tmp_path)
    message = str(raised.value)
    named = [p.name for p in tmp_path.iterdir()]
    assert words in message and any(name in message for name in named), message
    assert "nested more than" in message and "Recursion" not in message


def test_a_deep_calibration_costs_only_the_calibration(tmp_path):
    write(tmp_path / "calibration.json")
    assert RunFolder(tmp_path).read_calibration() == {"temperatures": {}, "powers": {}}


def test_a_deep_catalogue_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    write(tmp_path / builtin_catalogue.CACHE_FILE)
    assert builtin_catalogue._read(builtin_catalogue.fingerprint()) is None  # rebuilt, not a crash


def test_commands_reading_a_deep_run_file_say_which_file(tmp_path):
    write(tmp_path / "run" / "config.json")
    result = cli("evaluate", tmp_path / "run")
    assert result.returncode == 2 and "unexpected failure" not in result.stderr, result.stderr
    assert f"{tmp_path / 'run' / 'config.json'} is damaged (not valid JSON" in result.stderr
    config = tmp_path / "config"
    write(config / "plugins.json")
    result = cli("plugins", env={"WORKBENCH_CONFIG_DIR": str(config)}, process=True)
    assert result.returncode == 0 and "warning: The plugin settings file" in result.stderr, result.stderr


@pytest.mark.gui
def test_a_folder_whose_autosave_is_deep_json_opens_and_the_file_is_kept(window, tmp_path):
    from tests.gui.conftest import make_flat_folder
    from workbench.gui.labelling.autosave import AUTOSAVE_NAME

    folder = make_flat_folder(tmp_path / "images", 4)
    write(folder / AUTOSAVE_NAME)
    window.tabs.setCurrentWidget(window.label_page)
    page = window.label_page
    page.open_folder(str(folder))
    assert page.session is not None and page.session.folder == str(folder.resolve())
    assert len(page.session.images) == 4 and not page.session.labels
    assert page.ui.banner.level == "warning" and "could not be read" in page.ui.banner.text
    kept = folder / (AUTOSAVE_NAME + ".unreadable")
    assert kept.read_text() == DEEP and not (folder / AUTOSAVE_NAME).exists()  # nothing lost, nothing replaced
