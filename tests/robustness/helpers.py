"""Shared by the robustness tests: running main.py as a user would, and making tiny runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.headless import main_py
from tests.robustness.corpus import make_good_classes
from workbench.data.splits import SplitSpec
from workbench.runs.config import RunConfig
from workbench.training.runner import run_to_end, train_run

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, timeout: float = 180, env: dict | None = None, process: bool = False) -> subprocess.CompletedProcess:
    """`main.py ARGS` (in this process unless `process`); a traceback on stderr fails the test whatever the exit status."""
    return main_py(*args, timeout=timeout, env=env, process=process)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`main.py ARGS` in this process (pytest's capsys captures it): exit code, stdout, stderr; never a traceback."""
    from workbench import cli as cli_module

    code = cli_module.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected failure" not in err, err
    return code, out, err


def signal_at_line(process: subprocess.Popen, prefix: str, signum: int, timeout: float) -> tuple[str, str]:
    """Send `signum` to `process` once a line of its stderr starts with `prefix` (the CLI reports progress
    there), then wait for it: its (stdout, stderr). It is killed if it outlives `timeout`."""
    try:
        for line in process.stderr:
            if line.startswith(prefix):
                process.send_signal(signum)
                break
        return process.communicate(timeout=timeout)
    finally:
        process.kill()


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def tiny_dataset(root: Path, classes: int = 6, images: int = 4) -> Path:
    make_good_classes(root, classes=classes, images=images)
    return root


def tiny_config(data: Path, **overrides) -> RunConfig:
    settings = dict(data=[str(data)], algorithm="protonet", ways=2, shots=1, queries=1, image_size=16, steps=4,
                    val_every=2, val_episodes=2, checkpoint_every=1, device="cpu", precision="fp32",
                    split=SplitSpec("class", val_fraction=0.34, test_fraction=0.0))
    settings.update(overrides)
    return RunConfig(**settings)


def tiny_run(data: Path, run_dir: Path, **overrides) -> Path:
    finished = run_to_end(train_run(tiny_config(data, **overrides), run_dir))
    assert finished.status == "completed", finished.message
    return run_dir
