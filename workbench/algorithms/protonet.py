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
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams, build_backbone
from workbench.algorithms.base import Algorithm, Predictor, SoftmaxPredictor, StepStats
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.data.episode import Episode
from workbench.models.shift_averaged import ShiftAveraged


def class_means(features: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """Mean feature of each class (ways, dim); works for any number of shots per class."""
    sums = torch.zeros(ways, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, labels, features)
    counts = torch.bincount(labels, minlength=ways).clamp_min(1).to(features.dtype)
    return sums / counts[:, None]


def distance_logits(query: torch.Tensor, prototypes: torch.Tensor, metric: str) -> torch.Tensor:
    if metric == "cosine":
        return 10.0 * F.normalize(query, dim=1) @ F.normalize(prototypes, dim=1).T
    return -torch.cdist(query.float(), prototypes.float()).pow(2)


@register
class ProtoNet(Algorithm):
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
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        self.optimizer = torch.optim.Adam(self.backbone.parameters(), lr=self.hparams["lr"])
        every = self.hparams["lr_decay_every"]
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, every, 0.5) if every else None

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}


    def _episode_logits(self, episode: Episode) -> torch.Tensor:
        images = self.prepare(torch.cat([episode.support_x, episode.query_x]))
        features = self.backbone(images).float()
        n_support = len(episode.support_x)
        prototypes = class_means(features[:n_support], episode.support_y, episode.ways)
        return distance_logits(features[n_support:], prototypes, self.hparams["distance"])

    def meta_train(self, episodes: list[Episode]) -> StepStats:
        self.backbone.train()
        self.optimizer.zero_grad(set_to_none=True)
        total_loss, correct, count = 0.0, 0, 0
        for episode in episodes:
            self.between_episodes()
            with self.autocast():
                logits = self._episode_logits(episode)
            loss = F.cross_entropy(logits.float(), episode.query_y)
            self.check_finite(loss)
            (loss / len(episodes)).backward()
            total_loss += loss.item()
            correct += (logits.argmax(1) == episode.query_y).sum().item()
            count += len(episode.query_y)
        self.optimizer.step()
        if self.scheduler:
            self.scheduler.step()
        return StepStats(total_loss / len(episodes), correct / count)

    def embedder(self) -> nn.Module:
        """The backbone as adapt and predict use it (shift-averaged when test_shifts is set, except while
        validating during training: the best-checkpoint choice does not need the 9x cost)."""
        return ShiftAveraged(self.backbone, 0 if self.validating else self.hparams["test_shifts"])

    def adapt_features(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding adapt compares (eval mode, shift-averaged when test_shifts is set), float32 on the CPU."""
        self.backbone.eval()
        with torch.no_grad(), self.autocast():
            return self.embedder()(self.prepare(x)).float().cpu()

    def feature_logits(self, query: torch.Tensor, support: torch.Tensor, support_y: torch.Tensor, ways: int) -> torch.Tensor:
        prototypes = class_means(support, support_y.to(support.device), ways)
        return distance_logits(query, prototypes, self.hparams["distance"])

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> Predictor:
        self.backbone.eval()
        embed = self.embedder()
        support_y = support_y.to(self.device)
        with torch.no_grad(), self.autocast():
            prototypes = class_means(embed(self.prepare(support_x)).float(), support_y, ways)

        def logits(query_x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad(), self.autocast():
                return distance_logits(embed(self.prepare(query_x)).float(), prototypes, self.hparams["distance"])

        return SoftmaxPredictor(logits)
