"""Hostile command lines, second round: numbers out of range, outputs that would harm, closed pipes,
odd file names in output, signals, a second writer, changed data, full and read-only disks."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.robustness.corpus import good_bytes, make_good_classes
from tests.robustness.helpers import ROOT, run_cli, tiny_config, tiny_dataset, tiny_run
from workbench.data.episode_file import read_episode_file
from workbench.errors import ConfigError, DataError, RunFolderError
from workbench.runs.folder import RunFolder
from workbench.runs.lock import RunLock
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    data = tiny_dataset(root / "data")
    return tiny_run(data, root / "run"), data


def support_and_query(root: Path) -> tuple[Path, Path]:
    make_good_classes(root / "support", classes=2, images=2)
    query = root / "query"
    query.mkdir()
    for i in range(3):
        (query / f"q{i}.png").write_bytes(good_bytes())
    return root / "support", query


# --- every number checked before any work ----------------------------------------------------
@pytest.mark.parametrize("option, value", [("--ways", 0), ("--ways", 1), ("--shots", 0), ("--queries", 0),
                                           ("--seed", -1), ("--episodes", 0), ("--seed", 2**40)])
def test_evaluate_refuses_meaningless_numbers_in_one_sentence(capsys, trained, option, value):
    code, out, err = run_cli(capsys, "evaluate", trained[0], option, value, "--device", "cpu")
    assert code == 2 and not out
    assert err.startswith(f"error: {option} must be a whole number from"), err


@pytest.mark.parametrize("option, value", [("--cache-mb", "inf"), ("--cache-mb", "nan"), ("--cache-mb", "-1"),
                                           ("--time-limit", "nan"), ("--seed", "-1"), ("--val-fraction", "nan"),
                                           ("--meta-batch", "0"), ("--steps", "0")])
def test_train_refuses_non_finite_and_negative_numbers(capsys, tmp_path, option, value):
    data = tiny_dataset(tmp_path / "data")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", option, value)
    assert code == 2 and err.startswith(f"error: {option} must be"), err
    assert not (tmp_path / "run").exists()


def test_a_data_path_holding_nul_is_one_sentence(capsys, tmp_path):
    code, _, err = run_cli(capsys, "train", "--data", "a\0b", "--out", tmp_path / "run")
    assert code == 2 and "NUL character" in err


@pytest.mark.parametrize("field, value, words", [("max_cache_mb", 1e308, "(?i)image cache limit"),
                                                  ("max_cache_mb", float("inf"), "(?i)image cache limit"),
                                                  ("seed", -1, "(?i)seed must be"),
                                                  ("time_limit_s", float("inf"), "(?i)time limit"),
                                                  ("data", ["/x\0y"], "NUL")])
def test_config_json_fields_out_of_range_are_named(tmp_path, field, value, words):
    data = tiny_config(tmp_path).to_dict()
    data[field] = value
    with pytest.raises(ConfigError, match=words):
        RunConfig.from_dict(data, source="config.json")


def test_an_absurd_meta_batch_is_refused_before_allocating_and_before_a_run_folder_exists(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "run", "--meta-batch", 1_000_000,
                           "--image-size", 512, "--device", "cpu", "--ways", 2, "--queries", 1)
    assert code == 2 and "needs about" in err and "is available" in err and "--meta-batch" in err, err
    assert not (tmp_path / "run").exists()


# --- fixed episodes that cannot measure anything ------------------------------------------
@pytest.mark.parametrize("episode, words", [
    ([["a", [0, 1]], ["a", [2, 3]]], "lists the class 'a' twice"),
    ([["a", [0, 0]], ["b", [0, 1]]], "both a support and a query image"),
    ([["a", [0, 1, 1]], ["b", [0, 1, 2]]], "listed twice"),
])
def test_episode_files_with_repeats_are_refused(tmp_path, episode, words):
    queries = len(episode[0][1]) - 1
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"ways": 2, "shots": 1, "queries": queries, "episodes": [episode]}))
    with pytest.raises(DataError, match=words):
        read_episode_file(str(path))


# --- outputs never harm -------------------------------------------------------------------
def test_export_into_the_run_folder_is_refused_and_the_model_survives(capsys, trained, tmp_path):
    run, _ = trained
    support, _ = support_and_query(tmp_path)
    before = (run / "model.pt").read_bytes()
    for out in (run / "model.pt", run / "config.json", run / "checkpoints" / "last.pt", run / "new.onnx"):
        code, _, err = run_cli(capsys, "export", run, "--support", support, "--out", out)
        assert code == 2 and "inside the run folder" in err, err
    assert (run / "model.pt").read_bytes() == before
    assert not (run / "new.onnx").exists()


def test_export_over_a_support_image_is_refused(capsys, trained, tmp_path):
    support, _ = support_and_query(tmp_path)
    image = support / "good_0" / "img_0.png"
    before = image.read_bytes()
    code, _, err = run_cli(capsys, "export", trained[0], "--support", support, "--out", image)
    assert code == 2 and "which this command reads" in err
    assert image.read_bytes() == before


@pytest.mark.parametrize("command", ["export", "table"])
def test_outputs_onto_special_files_are_refused_and_the_special_file_stays(capsys, trained, tmp_path, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    support, _ = support_and_query(tmp_path)
    for target, kind in ((fifo, "a named pipe"), ("/dev/null", "a device"), (tmp_path, "a folder")):
        args = (["export", trained[0], "--support", support] if command == "export" else ["table", trained[0]])
        code, _, err = run_cli(capsys, *args, "--out", target)
        assert code == 2 and kind in err, err
    assert Path("/dev/null").is_char_device() and fifo.is_fifo()


def test_table_out_onto_a_run_file_is_refused(capsys, trained):
    run, _ = trained
    before = (run / "config.json").read_bytes()
    code, _, err = run_cli(capsys, "table", run, "--out", run / "config.json")
    assert code == 2 and "inside the run folder" in err
    assert (run / "config.json").read_bytes() == before


def test_train_out_naming_a_file_is_one_sentence(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    (tmp_path / "notes.txt").write_text("keep me")
    code, _, err = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "notes.txt", "--steps", 1,
                           "--ways", 2, "--queries", 1, "--image-size", 16, "--device", "cpu")
    assert code == 2 and "is a file, not a folder" in err, err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_run_files_respect_the_umask():
    code = ("import os, stat, sys, tempfile\n"
            "os.umask(int(sys.argv[1], 8))\n"
            "from workbench.atomic import write_json_atomic\n"
            "d = tempfile.mkdtemp(); p = os.path.join(d, 'config.json'); write_json_atomic(p, {})\n"
            "print(oct(stat.S_IMODE(os.stat(p).st_mode)))\n")
    for umask, mode in (("022", "0o644"), ("077", "0o600"), ("002", "0o664")):
        result = subprocess.run([sys.executable, "-c", code, umask], cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        assert result.stdout.strip() == mode, result.stderr


# --- a closed pipe, odd names in output -------------------------------------------------------
def test_a_reader_that_stops_early_ends_the_command_quietly():
    result = subprocess.run(f"{sys.executable} main.py algorithms | head -c 10", shell=True, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert len(result.stdout) == 10 and result.stderr == "", result.stderr
    # A reader gone before the first byte is written (`| true`, a closed pager): the write itself fails.
    process = subprocess.Popen([sys.executable, "main.py", "algorithms", "--json"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) in (0, 141) and err == "", err


def test_adapt_json_is_valid_and_text_output_is_one_line_per_image_whatever_the_names(capsys, trained, tmp_path):
    support, query = support_and_query(tmp_path)
    with open(os.fsencode(query) + b"/caf\xe9.png", "wb") as handle:
        handle.write(good_bytes())
    (query / "two\nlines.png").write_bytes(good_bytes())
    code, out, _ = run_cli(capsys, "adapt", trained[0], "--support", support, "--query", query, "--json",
                           "--device", "cpu")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 5 and any(r["path"].endswith("caf\\xe9.png") for r in rows)
    code, out, _ = run_cli(capsys, "adapt", trained[0], "--support", support, "--query", query, "--device", "cpu")
    assert code == 0 and len(out.strip().splitlines()) == 5 and "two\\nlines.png" in out


def test_export_with_a_class_folder_name_that_is_not_utf8_is_one_sentence(capsys, trained, tmp_path):
    support, _ = support_and_query(tmp_path)
    os.rename(support / "good_1", os.fsencode(support) + b"/gr\xfcn")
    code, _, err = run_cli(capsys, "export", trained[0], "--support", support, "--out", tmp_path / "m.onnx")
    assert code == 2 and "not valid UTF-8" in err and "gr\\xfcn" in err, err


# --- signals and a second writer --------------------------------------------------------------
def start_training(data: Path, run: Path, *extra) -> subprocess.Popen:
    args = ["train", "--data", data, "--out", run, "--ways", 2, "--queries", 1, "--image-size", 16, "--steps", 100000,
            "--checkpoint-every", 1000, "--val-every", 1000, "--val-episodes", 1, "--device", "cpu",
            "--precision", "fp32", "--val-fraction", 0.34, "--test-fraction", 0, "--quiet", *extra]
    return subprocess.Popen([sys.executable, "main.py", *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until_training(run: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if (run / "metrics.csv").exists() and (run / "status.json").exists():
            time.sleep(1.0)  # some steps in
            return
        time.sleep(0.1)
    raise AssertionError("training did not start")


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_training_like_ctrl_c(tmp_path, number):
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    process = start_training(data, run)
    wait_until_training(run, process)
    process.send_signal(number)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    status = RunFolder(run).read_status()
    assert status["status"] == "cancelled" and status["step"] > 0 and "can be resumed" in status["message"]
    assert RunFolder(run).load_checkpoint()["step"] == status["step"]  # nothing done since the last save is lost


def test_a_second_writer_of_a_run_is_refused_and_the_lock_is_freed_by_the_holders_death(tmp_path):
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    process = start_training(data, run)
    wait_until_training(run, process)
    config = RunFolder(run).read_config()
    rows_before = len(RunFolder(run).read_metrics())
    with pytest.raises(RunFolderError, match=f"being written by another training \\(process {process.pid}\\)"):
        run_to_end(train_run(config, run, resume=True))
    assert len(RunFolder(run).read_metrics()) >= rows_before  # the refused writer truncated nothing
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with RunLock(run):  # the OS released the dead process's lock: no cleaning up by hand
        pass


def test_the_lock_is_released_when_the_holder_is_killed(tmp_path):
    code = ("import sys, time\nfrom workbench.runs.lock import RunLock\n"
            "RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(RunFolderError, match="being written by another training"):
        RunLock(tmp_path).acquire()
    holder.kill()
    holder.wait(timeout=30)
    lock = RunLock(tmp_path).acquire()
    lock.release()


# --- resume checks the data ---------------------------------------------------------------
def test_resume_on_changed_data_is_refused_with_what_changed_and_can_be_allowed(tmp_path):
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    finished = run_to_end(train_run(tiny_config(data, steps=2), run))
    assert finished.status == "completed"
    config = RunFolder(run).read_config()
    config.steps = 3
    from workbench.atomic import write_json_atomic

    write_json_atomic(run / "config.json", config.to_dict())
    for name in ("good_0", "good_1"):
        for image in (data / name).iterdir():
            image.unlink()
        (data / name).rmdir()
    make_good_classes(data, classes=3, images=4, prefix="new")
    with pytest.raises(DataError, match="2 of its 6 classes are gone.*3 new classes appeared.*--allow-changed-data"):
        run_to_end(train_run(config, run, resume=True))
    assert RunFolder(run).read_status()["status"] == "completed"  # the refusal touched nothing
    finished = run_to_end(train_run(config, run, resume=True, allow_changed_data=True))
    assert finished.status == "completed" and finished.step == 3


def test_an_old_run_without_a_fingerprint_resumes_as_before(tmp_path):
    data = tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    run_to_end(train_run(tiny_config(data, steps=2), run))
    (run / "dataset.json").unlink()
    config = RunFolder(run).read_config()
    config.steps = 3
    from workbench.atomic import write_json_atomic

    write_json_atomic(run / "config.json", config.to_dict())
    make_good_classes(data, classes=1, images=4, prefix="late")
    assert run_to_end(train_run(config, run, resume=True)).status == "completed"


# --- full and read-only disks ----------------------------------------------------------------
@contextmanager
def small_disk(where: Path, size: str = "256k", read_only: bool = False):
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small file system here to fill up ({result.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_disk_when_the_run_folder_is_made_is_one_sentence_and_leaves_nothing(capsys, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    with small_disk(tmp_path / "disk") as disk:
        fill(disk)
        code, _, err = run_cli(capsys, "train", "--data", data, "--out", disk / "runs" / "a", "--steps", 1,
                               "--ways", 2, "--queries", 1, "--image-size", 16, "--device", "cpu")
        assert code == 2 and "the disk is full; nothing was left behind" in err, err
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_a_failed_write_while_making_the_run_folder_removes_the_half_made_folder(tmp_path, monkeypatch):
    import workbench.runs.folder as folder_module

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder_module, "write_text_atomic", full)  # the metrics file: after two files are written
    config = tiny_config(tmp_path)
    with pytest.raises(RunFolderError, match="disk is full; nothing was left behind"):
        RunFolder.create(tmp_path / "made" / "run", config, {})
    assert not (tmp_path / "made").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError):
        RunFolder.create(tmp_path / "empty", config, {})
    assert list((tmp_path / "empty").iterdir()) == []


def test_read_only_disks_give_one_sentence_for_train_export_and_table(capsys, trained, tmp_path):
    data = tiny_dataset(tmp_path / "data")
    support, _ = support_and_query(tmp_path)
    with small_disk(tmp_path / "ro", read_only=True) as disk:
        code, _, err = run_cli(capsys, "train", "--data", data, "--out", disk / "run", "--steps", 1, "--ways", 2,
                               "--queries", 1, "--image-size", 16, "--device", "cpu")
        assert code == 2 and "read-only" in err, err
        code, _, err = run_cli(capsys, "export", trained[0], "--support", support, "--out", disk / "m.onnx")
        assert code == 2 and "read-only" in err, err
        code, _, err = run_cli(capsys, "table", trained[0], "--out", disk / "t.md")
        assert code == 2 and "read-only" in err, err
