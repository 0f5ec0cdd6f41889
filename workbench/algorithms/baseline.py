"""Baseline and Baseline++ (Chen, Liu, Kira, Wang and Huang, "A Closer Look at Few-shot Classification", ICLR 2019).

Promise: no meta-learning at all. Train the backbone with an ordinary
classifier over every base class (see `_base_classes` for how global classes
come from episode class names); to adapt, freeze the backbone and train a new
classifier for the support set's classes on the support features alone.
Baseline's classifier is linear; Baseline++'s scores are scaled cosine
similarities to per-class weight vectors, which the paper finds reduces
intra-class variation.

Adaptation follows the paper's optimiser (SGD, learning rate 0.01, momentum
0.9, weight decay 0.001) but takes `adapt_steps` full-batch steps instead of
100 epochs of batches of 4, so it is deterministic and its cost does not grow
with the support set. The new head starts deterministically (so the same
support set always gives the same predictor): Baseline's at zero (its loss is
convex, the start only sets the path), Baseline++'s at the normalised class
means of the support features.
Paper, Omniglot: no 5-way 1-shot figure that we could find; the paper's tables
are mini-ImageNet and CUB (Conv4 Baseline 42.1%, Baseline++ 48.2% 5-way 1-shot
on mini-ImageNet) and cross-domain Omniglot -> EMNIST.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from workbench.algorithms._backbone import backbone_hyperparams
from workbench.algorithms._base_classes import BaseClassTraining, base_class_hyperparams
from workbench.algorithms.classifiers import AdaptedClassifier, LinearClassifier, PrototypeClassifier
from workbench.algorithms.heads import class_prototypes, cosine_logits, head_logits
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register

ADAPT_MOMENTUM = 0.9
ADAPT_WEIGHT_DECAY = 1e-3


def _adapt_params() -> tuple[HyperParam, ...]:
    return (
        HyperParam("adapt_steps", "int", 100, "Full-batch SGD steps training the new head on the support features.", 1, 100000, after_training=True),
        HyperParam("adapt_lr", "float", 0.01, "SGD learning rate of the new head (momentum 0.9, weight decay 0.001).", 1e-6, 10.0, log_scale=True, after_training=True),
    )


@register
class Baseline(BaseClassTraining):
    name = "baseline"
    title = "Baseline (fine-tuned linear head)"
    summary = "Train a classifier over all base classes; adapt a new linear head on frozen features (Chen et al. 2019)."
    exportable = True
    hyperparams = (*base_class_hyperparams(1e-3, None), *_adapt_params(), *backbone_hyperparams("conv4"))

    def _new_head(self, features: torch.Tensor, labels: torch.Tensor, ways: int) -> list[torch.Tensor]:
        return [features.new_zeros(ways, features.shape[1]), features.new_zeros(ways)]

    def _head_logits(self, head: list[torch.Tensor], features: torch.Tensor) -> torch.Tensor:
        return head_logits(features, (head[0], head[1]))

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> AdaptedClassifier:
        features = self.support_features(support_x)
        support_y = support_y.to(self.device)
        head = [p.requires_grad_() for p in self._new_head(features, support_y, ways)]
        optimizer = torch.optim.SGD(head, lr=self.hparams["adapt_lr"], momentum=ADAPT_MOMENTUM, weight_decay=ADAPT_WEIGHT_DECAY)
        with torch.enable_grad():
            for _ in range(self.hparams["adapt_steps"]):
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(self._head_logits(head, features), support_y).backward()
                optimizer.step()
        return self._classifier([p.detach() for p in head]).runs_like(self)

    def _classifier(self, head: list[torch.Tensor]) -> AdaptedClassifier:
        return LinearClassifier(self.backbone, head[0], head[1])


@register
class BaselinePlusPlus(Baseline):
    name = "baseline_pp"
    title = "Baseline++ (fine-tuned cosine head)"
    summary = "Baseline with a scaled-cosine classifier, in training and in the new head (Chen et al. 2019)."
    cosine_head = True
    # Chen et al. scale cosines by 10 when the softmax has more than 200 classes (Omniglot's has 4112).
    hyperparams = (*base_class_hyperparams(1e-3, 10.0), *_adapt_params(), *backbone_hyperparams("conv4"))

    def _new_head(self, features: torch.Tensor, labels: torch.Tensor, ways: int) -> list[torch.Tensor]:
        return [F.normalize(class_prototypes(F.normalize(features, dim=1), labels, ways), dim=1)]

    def _head_logits(self, head: list[torch.Tensor], features: torch.Tensor) -> torch.Tensor:
        return cosine_logits(features, head[0], self.hparams["scale"])

    def _classifier(self, head: list[torch.Tensor]) -> AdaptedClassifier:
        return PrototypeClassifier(self.backbone, head[0], "cosine", self.hparams["scale"])
