"""Siamese neural networks for one-shot recognition (Koch, Zemel and Salakhutdinov, ICML Deep Learning Workshop 2015).

Promise: a verification network learns whether two images show the same class;
one-shot classification then needs no training on the new classes: a query
takes the class of the support image it is most similar to.

Verification: twin embeddings (one backbone, shared weights), their
component-wise L1 distance, a weighted sum and a sigmoid, trained with binary
cross-entropy, as in the paper. The pairs come from the episodes' images
(support and query together): every same-class pair and as many different-class
pairs drawn at random, so that both kinds weigh equally. (The paper's twin is a
4-layer convnet for 105x105 images with a 4096-unit sigmoid layer, trained with
SGD and layer-wise learning rates; here the twin is any registered backbone and
the optimiser Adam.)

Classification: per class, the `class_score` of the verification logits of the
query against that class's support images: `max` (the most similar image, the
paper's rule) or `mean`; probabilities are a softmax over these per-class
logits, so the most similar class is the most probable.
Paper figures: Koch et al. report 92.0% on 20-way one-shot Omniglot; Vinyals et
al. 2016 (Table 1) report 96.7% for a convolutional siamese net on Omniglot
5-way 1-shot.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams, build_backbone
from workbench.algorithms.classifiers import AdaptedClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.data.episode import Episode


class VerificationHead(nn.Module):
    """Two embeddings -> logit of 'same class': a weighted sum of their component-wise L1 distance."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weigh = nn.Linear(dim, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.weigh((a - b).abs()).squeeze(-1)


def balanced_pairs(labels: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Index pairs (i, j), i < j: all same-label pairs plus an equal number of random different-label ones."""
    i, j = torch.triu_indices(len(labels), len(labels), offset=1, device=labels.device)
    same = labels[i] == labels[j]
    negatives = (~same).nonzero().squeeze(1)
    keep_negatives = negatives[torch.randperm(len(negatives), device=labels.device, generator=generator)[: int(same.sum())]]
    chosen = torch.cat([same.nonzero().squeeze(1), keep_negatives])
    return i[chosen], j[chosen], same[chosen].float()


def class_scores(pair_logits: torch.Tensor, support_y: torch.Tensor, ways: int, rule: str) -> torch.Tensor:
    """(n_query, n_support) verification logits -> (n_query, ways) by max or mean over each class's images."""
    if rule == "mean":
        one_hot = F.one_hot(support_y, ways).to(pair_logits.dtype)
        return pair_logits @ one_hot / one_hot.sum(0).clamp_min(1)
    masked = pair_logits[:, None, :].masked_fill(F.one_hot(support_y, ways).T[None] == 0, float("-inf"))
    return masked.amax(dim=2)


class SiameseClassifier(AdaptedClassifier):
    """The embedded support images; a query's class logits are its verification logits against them, per class."""

    chunk = 128  # a query makes one pair with every support image

    def __init__(self, backbone: nn.Module, head: VerificationHead, support: torch.Tensor, support_y: torch.Tensor,
                 ways: int, rule: str) -> None:
        super().__init__()
        self.backbone, self.head, self.ways, self.rule = backbone, head, ways, rule
        self.register_buffer("support", support)
        self.register_buffer("support_y", support_y)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            query = self.backbone(images).float()
        return class_scores(self.head(query[:, None, :], self.support[None, :, :]), self.support_y, self.ways, self.rule)


@register
class SiameseNetworks(EpisodicAlgorithm):
    name = "siamese"
    title = "Siamese Networks"
    summary = "Learn same/different verification on image pairs; a query takes the class of its most similar support image (Koch et al. 2015)."
    exportable = True
    hyperparams = (
        HyperParam("lr", "float", 1e-3, "Adam learning rate (twin network and verification head).", 1e-6, 1.0, log_scale=True),
        HyperParam("weight_decay", "float", 0.0, "L2 penalty on the weights (the paper regularises each layer).", 0.0, 1.0),
        HyperParam("class_score", "choice", "max", "Per-class score of a query: its most similar support image (max) or the mean over them.", choices=("max", "mean")),
        *backbone_hyperparams("conv4"),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        self.head = VerificationHead(self.backbone.feature_dim).to(self.device)
        self.optimizer = torch.optim.Adam(
            [*self.backbone.parameters(), *self.head.parameters()], lr=self.hparams["lr"], weight_decay=self.hparams["weight_decay"]
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "head": self.head}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.backbone(self.prepare(x)).float()

    def _query_logits(self, query: torch.Tensor, support: torch.Tensor, support_y: torch.Tensor, ways: int) -> torch.Tensor:
        pair_logits = self.head(query[:, None, :], support[None, :, :])
        return class_scores(pair_logits, support_y, ways, self.hparams["class_score"])

    def episode_loss(self, episode: Episode):
        n_support = len(episode.support_x)
        features = self._embed(torch.cat([episode.support_x, episode.query_x]))
        labels = torch.cat([episode.support_y, episode.query_y])
        i, j, same = balanced_pairs(labels)
        loss = F.binary_cross_entropy_with_logits(self.head(features[i], features[j]), same)
        # Accuracy as the user will meet it: one-shot classification of the episode's queries.
        with torch.no_grad():
            logits = self._query_logits(features[n_support:], features[:n_support], episode.support_y, episode.ways)
        return loss, logits

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> SiameseClassifier:
        self.train_mode(False)  # running batch-norm statistics: queries never influence each other
        with torch.no_grad():
            support = self._embed(support_x)
        rule = self.hparams["class_score"]
        return SiameseClassifier(self.backbone, self.head, support, support_y.to(self.device), ways, rule).runs_like(self)
