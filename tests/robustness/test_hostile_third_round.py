"""A third round of hostile cases, each through `main.py` or the function it calls: signals in bursts,
outputs that vanish mid-way, two commands claiming one folder, URLs and moved data, lying locales."""

from __future__ import annotations

import json
from pathlib import Path
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.robustness.corpus import good_bytes, make_good_classes
from tests.robustness.helpers import ROOT, run_cli, signal_at_line, tiny_dataset, tiny_run
from tests.robustness.test_hostile_commands import start_training, wait_until_training
from workbench import cli
from workbench.data.splits import SplitSpec
from workbench.runs.folder import RunFolder

TRAIN = ["--ways", 2, "--queries", 1, "--image-size", 16, "--steps", 2, "--val-every", 2, "--val-episodes", 1,
         "--device", "cpu", "--precision", "fp32", "--val-fraction", 0.34, "--test-fraction", 0, "--quiet"]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A tiny run trained to measure (test classes held out) and its data."""
    root = tmp_path_factory.mktemp("measured")
    data = tiny_dataset(root / "data")
    run = tiny_run(data, root / "run", purpose="measure",
                   split=SplitSpec("class", val_fraction=0.34, test_fraction=0.34))
    return run, data


# --- signals -------------------------------------------------------------------------------------
def test_a_burst_of_ctrl_c_stops_training_cleanly_instead_of_deadlocking(tmp_path):
    # Before: the second SIGINT's handler waited for a lock the first one's held, in the same thread: a hang.
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    process = start_training(data, run)
    wait_until_training(run, process)
    for _ in range(500):  # a key held down: each press may land while the loop or a handler holds a lock
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGINT)
        time.sleep(0.002)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    status = RunFolder(run).read_status()
    assert status["status"] == "cancelled" and RunFolder(run).load_checkpoint()["step"] == status["step"]
    assert not list(run.rglob("*.tmp"))


def test_an_export_stopped_between_its_two_files_leaves_no_model_beside_an_older_class_list(capsys, measured,
                                                                                                tmp_path, monkeypatch):
    run, _ = measured
    out = tmp_path / "out" / "model.pt"
    out.parent.mkdir()
    out.write_bytes(b"an earlier export")
    (tmp_path / "out" / "model.pt.classes.json").write_text(json.dumps({"classes": ["cat", "dog"]}))
    support = tmp_path / "support"
    make_good_classes(support, classes=3, images=2, prefix="new")

    import workbench.atomic as atomic

    renames, rename = [], os.replace

    def ctrl_c_at_the_second_rename(source, target):
        renames.append(Path(target).name)
        if renames[-1] == "model.pt.classes.json":
            raise KeyboardInterrupt
        rename(source, target)

    # The model is in place, its class list not yet.
    monkeypatch.setattr(atomic.os, "replace", ctrl_c_at_the_second_rename)
    code, _, err = run_cli(capsys, "export", run, "--support", support, "--format", "torchscript", "--out", out)
    assert code == 130 and "interrupted" in err and renames[-2:] == ["model.pt", "model.pt.classes.json"]
    # Before: the new 3-class model sat beside the earlier 2-class list, labelling every image wrongly.
    assert not out.exists() and not list(out.parent.glob(".*.tmp"))


def test_sigterm_stops_an_export_like_ctrl_c_and_leaves_nothing_at_out(measured, tmp_path):
    run, _ = measured
    support = tmp_path / "support"
    make_good_classes(support, classes=2, images=2)
    out = tmp_path / "out" / "model.pt"
    process = subprocess.Popen([sys.executable, "main.py", "export", str(run), "--support", str(support), "--format",
                                "torchscript", "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _, err = signal_at_line(process, "adapting", signal.SIGTERM, timeout=60)
    assert "Traceback" not in err, err
    assert process.returncode == 128 + signal.SIGTERM and "stopped by SIGTERM" in err  # before: killed, silent
    assert not out.exists() and not (out.parent.exists() and list(out.parent.iterdir()))


# --- the standard output: closed, full, or unable to spell a letter ------------------------------
def shell(command: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and "unexpected failure" not in result.stderr, result.stderr
    return result


def test_results_for_a_closed_standard_output_are_refused_instead_of_silently_lost(capsys, measured, monkeypatch,
                                                                                    tmp_path):
    # Before: `algorithms >&-` printed into nothing and exited 0; `table` failed on a None stdout.
    result = shell(f"{sys.executable} main.py algorithms >&-")
    assert result.returncode == 2 and "standard output is closed, so the results would be lost" in result.stderr
    monkeypatch.setattr(sys, "stdout", None)
    code, _, err = run_cli(capsys, "table", measured[0])
    assert code == 2 and "standard output is closed" in err
    code, _, err = run_cli(capsys, "table", measured[0], "--out", tmp_path / "t.md")  # results go to a file: fine
    assert code == 0 and (tmp_path / "t.md").read_text().startswith("| Run")


def test_a_full_standard_output_is_one_sentence():
    result = shell(f"{sys.executable} main.py algorithms --json > /dev/full")
    assert result.returncode == 2  # before: "unexpected failure: OSError", exit 1
    assert result.stderr.strip() == ("error: Cannot write the results to the standard output: the disk is full; "
                                     "free some space or send them elsewhere.")


def test_a_locale_that_cannot_spell_the_table_escapes_letters_instead_of_failing(capsys, measured, monkeypatch):
    import io

    ascii_terminal = io.TextIOWrapper(io.BytesIO(), encoding="ascii")  # LANG=C with UTF-8 mode off, or latin-1
    monkeypatch.setattr(sys, "stdout", ascii_terminal)
    code = cli.main(["table", str(measured[0])])
    err = capsys.readouterr().err
    assert code == 0 and "unexpected failure" not in err, err  # before: UnicodeEncodeError on the "±"
    ascii_terminal.flush()
    assert "\\xb1" in ascii_terminal.buffer.getvalue().decode("ascii")


# --- what the command line names -----------------------------------------------------------------
@pytest.mark.parametrize("url", ["file:///srv/data", "https://example.com/omniglot.zip", "s3://bucket/images"])
def test_data_given_as_a_url_is_said_to_be_one_and_nothing_is_fetched(capsys, tmp_path, url):
    code, _, err = run_cli(capsys, "train", "--data", url, "--out", tmp_path / "run", *TRAIN)
    assert code == 2 and err.startswith(f"error: --data {url} is a URL;") and "download it first" in err, err
    assert not (tmp_path / "run").exists()  # before: "Dataset path not found", as if it were a missing folder


def test_a_hyperparameter_set_twice_with_two_values_is_refused(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", *TRAIN,
                           "--set", "lr=0.001", "--set", "lr=0.1")
    assert code == 2 and "--set lr is given twice, as '0.001' and '0.1'; give it once." in err  # before: 0.1, silently
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("pair, words", [("=5", "--set expects NAME=VALUE"), ("lr=", "must be a number, not ''"),
                                         ("nonesuch=1", "Unknown hyperparameter 'nonesuch'"),
                                         ("lr=1e-300", "must be in"), ("lr=1e300", "must be in")])
def test_odd_set_pairs_are_one_sentence(capsys, tmp_path, pair, words):
    data = tiny_dataset(tmp_path / "data")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", *TRAIN, "--set", pair)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err  # already right


def test_a_run_whose_data_moved_says_where_to_point_evaluate_and_resume(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    run = tiny_run(data, tmp_path / "run", purpose="measure",
                   split=SplitSpec("class", val_fraction=0.34, test_fraction=0.34))
    data.rename(tmp_path / "data-moved")
    code, _, err = run_cli(capsys, "evaluate", run, "--episodes", 2, "--device", "cpu")
    assert code == 2 and f"The run's data {data} is not there any more; give --data PATH" in err, err
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert code == 2 and "move it back there first" in err, err
    code, out, _ = run_cli(capsys, "evaluate", run, "--episodes", 2, "--device", "cpu", "--data", tmp_path / "data-moved")
    assert code == 0 and out.startswith("accuracy")
    run.rename(tmp_path / "run-renamed")  # the run folder itself moved: it names nothing of its own path
    code, out, _ = run_cli(capsys, "evaluate", tmp_path / "run-renamed", "--episodes", 2, "--device", "cpu",
                           "--data", tmp_path / "data-moved")
    assert code == 0 and out.startswith("accuracy")


# --- two commands, one folder --------------------------------------------------------------------
def test_a_second_training_given_a_folder_another_is_making_is_refused_having_written_nothing(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    code = ("import sys, time\nfrom workbench.runs.lock import RunLock\n"
            "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(run)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # the other training, between its check and its writes
        code, _, err = run_cli(capsys, "train", "--data", data, "--out", run, *TRAIN)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert code == 2 and "is being made into a run by another training right now" in err, err
    # Before: this training wrote its config.json and a "running" status.json into the other's folder first.
    assert [p.name for p in run.iterdir()] == [".writer.lock"]


def test_two_trainings_in_the_same_second_without_out_get_two_run_folders(capsys, tmp_path, monkeypatch):
    from datetime import datetime

    class SameSecond:
        @staticmethod
        def now():
            return datetime(2025, 1, 1, 12, 0, 0)

    data = tiny_dataset(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    from workbench.cli import train_command

    monkeypatch.setattr(train_command, "datetime", SameSecond)  # where `train` names its default run folder
    first = tmp_path / "runs" / "20250101-120000-protonet"
    code, _, err = run_cli(capsys, "train", "--data", data, *TRAIN)
    assert code == 0 and (first / "model.pt").is_file(), err
    config = (first / "config.json").read_bytes()
    code, _, err = run_cli(capsys, "train", "--data", data, *TRAIN)
    # Before: "already holds a run; choose a new --out folder", for a name the user never chose.
    assert code == 0, err
    assert (tmp_path / "runs" / "20250101-120000-protonet-2" / "model.pt").is_file()
    assert (first / "config.json").read_bytes() == config


# --- numbers the data cannot meet, data of which nothing is usable -------------------------------
def test_shots_more_than_any_class_holds_says_which_numbers_to_lower(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data", classes=6, images=4)
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", *TRAIN, "--shots", 5)
    # Before: only "Only 0 usable classes ... fewer than the 4 ways asked for", with --ways 2 given.
    assert code == 2 and "fewer than shots + queries = 5 + 1 images (the largest of them has 4)" in err, err
    assert "ask for fewer shots or queries" in err and not (tmp_path / "run").exists()


def test_data_of_which_nothing_is_usable_says_why(capsys, tmp_path):
    import zipfile

    archive = tmp_path / "absolute.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # some archivers store absolute paths
        for c in ("a", "b"):
            zf.writestr(f"/home/me/{c}/x.png", good_bytes())
    code, _, err = run_cli(capsys, "train", "--data", archive, "--out", tmp_path / "run", *TRAIN)
    # Before: "no class folder holds a readable image" and not a word of why (with --quiet not even a warning).
    assert code == 2 and "the first of 3 problems: " in err and "/home/me/a/x.png: path leaves the zip's folder" in err


# --- the environment -----------------------------------------------------------------------------
@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG variables are read on Linux and the like")
@pytest.mark.parametrize("value", ["rel/conf", ""])
def test_a_relative_or_empty_xdg_folder_is_ignored_not_made_in_the_current_folder(tmp_path, monkeypatch, value):
    from workbench.catalogue.plugin_settings import PluginSettings, settings_path, user_folder
    from workbench.data.demo import user_data_dir

    for name in ("WORKBENCH_CONFIG_DIR", "WORKBENCH_CACHE_DIR", "FEWSHOT_WORKBENCH_DATA"):
        monkeypatch.delenv(name, raising=False)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert settings_path() == tmp_path / "home" / ".config" / "fewshot-workbench" / "plugins.json"
    assert user_folder("cache") == tmp_path / "home" / ".cache" / "fewshot-workbench"
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "fewshot-workbench"
    PluginSettings(project_folder=True).save(settings_path())  # what `plugins --examples on` writes
    assert [p.name for p in tmp_path.iterdir()] == ["home"]  # before: ./rel/conf/fewshot-workbench/plugins.json


# --- odd zips, folders and run files -------------------------------------------------------------
def test_a_zip_holding_one_name_twice_counts_that_image_once(tmp_path):
    import warnings
    import zipfile

    from workbench.data.sources import scan_datasets

    archive = tmp_path / "appended.zip"
    with zipfile.ZipFile(archive, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name, as it should
        for c in ("a", "b"):
            for i in range(2):
                zf.writestr(f"d/{c}/x{i}.png", good_bytes())
        zf.writestr("d/a/x0.png", good_bytes())
        zf.writestr("d/b", b"a file named like a class folder")
    scan = scan_datasets([archive])
    # Before: class a held x0.png twice, so one episode could use the same image as support and query.
    assert sorted(len(c.images) for c in scan.classes) == [2, 2]
    messages = {p.path.split("!")[1]: p.message for p in scan.problems}
    assert messages == {"d/a/x0.png": "is in the zip more than once; read once", "d/b": "not an image file type; skipped"}


def test_class_folders_that_link_to_each_other_are_reported_and_the_rest_trains(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    (data / "a").symlink_to("b")
    (data / "b").symlink_to("a")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", *TRAIN)
    assert code == 0, err  # already right
    problems = (tmp_path / "run" / "data_problems.txt").read_text()
    assert f"{data / 'a'}: cannot read (Too many levels of symbolic links)" in problems and f"{data / 'b'}:" in problems


def test_hand_edited_run_files_newer_fields_a_string_config_and_crlf_metrics(capsys, measured, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(measured[0], run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "written_by_a_newer_version": {"x": 1}}))
    metrics = (run / "metrics.csv").read_bytes()
    (run / "metrics.csv").write_bytes(metrics.replace(b"\n", b"\r\n"))  # opened and saved on Windows
    code, out, err = run_cli(capsys, "table", run)
    assert code == 0 and "| run | protonet |" in out, err  # already right: unknown fields and CRLF are read
    code, out, _ = run_cli(capsys, "evaluate", run, "--episodes", 1, "--device", "cpu")
    assert code == 0 and out.startswith("accuracy")
    (run / "config.json").write_text(json.dumps("protonet"))
    code, _, err = run_cli(capsys, "evaluate", run, "--episodes", 1, "--device", "cpu")
    assert code == 2 and err == f"error: {run / 'config.json'}: expected a JSON object, found str.\n"
