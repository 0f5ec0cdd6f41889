"""`main.py COMMAND ...` for the tests, as a terminal runs it: `workbench.cli.main` with the arguments.

By default the command runs in this process, with its own standard input, output and error and the
environment variables it is given: the same code a terminal runs, without paying three seconds to
import torch again for every command. A test that needs a real process (signals, the interpreter's
own start-up, locale and encoding variables, closed or full standard streams, which modules get
imported) passes `process=True`.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main_py(*args, stdin: str | None = None, env: dict | None = None, process: bool = False,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the command; a traceback on stderr fails the test whatever the exit status."""
    argv = [str(a) for a in args]
    if process:
        result = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True,
                                input=stdin, timeout=timeout, env={**os.environ, **(env or {})})
    else:
        result = _in_this_process(argv, stdin, env or {})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _in_this_process(argv: list[str], stdin: str | None, env: dict) -> subprocess.CompletedProcess:
    from workbench import cli

    out, err = io.StringIO(), io.StringIO()
    with _environment(env), _chdir(ROOT), _stdin(stdin), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse's usage errors and --help
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return subprocess.CompletedProcess(["main.py", *argv], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(env: dict):
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update({name: str(value) for name, value in env.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _chdir(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _stdin(text: str | None):
    before = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO((text or "").encode("utf-8")), encoding="utf-8")  # with .buffer, as a real one
    try:
        yield
    finally:
        sys.stdin = before
