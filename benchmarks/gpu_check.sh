#!/usr/bin/env bash
# The workbench's GPU check: on a CUDA machine with torch and torchvision preinstalled (no PySide6,
# no network), train ProtoNet and MAML on the GPU, time MAML's vectorised and loop paths in fp32 and
# bf16, run a two-process torchrun on one GPU, and print tasks/s and peak GPU memory (see gpu_check.py).
# Well under 10 minutes on one GPU. The headless part runs from this tree (PYTHONPATH), so nothing is
# installed; `--dry-run` does the same, tiny, on the CPU.
#
#   bash benchmarks/gpu_check.sh            # figures in benchmarks/results/gpu_check.json
#   bash benchmarks/gpu_check.sh --dry-run  # any machine, well under a minute
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# One interpreter checks the packages and names the device: each start imports torch again (seconds).
"$PYTHON" -c "import torch, torchvision, numpy, PIL; print('torch', torch.__version__, '| CUDA:', torch.cuda.is_available() and torch.cuda.get_device_name(0))" \
    || { echo "error: needs torch, torchvision, numpy and pillow" >&2; exit 2; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" WORKBENCH_NO_PLUGINS=1
export WORKBENCH_CONFIG_DIR="${WORKBENCH_CONFIG_DIR:-$(mktemp -d)}" WORKBENCH_CACHE_DIR="${WORKBENCH_CACHE_DIR:-$(mktemp -d)}"
exec timeout 600 "$PYTHON" benchmarks/gpu_check.py "$@"
