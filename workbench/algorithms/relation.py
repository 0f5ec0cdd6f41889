"""Relation Networks (Sung, Yang, Zhang, Xiang, Torr and Hospedales, CVPR 2018).

Promise: instead of a fixed distance, a learned relation module scores how well
a query matches each class. An embedding module maps images to feature maps; a
class is the mean of its support maps (the paper sums them; the mean is the
same for equal shots up to a scale and stays fair when shots differ); the
relation module (two conv blocks, a hidden layer of 8 units, a sigmoid) scores
each (class, query) pair of concatenated maps in [0, 1]. Trained with mean
squared error to the one-hot match, as in the paper.

Probabilities for prediction: a softmax over the relation module's scores
before the sigmoid (its logits), which ranks classes exactly like the scores
and always sums to 1; normalising the sigmoid outputs instead would be nearly
uniform whenever two classes both score close to 1.

The default embedding is the paper's (`conv4_2pool`: pooling after the first
two blocks only). Any backbone works: one with `feature_maps` is compared map
against map, others as 1x1 maps of their flat features.
Paper, Omniglot 5-way 1-shot: 99.6% (28x28, trained 5-way with 19 queries per class, rotations).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams, build_backbone, feature_maps
from workbench.algorithms.classifiers import AdaptedClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.heads import class_prototypes
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.data.episode import Episode

RELATION_CHANNELS = 64


class RelationModule(nn.Module):
    """Concatenated (class, query) maps (n, 2c, h, w) -> relation logits (n,); sigmoid gives the score."""

    def __init__(self, channels: int, side: int, hidden: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(2 * channels, RELATION_CHANNELS, 3, padding=1),
                                    nn.Conv2d(RELATION_CHANNELS, RELATION_CHANNELS, 3, padding=1)])
        self.norms = nn.ModuleList([nn.BatchNorm2d(RELATION_CHANNELS) for _ in range(2)])
        # A 1x1 map (a flat backbone, or 28x28 through four poolings) is not pooled further.
        self.pools = []
        for _ in range(2):
            self.pools.append(side >= 2)
            side = side // 2 if side >= 2 else side
        self.hidden = nn.Linear(RELATION_CHANNELS * side * side, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        x = pairs
        for conv, norm, pool in zip(self.convs, self.norms, self.pools):
            x = F.relu(norm(conv(x)))
            if pool:
                x = F.max_pool2d(x, 2)
        return self.out(F.relu(self.hidden(x.flatten(1)))).squeeze(1)


def class_maps(backbone: nn.Module, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> torch.Tensor:
    """(ways, c, h, w): the mean feature map of each class's support images."""
    maps = feature_maps(backbone, support_x).float()
    return class_prototypes(maps.flatten(1), support_y, ways).view(ways, *maps.shape[1:])


def relation_logits(backbone: nn.Module, relation: RelationModule, classes: torch.Tensor, query_x: torch.Tensor) -> torch.Tensor:
    """(n_query, ways) relation logits of every query against every class map."""
    queries = feature_maps(backbone, query_x).float()
    n, ways = queries.shape[0], classes.shape[0]  # sizes, not len(): an exported graph keeps the batch size free
    pairs = torch.cat([classes[None].expand(n, -1, -1, -1, -1), queries[:, None].expand(-1, ways, -1, -1, -1)], dim=2)
    return relation(pairs.flatten(0, 1)).float().view(n, ways)


class RelationClassifier(AdaptedClassifier):
    """The class maps of a support set, scored against each query by the relation module."""

    chunk = 128  # a query makes `ways` pairs of maps

    def __init__(self, backbone: nn.Module, relation: RelationModule, classes: torch.Tensor) -> None:
        super().__init__()
        self.backbone, self.relation = backbone, relation
        self.register_buffer("classes", classes)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return relation_logits(self.backbone, self.relation, self.classes, images)


@register
class RelationNetworks(EpisodicAlgorithm):
    name = "relation"
    title = "Relation Networks"
    summary = "Score each (class, query) pair with a learned relation module (Sung et al. 2018)."
    exportable = True
    hyperparams = (
        HyperParam("lr", "float", 1e-3, "Adam learning rate (embedding and relation modules).", 1e-6, 1.0, log_scale=True),
        HyperParam("lr_decay_every", "int", 100000, "Halve the learning rate every this many meta-updates (0: never).", 0, 10**7),
        HyperParam("relation_hidden", "int", 8, "Units of the relation module's hidden layer.", 1, 4096),
        *backbone_hyperparams("conv4_2pool"),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        with torch.no_grad():
            was_training = self.backbone.training
            probe = feature_maps(self.backbone.eval(), torch.zeros(1, in_channels, image_size, image_size, device=self.device))
            self.backbone.train(was_training)
        channels, height, width = probe.shape[1:]
        self.relation = RelationModule(channels, min(height, width), self.hparams["relation_hidden"]).to(self.device)
        self.optimizer = torch.optim.Adam([*self.backbone.parameters(), *self.relation.parameters()], lr=self.hparams["lr"])
        every = self.hparams["lr_decay_every"]
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, every, 0.5) if every else None

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "relation": self.relation}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def episode_loss(self, episode: Episode):
        with self.autocast():
            classes = class_maps(self.backbone, self.prepare(episode.support_x), episode.support_y, episode.ways)
            logits = relation_logits(self.backbone, self.relation, classes, self.prepare(episode.query_x))
        target = F.one_hot(episode.query_y, episode.ways).float()
        return F.mse_loss(torch.sigmoid(logits), target), logits

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> RelationClassifier:
        self.train_mode(False)  # running batch-norm statistics: queries never influence each other
        with torch.no_grad(), self.autocast():
            classes = class_maps(self.backbone, self.prepare(support_x), support_y.to(self.device), ways)
        return RelationClassifier(self.backbone, self.relation, classes).runs_like(self)
