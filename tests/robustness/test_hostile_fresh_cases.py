"""A fresh round of hostile cases beyond the listed ones: sparse giants, files swapped for pipes and
devices in every place the workbench reads, litter in every folder it lists, numbers at the extremes."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
import torch

from tests.robustness.corpus import good_bytes, make_good_classes
from tests.robustness.helpers import tiny_dataset
from workbench import cli
from workbench.data.episode_file import read_episode_file
from workbench.data.sources import scan_datasets
from workbench.errors import ConfigError, DataError, RunFolderError, WorkbenchError
from workbench.labelling.session import list_images
from workbench.catalogue.plugin_settings import PluginSettings
from workbench.projects.project import ProjectError, load_project
from workbench.runs.folder import RunFolder
from workbench.runs.lock import RunLock
from workbench.runs.table import runs_table
from workbench.training.jobs import read_support_folder
from workbench.training.query_stream import QUERY_CHUNK
from workbench.weights import load_weights


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # takes no disk space: the size bound must refuse it before reading
    return path


def run_cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unexpected failure" not in err, err
    return code, err


def fake_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"data": [str(tmp_path)], "algorithm": "protonet"}))
    (run / "status.json").write_text(json.dumps({"status": "completed", "message": "", "step": 1}))
    (run / "metrics.csv").write_text("step,phase,loss,accuracy,ci95,episodes_per_s,elapsed_s\n")
    return run


# --- giants that take no disk space -----------------------------------------------------------
def test_a_sparse_giant_episode_file_is_refused_from_its_size(tmp_path):
    with pytest.raises(DataError, match=r"1024 MiB, more than the 256 MiB a fixed-episode file may be"):
        read_episode_file(str(sparse(tmp_path / "e.json", 2**30)))


def test_a_sparse_giant_project_file_is_refused_from_its_size(tmp_path):
    with pytest.raises(ProjectError, match="more than the 16 MiB a project file may be"):
        load_project(sparse(tmp_path / "p.fswproj", 2**30))


def test_a_sparse_giant_weights_file_is_refused_before_reading(tmp_path):
    with pytest.raises(WorkbenchError, match="more than the 8192 MiB a weights file may be"):
        load_weights(sparse(tmp_path / "model.pt", 9 * 2**30))


def test_a_sparse_giant_status_file_leaves_the_table_with_a_warning(tmp_path):
    run = fake_run(tmp_path)
    (run / "status.json").unlink()
    sparse(run / "status.json", 2**31)
    with pytest.raises(ConfigError, match="status.json is 2048 MiB, more than the 16 MiB.*Left out"):
        runs_table([str(run)], "markdown")


# --- special files everywhere the workbench reads ---------------------------------------------
def test_a_config_json_that_is_a_link_to_dev_zero_is_refused(tmp_path):
    run = fake_run(tmp_path)
    (run / "config.json").unlink()
    (run / "config.json").symlink_to("/dev/zero")
    with pytest.raises(RunFolderError, match="is a device"):
        RunFolder.open(run).read_config(check_algorithm=False)


def test_a_table_over_a_run_whose_metrics_are_a_pipe_warns_instead_of_hanging(tmp_path):
    run = fake_run(tmp_path)
    (run / "metrics.csv").unlink()
    os.mkfifo(run / "metrics.csv")
    with pytest.raises(ConfigError, match="metrics.csv is a named pipe, not a metrics file.*Left out"):
        runs_table([str(run)], "csv")


def test_a_plugin_settings_file_that_is_a_pipe_is_a_sentence(tmp_path):
    os.mkfifo(tmp_path / "plugins.json")
    with pytest.raises(ConfigError, match="named pipe"):
        PluginSettings.load(tmp_path / "plugins.json")


def test_backbone_weights_naming_a_device_are_refused(tmp_path):
    from workbench.models.backbones import load_weights_file

    with pytest.raises(ConfigError, match="is a device"):
        load_weights_file(torch.nn.Linear(2, 2), "/dev/zero", "conv4")


@pytest.mark.parametrize("make", ["folder", "fifo"])
def test_a_lock_file_replaced_by_a_folder_or_a_pipe_is_a_sentence_not_a_hang(tmp_path, make):
    (tmp_path / ".writer.lock").mkdir() if make == "folder" else os.mkfifo(tmp_path / ".writer.lock")
    with pytest.raises(RunFolderError, match="Cannot lock the run folder"):
        RunLock(tmp_path).acquire()


def test_data_that_is_a_link_to_nowhere_says_so(capsys, tmp_path):
    (tmp_path / "data").symlink_to(tmp_path / "moved-away")
    with pytest.raises(DataError, match="a link whose target is missing"):
        scan_datasets([tmp_path / "data"])


def test_the_same_zip_given_twice_is_read_once(tmp_path):
    archive = tmp_path / "d.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for c in ("a", "b"):
            zf.writestr(f"d/{c}/x.png", good_bytes())
    (tmp_path / "alias.zip").symlink_to(archive)
    scan = scan_datasets([archive, tmp_path / "alias.zip"])
    assert scan.image_count == 2 and any("given twice" in p.message for p in scan.problems)


# --- litter in every folder the workbench lists -----------------------------------------------
def test_litter_never_becomes_a_support_class(tmp_path):
    make_good_classes(tmp_path / "support", classes=2, images=2)
    for litter in ("@eaDir", "#recycle", "$RECYCLE.BIN"):
        (tmp_path / "support" / litter).mkdir()
        (tmp_path / "support" / litter / "x.png").write_bytes(good_bytes())
    (tmp_path / "support" / "good_0" / "@eaDir").mkdir()
    (tmp_path / "support" / "good_0" / "@eaDir" / "thumb.png").write_bytes(good_bytes())
    names, images, _, _ = read_support_folder(str(tmp_path / "support"), 16, 1)
    assert names == ["good_0", "good_1"] and len(images) == 4


def test_litter_never_becomes_an_image_to_label(tmp_path):
    (tmp_path / "a.png").write_bytes(good_bytes())
    (tmp_path / "@eaDir" / "a.png").mkdir(parents=True)
    (tmp_path / "@eaDir" / "a.png" / "SYNOPHOTO_THUMB_S.png").write_bytes(good_bytes())
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "a.png").write_bytes(good_bytes())
    assert list_images(tmp_path) == ["a.png"]


def test_a_query_folder_of_nothing_but_litter_is_one_sentence(capsys, tmp_path):
    from workbench.training.jobs import read_query_folder

    (tmp_path / "q" / "@eaDir").mkdir(parents=True)
    (tmp_path / "q" / "@eaDir" / "t.png").write_bytes(good_bytes())
    with pytest.raises(DataError, match="No readable images in the query folder"):
        read_query_folder(str(tmp_path / "q"), 16, 1)


def test_queries_are_read_a_chunk_at_a_time_and_give_what_one_batch_gives(tmp_path):
    from workbench.training.query_stream import decoded_chunks, query_paths

    query = tmp_path / "q"
    query.mkdir()
    count = QUERY_CHUNK * 2 + 5
    for i in range(count):
        (query / f"{i:04d}.png").write_bytes(good_bytes())
    (query / "bad.png").write_bytes(b"not an image")
    files, _ = query_paths(str(query))
    chunks = list(decoded_chunks(files, 16, 1))
    assert max(len(images) for _, images, _ in chunks) <= QUERY_CHUNK
    assert sum(len(paths) for paths, _, _ in chunks) == count
    assert sum(len(problems) for _, _, problems in chunks) == 1


# --- numbers at the extremes ------------------------------------------------------------------
@pytest.mark.parametrize("option, value", [("--steps", 10**12), ("--image-size", 100_000), ("--ways", 10**6),
                                           ("--val-fraction", 1), ("--test-fraction", -0.1), ("--shots", 10**9),
                                           ("--cache-mb", "1e308"), ("--time-limit", "-inf")])
def test_train_numbers_far_out_of_range_are_refused(capsys, tmp_path, option, value):
    data = tiny_dataset(tmp_path / "data")
    code, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", f"{option}={value}")
    assert code == 2 and err.startswith(f"error: {option} must be"), err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args", [["--out", ""], ["--out", " "]])
def test_an_empty_output_path_is_a_sentence(capsys, tmp_path, args):
    code, err = run_cli(capsys, "table", str(tmp_path), *args)
    assert code == 2 and "is empty; give a path" in err, err
