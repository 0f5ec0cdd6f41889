"""Algorithms that fail the way real ones do on real machines, registered by the tests that need them.

They are ProtoNet until their N-th meta-update, then raise what a GPU out of
memory, a bug in a plugin, or a plugin that cannot even be built would raise.
"""

from __future__ import annotations

import os

import torch

from workbench.algorithms.protonet import ProtoNet

FAIL_AT_UPDATE = int(os.environ.get("WORKBENCH_TEST_FAIL_AT", "4"))


class _FailsLater(ProtoNet):
    error: type[BaseException] = RuntimeError
    text = ""

    def meta_train(self, episodes):
        self.updates = getattr(self, "updates", 0) + 1
        if self.updates >= FAIL_AT_UPDATE:
            raise self.error(self.text)
        return super().meta_train(episodes)


class OutOfMemoryProtoNet(_FailsLater):
    name, title, summary = "oom-test", "Runs out of GPU memory", "Raises CUDA out-of-memory after a few updates."
    error = torch.cuda.OutOfMemoryError
    text = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total capacity)"


class CrashingProtoNet(_FailsLater):
    name, title, summary = "crash-test", "Crashes", "A plugin bug: raises after a few updates."
    error = KeyError
    text = "weights_of_layer_7"


class BrokenInitProtoNet(ProtoNet):
    name, title, summary = "broken-init-test", "Cannot be built", "A plugin whose constructor fails."

    def __init__(self, *args, **kwargs) -> None:
        raise ValueError("this plugin needs a GPU driver that is not installed")


FAULTY = (OutOfMemoryProtoNet, CrashingProtoNet, BrokenInitProtoNet)
