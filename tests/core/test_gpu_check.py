"""benchmarks/gpu_check.sh, the script a GPU machine runs, proven on the CPU in its dry-run mode."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_in_its_dry_run(tmp_path):
    out = tmp_path / "gpu_check.json"
    env = {**os.environ, "PYTHON": sys.executable, "WORKBENCH_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(["bash", "benchmarks/gpu_check.sh", "--dry-run", "--out", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    record = json.loads(out.read_text())
    trained = {(r["algorithm"], r["precision"], r["path"]) for r in record["train"] if r.get("episodes_per_s", 0) > 0}
    assert trained == {("protonet", "fp32", "-"), ("protonet", "bf16", "-"), ("maml", "fp32", "vectorised"),
                       ("maml", "fp32", "groups"), ("maml", "fp32", "loop"), ("maml", "bf16", "vectorised"),
                       ("maml", "bf16", "groups"), ("maml", "bf16", "loop")}
    assert {r["precision"] for r in record["maml_paths"]} == {"fp32", "bf16"}
    assert all(r["vectorised_tasks_per_s"] > 0 and r["loop_tasks_per_s"] > 0 for r in record["maml_paths"])
    assert record["torchrun"]["episodes_per_s"] > 0
    assert "| MAML meta-update |" in result.stdout and "torchrun, 2 processes" in result.stdout
