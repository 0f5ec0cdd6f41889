"""Prototypical Networks (Snell, Swersky and Zemel, NeurIPS 2017).

Promise: a class is the mean embedding (prototype) of its support images; a
query is classified by a softmax over negative distances to the prototypes.
Adapting is one forward pass, so any number of ways and shots works.
`test_shifts` (on by default, not in the paper) averages each embedding over
copies of the image shifted by up to that many pixels when adapting and predicting.
Paper, Omniglot 5-way 1-shot: 98.8% (trained 60-way, Conv4, 28x28, rotations).
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.prototypical import PrototypeAlgorithm
from workbench.algorithms.registry import register
from workbench.models.shift_averaged import ShiftAveraged

COSINE_SCALE = 10.0  # cosine similarities times 10 before the softmax (in [-1, 1] alone it is too flat to train)


@register
class ProtoNet(PrototypeAlgorithm):
    name = "protonet"
    title = "Prototypical Networks"
    summary = "Classify by distance to the mean embedding of each class (Snell et al. 2017)."
    # Snell et al. train Omniglot 60-way; 30-way 5-query measured best here for 2 CPU cores (docs/benchmarks.md).
    wide_training_ways = 30
    wide_training_queries = 5
    default_steps = 5000  # one update is cheap; validation keeps the best weights if it overfits
    hyperparams = (
        HyperParam("lr", "float", 1e-3, "Adam learning rate for the embedding network.", 1e-6, 1.0, log_scale=True),
        HyperParam("lr_decay_every", "int", 2000, "Halve the learning rate every this many meta-updates (0: never).", 0, 10**7),
        HyperParam("distance", "choice", "euclidean", "Distance between query and prototype.", choices=("euclidean", "cosine")),
        HyperParam("test_shifts", "int", 1, "When adapting and predicting, average each embedding over copies of the image "
                   "shifted by up to this many pixels each way (1: 9 copies, 9x the work); 0: off, as in the paper.",
                   0, 3, after_training=True),
        *backbone_hyperparams("conv4"),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)  # builds self.backbone
        self.optimizer = None  # made on first use: a process that only adapts never builds one (optimizers)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam and its halving schedule, made on first use: building a process's first torch optimiser
        imports torch's compiler, 2-5 s that `adapt` and the Label page need not wait for."""
        if self.optimizer is None:
            self.optimizer = torch.optim.Adam(self.backbone.parameters(), lr=self.hparams["lr"])
            every = self.hparams["lr_decay_every"]
            self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, every, 0.5) if every else None
        return {"adam": self.optimizer}

    @property
    def metric(self) -> str:
        return self.hparams["distance"]

    def logit_scale(self) -> float:
        return COSINE_SCALE

    def embedder(self) -> nn.Module:
        """The backbone as adapt and predict use it (shift-averaged when test_shifts is set, except while
        validating during training: the best-checkpoint choice does not need the 9x cost)."""
        return ShiftAveraged(self.backbone, 0 if self.validating else self.hparams["test_shifts"])
