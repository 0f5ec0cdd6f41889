"""SimpleShot (Wang, Chao, Weinberger and van der Maaten, "SimpleShot: Revisiting Nearest-Neighbor
Classification for Few-Shot Learning", arXiv 2019).

Promise: a backbone trained as a plain classifier over the base classes (as in
Baseline) plus nearest-centroid classification on well-normalised features
matches far more elaborate meta-learners. `normalisation`: CL2N (subtract the
mean training feature, then L2-normalise; the paper's best), L2N, or UN (none).
A query's probabilities are a softmax over negative squared Euclidean distances
to the class centroids (the paper only needs the nearest one).

The mean training feature is an exponential moving average of the backbone's
features over the images of recent meta-updates (the average over all updates
early on), kept with the weights so a saved model centres exactly as it did
when it was trained. (The paper averages over the training set once training is
done; the moving average follows the backbone while it trains instead.)
Paper, Omniglot: not reported (the paper's benchmarks are mini-ImageNet,
tiered-ImageNet and CIFAR-100; Conv4 CL2N 49.7% 5-way 1-shot on mini-ImageNet).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams
from workbench.algorithms._base_classes import BaseClassTraining, base_class_hyperparams
from workbench.algorithms.base import Predictor, SoftmaxPredictor
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.heads import class_prototypes
from workbench.algorithms.registry import register

MEAN_MOMENTUM = 0.01  # the average spans roughly the last 100 meta-updates


class FeatureMean(nn.Module):
    """A running mean of training features: plain average for the first 1/momentum updates, then exponential."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update(self, features: torch.Tensor) -> None:
        self.updates += 1
        rate = max(MEAN_MOMENTUM, 1.0 / float(self.updates))
        self.mean.lerp_(features.mean(0).to(self.mean.dtype), rate)


@register
class SimpleShot(BaseClassTraining):
    name = "simpleshot"
    title = "SimpleShot"
    summary = "Nearest class centroid on centred, L2-normalised features of a base-class classifier (Wang et al. 2019)."
    hyperparams = (
        *base_class_hyperparams(1e-3, None),
        HyperParam("normalisation", "choice", "CL2N", "Feature transform before nearest centroid: centre + L2 (CL2N), L2 only (L2N), none (UN).",
                   choices=("CL2N", "L2N", "UN")),
        *backbone_hyperparams("conv4"),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.feature_mean = FeatureMean(self.backbone.feature_dim).to(self.device)

    def modules(self) -> dict[str, nn.Module]:
        return {**super().modules(), "feature_mean": self.feature_mean}

    def observe_features(self, features: torch.Tensor) -> None:
        self.feature_mean.update(features)

    def _transform(self, features: torch.Tensor) -> torch.Tensor:
        rule = self.hparams["normalisation"]
        if rule == "CL2N":
            features = features - self.feature_mean.mean
        return F.normalize(features, dim=1) if rule in ("CL2N", "L2N") else features

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> Predictor:
        support = self._transform(self.support_features(support_x))
        centroids = class_prototypes(support, support_y.to(self.device), ways)

        def logits(query_x: torch.Tensor) -> torch.Tensor:
            query = self._transform(self.support_features(query_x))
            return -torch.cdist(query, centroids).pow(2)

        return SoftmaxPredictor(logits)
