"""Training one run in several processes (several GPUs, several machines) with `torchrun`.

    torchrun --standalone --nproc-per-node 4 main.py train --data ... --meta-batch 16

Data parallel over the episodes of a meta-batch, with the semantics of
DistributedDataParallel, for metric and gradient-based algorithms alike:

* Every process builds the same model from the same seed and samples the same
  global meta-batch from the same sampler; process r takes its contiguous share
  (episodes [start_r, end_r)), so the processes together see exactly the episodes
  one process would.
* Algorithms own their optimisers and step inside `meta_train`. A step pre-hook
  on each optimiser (installed by `attach`) all-reduces the gradients just before
  the step: each process's gradient is the mean over its share, weighted by its
  share of the batch and summed, which is the mean over the whole batch. So every
  process takes the same step a single process would, up to floating-point order.
  This holds for any algorithm whose `meta_train` averages its loss over its
  episodes and steps a torch optimiser, as the built-ins and the example plugin do.
* Batch-norm running statistics are merged exactly: the momentum updates of the
  shares are recombined as if the episodes had been seen one after another
  (see `_merge_batch_norm`). Other buffers follow rank 0, as in DDP.
* Only rank 0 writes the run folder, validates and prints. Cancelling (Ctrl-C) and
  the time limit are agreed on by all processes at each step, so none is left waiting.

Randomness inside `meta_train` (dropout, augmentation) draws from each process's
own generator, so such an algorithm matches a single process only in distribution.
"""

from __future__ import annotations

import atexit
import datetime
import os

import torch
import torch.distributed as dist
from torch import nn

from workbench.algorithms.base import Algorithm, StepStats
from workbench.errors import ConfigError
from workbench.runs.folder import RunFolder


def requested() -> bool:
    """True when this process was started by torchrun (or alike) as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main_process() -> bool:
    """Rank 0, or the only process: the one that prints and writes."""
    return int(os.environ.get("RANK", "0")) == 0


class DistributedSession:
    """This process's place among the training processes, and the collective operations the runner needs."""

    def __init__(self, rank: int, world_size: int, local_rank: int) -> None:
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environment(cls) -> "DistributedSession | None":
        """The session torchrun describes in RANK / WORLD_SIZE / LOCAL_RANK, or None for a single process."""
        if not requested():
            return None
        try:
            return cls(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", "0")))
        except (KeyError, ValueError):
            raise ConfigError("WORLD_SIZE is set but RANK is missing or not a number; start several "
                              "processes with torchrun.") from None

    def start(self, device: torch.device, meta_batch: int | None = None) -> torch.device:
        """Join the process group (NCCL on GPUs, gloo on CPUs); returns this process's device.

        With `meta_batch`, first check that every process will have an episode (before any folder is made).
        """
        if meta_batch is not None:
            self.check_meta_batch(meta_batch)
        # WORKBENCH_SHARE_GPUS=1 lets several processes share a GPU (e.g. two on one, to try torchrun out);
        # NCCL refuses two ranks on one device, so they talk through gloo instead.
        shared = os.environ.get("WORKBENCH_SHARE_GPUS", "") == "1"
        if device.type == "cuda":
            count = torch.cuda.device_count()
            if self.local_rank >= count and not shared:
                raise ConfigError(f"Process {self.rank} wants GPU {self.local_rank}, but this machine has "
                                  f"{count}; use --nproc-per-node <= the number of GPUs (or WORKBENCH_SHARE_GPUS=1).")
            device = torch.device("cuda", self.local_rank % count)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            backend = "nccl" if device.type == "cuda" and not shared else "gloo"
            # Rank 0 validates and checkpoints while the others wait at the next step.
            dist.init_process_group(backend, timeout=datetime.timedelta(minutes=60))
            atexit.register(_destroy)
        self.device = device
        return device

    # --- wiring an algorithm ------------------------------------------------------------
    def attach(self, algorithm: Algorithm, meta_batch: int) -> None:
        """Make the algorithm's meta_train work on this process's share and all-reduce its gradients."""
        self.check_meta_batch(meta_batch)
        self._broadcast_state(algorithm)
        sharded = _ShardedMetaTrain(self, algorithm, algorithm.meta_train)
        algorithm.meta_train = sharded  # this instance only; the class is untouched
        for optimizer in algorithm.optimizers().values():
            optimizer.register_step_pre_hook(sharded.reduce_gradients)

    def check_meta_batch(self, meta_batch: int) -> None:
        if meta_batch < self.world_size:
            raise ConfigError(f"The meta-batch ({meta_batch} episodes) must be at least the number of processes "
                              f"({self.world_size}), so that each process has an episode; raise --meta-batch.")

    def _broadcast_state(self, algorithm: Algorithm) -> None:
        """Start every process from rank 0's weights (the same seed makes them equal already; this makes it sure)."""
        with torch.no_grad():
            for module in algorithm.modules().values():
                for tensor in [*module.parameters(), *module.buffers()]:
                    dist.broadcast(tensor.data, src=0)

    # --- agreeing ----------------------------------------------------------------------
    def any(self, flag: bool) -> bool:
        """True on every process when it is true on any (cancel, time limit)."""
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def share(self, total: int) -> tuple[int, int]:
        """This process's contiguous slice [start, end) of `total` episodes (sizes differ by at most one)."""
        base, extra = divmod(total, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)


def finish_run() -> None:
    """Wait at the end of a run until every process is there (rank 0 may still be validating).

    The process group stays up for another run in the same processes and is
    destroyed when the process exits: creating a second group after destroying
    the first can hang under torchrun's rendezvous.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _destroy() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class _ShardedMetaTrain:
    """Wraps an algorithm's meta_train: this process's share in, whole-batch statistics out."""

    def __init__(self, session: DistributedSession, algorithm: Algorithm, meta_train) -> None:
        self.session, self.algorithm, self.meta_train = session, algorithm, meta_train
        self.weight = 1.0
        self.active = False

    def __call__(self, episodes) -> StepStats:
        start, end = self.session.share(len(episodes))
        self.weight = (end - start) / len(episodes)
        norms = _batch_norms(self.algorithm)
        before = [(bn.running_mean.clone(), bn.running_var.clone(), int(bn.num_batches_tracked)) for bn in norms]
        self.active = True
        try:
            stats = self.meta_train(episodes[start:end])
        finally:
            self.active = False
        _merge_batch_norm(self.session, norms, before)
        _follow_rank_zero(self.algorithm)
        totals = torch.tensor([stats.loss * self.weight, stats.accuracy * self.weight], dtype=torch.float64,
                              device=self.session.device)
        dist.all_reduce(totals)
        return StepStats(float(totals[0]), float(totals[1]))

    def reduce_gradients(self, optimizer: torch.optim.Optimizer, args, kwargs) -> None:
        """Step pre-hook: replace each gradient by the whole batch's mean gradient."""
        if not self.active:
            return  # a step outside meta_train (none of the built-ins do) is this process's own business
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if not params:
            return
        device = params[0].device
        parts = [(p.grad.detach().to(torch.float32).flatten() * self.weight) if p.grad is not None
                 else torch.zeros(p.numel(), device=device) for p in params]
        has_grad = torch.tensor([0.0 if p.grad is None else 1.0 for p in params], device=device)
        flat = torch.cat([*parts, has_grad])
        dist.all_reduce(flat)
        # Unpack: gradients first, then one "had a gradient" count per parameter.
        flags = flat[-len(params):]
        offset = 0
        for i, p in enumerate(params):
            n = p.numel()
            if flags[i] > 0:
                grad = flat[offset:offset + n].view_as(p).to(p.dtype)
                if p.grad is None:
                    p.grad = grad.clone()
                else:
                    p.grad.copy_(grad)
            else:
                p.grad = None  # no process had a gradient: the optimiser skips it, as in one process
            offset += n


def _batch_norms(algorithm: Algorithm) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for module in algorithm.modules().values() for m in module.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.running_mean is not None]


def _merge_batch_norm(session: DistributedSession, norms, before) -> None:
    """Running statistics as if one process had made every share's updates in rank order.

    With momentum m and decay d = 1 - m, n updates from r0 give r = d^n r0 + delta
    where delta is what the batches contributed. Chaining the shares, each share's
    delta decays by d for every update made after it: global r = d^N r0 + sum_r
    d^(N - end_r) delta_r, with end_r the number of updates up to and including share r.
    (momentum None, a cumulative average, is recombined from the sums it keeps.)
    """
    if not norms:
        return
    device = norms[0].running_mean.device
    local = torch.tensor([int(bn.num_batches_tracked) - b[2] for bn, b in zip(norms, before)], device=device)
    counts = [torch.zeros_like(local) for _ in range(session.world_size)]
    dist.all_gather(counts, local)
    counts = torch.stack(counts).tolist()  # [rank][norm]
    contributions = []
    for j, (bn, (mean0, var0, tracked0)) in enumerate(zip(norms, before)):
        n_local = counts[session.rank][j]
        total = sum(row[j] for row in counts)
        after = sum(row[j] for row in counts[: session.rank + 1])
        for current, start in ((bn.running_mean, mean0), (bn.running_var, var0)):
            if bn.momentum is None:
                # Cumulative average over tracked0 + n batches: recover this share's sum of batch values.
                contributions.append(current * (tracked0 + n_local) - start * tracked0)
            else:
                decay = 1.0 - bn.momentum
                contributions.append((current - decay**n_local * start) * decay ** (total - after))
    flat = torch.cat([c.flatten().to(torch.float64) for c in contributions])
    dist.all_reduce(flat)
    offset = 0
    with torch.no_grad():
        for j, (bn, (mean0, var0, tracked0)) in enumerate(zip(norms, before)):
            total = sum(row[j] for row in counts)
            for current, start in ((bn.running_mean, mean0), (bn.running_var, var0)):
                summed = flat[offset:offset + current.numel()].view_as(current)
                offset += current.numel()
                if bn.momentum is None:
                    merged = (start.double() * tracked0 + summed) / max(tracked0 + total, 1)
                else:
                    merged = (1.0 - bn.momentum) ** total * start.double() + summed
                current.copy_(merged.to(current.dtype))
            bn.num_batches_tracked.fill_(tracked0 + total)


def _follow_rank_zero(algorithm: Algorithm) -> None:
    """Buffers other than batch-norm statistics take rank 0's values, as DistributedDataParallel does."""
    with torch.no_grad():
        for module in algorithm.modules().values():
            norms = {id(b) for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                     for b in m.buffers(recurse=False)}
            for buffer in module.buffers():
                if id(buffer) not in norms:
                    dist.broadcast(buffer.data, src=0)


class FollowerFolder(RunFolder):
    """The run folder as seen by ranks other than 0: read like the real one, every write dropped."""

    def write_status(self, *args, **kwargs) -> None:
        pass

    def append_metrics(self, rows) -> None:
        pass

    def truncate_metrics(self, after_step: int) -> None:
        pass

    def append_log(self, line: str) -> None:
        pass

    def write_problems(self, lines) -> None:
        pass

    def save_model(self, state: dict, artifacts: dict | None = None) -> None:
        pass

    def save_checkpoint(self, checkpoint: dict) -> None:
        pass

    def remove_stale_temp_files(self) -> list:
        return []  # rank 0 tidies the folder
