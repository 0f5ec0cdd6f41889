"""Hostile streams through the CLI: batch input that is endless, binary or malformed, outputs that are
standard output itself or a link, and folders that are pipes. Each case is the command a person types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from tests.robustness.corpus import make_good_classes
from tests.robustness.helpers import ROOT, run_cli, tiny_dataset, tiny_run


@pytest.fixture(scope="module")
def run_and_pair(tmp_path_factory):
    """A tiny trained run, a support folder of two classes and a query folder of their images."""
    root = tmp_path_factory.mktemp("streams")
    data = tiny_dataset(root / "data")
    run = tiny_run(data, root / "run")
    make_good_classes(root / "support", classes=2, images=2)
    support = root / "support"
    query = root / "query"
    query.mkdir()
    for image in sorted(support.rglob("*.png"))[::2]:
        (query / f"{image.parent.name}-{image.name}").write_bytes(image.read_bytes())
    return run, support, query


def batch_process(run, batch: str, stdin: bytes | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """`main.py adapt RUN --batch BATCH --json` in its own process: its result and its peak memory in MiB.

    The peak is the process's own VmHWM, read while it runs: rusage counts the forking test process's memory
    as the child's too (Linux keeps the high-water mark across fork and exec)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc here to read a process's peak memory from")
    with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        given.write(stdin or b"")
        given.seek(0)
        process = subprocess.Popen([sys.executable, "main.py", "adapt", str(run), "--batch", batch, "--json",
                                    "--mode", "model"], cwd=ROOT, stdin=given, stdout=out, stderr=err)
        peak_kib = 0
        while process.poll() is None:
            peak_kib = max(peak_kib, high_water_kib(process.pid))
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(process.args, process.returncode, out.read(), err.read())
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    assert peak_kib > 0, "the peak memory was never read"
    return result, peak_kib // 1024


def high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except OSError:  # it ended between poll() and the read
        return 0


def answers(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode("utf-8").splitlines()]  # strict: valid UTF-8 and JSON


# --- batch input ---------------------------------------------------------------------------------

def test_an_endless_batch_line_is_answered_as_too_long_in_bounded_memory(run_and_pair, tmp_path):
    run, support, query = run_and_pair
    batch = tmp_path / "one-line.tsv"
    with open(batch, "wb") as handle:  # 1 GiB of one line without a newline, then a good pair
        handle.truncate(1024**3)
        handle.seek(0, os.SEEK_END)
        handle.write(f"\n{support}\t{query}\n".encode())
    result, peak_mib = batch_process(run, str(batch))
    assert result.returncode == 2
    first, second = answers(result.stdout)
    assert first["line"] == 1 and "longer than 64 KiB" in first["error"]
    assert second["line"] == 2 and len(second["predictions"]) == 2
    assert peak_mib < 1200, f"peak {peak_mib} MiB for a 1 GiB line"


def test_stdin_without_a_newline_is_bounded_too(run_and_pair):
    run, _, _ = run_and_pair
    result, peak_mib = batch_process(run, "-", stdin=b"x" * (300 * 1024**2))
    assert result.returncode == 2 and "longer than 64 KiB" in answers(result.stdout)[0]["error"]
    assert peak_mib < 1500, f"peak {peak_mib} MiB for a 300 MiB line"


def test_malformed_and_binary_lines_are_answered_and_the_good_pairs_after_them_too(run_and_pair):
    run, support, query = run_and_pair
    lines = [b"a\tb\tc", b"\xff\xfe\x00binary\x01", f"{support}\t{query}".encode(), b"only-one", b"x\x00y\tz",
             f"{support}\t{query}".encode()]
    result, _ = batch_process(run, "-", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 2
    got = answers(result.stdout)
    assert [a["line"] for a in got] == [1, 2, 3, 4, 5, 6]
    assert [("error" in a) for a in got] == [True, True, False, True, True, False]
    assert "not UTF-8" in got[1]["error"] and "NUL" in got[4]["error"]
    assert len(got[2]["predictions"]) == len(got[5]["predictions"]) == 2
    assert b"\x00" not in result.stderr and b"\xff" not in result.stderr
    result.stderr.decode("utf-8")  # the messages are UTF-8 text too


def test_a_support_folder_that_is_a_pipe_is_called_one(run_and_pair, tmp_path, capsys):
    run, _, query = run_and_pair
    fifo = tmp_path / "support"
    os.mkfifo(fifo)
    code, _, err = run_cli(capsys, "adapt", run, "--support", fifo, "--query", query, "--mode", "model")
    assert code == 2 and "is a named pipe, not a folder" in err
    code, _, err = run_cli(capsys, "adapt", run, "--support", query / os.listdir(query)[0], "--query", query,
                           "--mode", "model")
    assert code == 2 and "is a file, not a folder" in err


def test_a_batch_given_as_a_named_pipe_is_read_from_it(run_and_pair, tmp_path):
    run, support, query = run_and_pair
    fifo = tmp_path / "pairs"
    os.mkfifo(fifo)
    process = subprocess.Popen([sys.executable, "main.py", "adapt", str(run), "--batch", str(fifo), "--json",
                                "--mode", "model"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with open(fifo, "wb") as writer:  # blocks until the command opens the pipe
        writer.write(f"{support}\t{query}\n".encode())
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err.decode()
    assert len(answers(out)[0]["predictions"]) == 2


# --- outputs -------------------------------------------------------------------------------------

def test_table_out_dev_stdout_appended_to_a_file_keeps_the_file_and_the_link(run_and_pair, tmp_path):
    run, _, _ = run_and_pair
    target = tmp_path / "log.txt"
    target.write_text("kept line\n")
    stdout_link = os.readlink("/dev/stdout")
    with open(target, "a") as handle:
        result = subprocess.run([sys.executable, "main.py", "table", str(run), "--out", "/dev/stdout"], cwd=ROOT,
                                stdout=handle, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert os.readlink("/dev/stdout") == stdout_link
    text = target.read_text()
    assert text.startswith("kept line\n| Run |") and str(run.name) in text


def test_an_out_file_that_is_a_link_is_written_through_and_stays_a_link(run_and_pair, tmp_path, capsys):
    run, _, _ = run_and_pair
    real, link = tmp_path / "real.csv", tmp_path / "table.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    code, _, err = run_cli(capsys, "table", run, "--format", "csv", "--out", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("run,algorithm,")


# --- long query folders --------------------------------------------------------------------------

def test_a_long_query_folder_says_how_far_it_is_on_stderr(run_and_pair, capsys, monkeypatch):
    from workbench.cli.run_commands import ThrottledProgress

    run, support, query = run_and_pair
    monkeypatch.setattr(ThrottledProgress, "PERIOD", 0.0)  # every pass counts as long
    monkeypatch.setattr("workbench.training.query_stream.QUERY_CHUNK", 1)
    code, out, err = run_cli(capsys, "adapt", run, "--support", support, "--query", query, "--mode", "model")
    assert code == 0, err
    assert "predicted 1 of 2 query images" in err
    assert out.count("\n") == 2
