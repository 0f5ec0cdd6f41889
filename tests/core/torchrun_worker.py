"""Run by test_distributed under torchrun (two gloo processes), in one launch since starting processes is slow.

    torchrun --standalone --nproc-per-node 2 tests/core/torchrun_worker.py OUT DATA -- TRAIN ARGS...

1. For each algorithm, one meta-update on the same meta-batch: the gradient every process steps with
   (after the all-reduce) and the merged batch-norm statistics are written by rank 0 to OUT/gradients.json
   beside those of a single-process update computed here too.
2. `main.py train` for ProtoNet and MAML into OUT/<algorithm>, as a user would run it under torchrun.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from workbench import catalogue  # noqa: E402
from workbench.cli import main  # noqa: E402
from workbench.data.cache import build_cache  # noqa: E402
from workbench.data.sampler import EpisodeSampler  # noqa: E402
from workbench.data.sources import scan_datasets  # noqa: E402
from workbench.data.splits import class_views  # noqa: E402
from workbench.training.distributed import DistributedSession  # noqa: E402

# MAML second order, as by default, through its per-task loop: the vectorised path sizes its passes
# by measured time, so its summation order (and last bits) would differ between the two runs.
GRADIENT_CHECKS = {"protonet": {}, "maml": {"vectorise": False}, "example_cosine": {}}
EXTRA = {"maml": ["--set", "vectorise=false"]}
META_BATCH = 3  # shares of 2 and 1 episodes: the weighting matters


def gradients_at_step(algorithm):
    """Capture each parameter's gradient as the optimiser is about to step (after any all-reduce)."""
    captured = {}

    def capture(optimizer, args, kwargs):
        for group in optimizer.param_groups:
            for p in group["params"]:
                captured[id(p)] = None if p.grad is None else p.grad.detach().clone()

    for optimizer in algorithm.optimizers().values():
        optimizer.register_step_pre_hook(capture)
    return captured


def named(algorithm, captured):
    return {f"{m}.{n}": captured[id(p)] for m, module in algorithm.modules().items() for n, p in module.named_parameters()}


def check_gradients(session, data, out):
    cache = build_cache(scan_datasets([data]), 28, 1)
    views = class_views(list(range(cache.num_classes)), False)
    report = {}
    for name, hparams in GRADIENT_CHECKS.items():
        sampler = EpisodeSampler(cache, views, 3, 1, 2, seed=11)
        episodes = [sampler.sample() for _ in range(META_BATCH)]
        made = []
        for _ in range(2):
            torch.manual_seed(0)
            made.append(catalogue.get(name)(1, 28, hparams, "cpu", "fp32"))
        single, shared = made
        session.attach(shared, META_BATCH)  # the hook that all-reduces is installed first ...
        single_grads, shared_grads = gradients_at_step(single), gradients_at_step(shared)  # ... so these see its result
        for algorithm in made:
            algorithm.train_mode(True)
        single_stats = single.meta_train(episodes)  # the whole batch in one process (each rank computes it alike)
        shared_stats = shared.meta_train(episodes)
        a, b = named(single, single_grads), named(shared, shared_grads)
        buffers = {}
        for module_name, module in single.modules().items():
            other = dict(shared.modules()[module_name].named_buffers())
            for buffer_name, buffer in module.named_buffers():
                buffers[f"{module_name}.{buffer_name}"] = float((buffer.double() - other[buffer_name].double()).abs().max())
        report[name] = {
            "gradient_max_difference": max(float((a[k] - b[k]).abs().max()) for k in a if a[k] is not None and b[k] is not None),
            "gradient_max": max(float(a[k].abs().max()) for k in a if a[k] is not None),
            "missing": [k for k in a if (a[k] is None) != (b[k] is None)],
            "buffer_max_difference": buffers,
            "loss": [single_stats.loss, shared_stats.loss],
            "accuracy": [single_stats.accuracy, shared_stats.accuracy],
        }
    if session.is_main:
        (out / "gradients.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    out, data = Path(sys.argv[1]), sys.argv[2]
    train_args = sys.argv[sys.argv.index("--") + 1:]
    session = DistributedSession.from_environment()
    session.start(torch.device("cpu"))
    check_gradients(session, data, out)
    for algorithm in ("protonet", "maml"):
        code = main(["train", "--data", data, *train_args, "--algorithm", algorithm, *EXTRA.get(algorithm, []),
                     "--out", str(out / algorithm)])
        if code:
            sys.exit(code)
