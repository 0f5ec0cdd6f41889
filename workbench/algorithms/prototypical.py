"""The base of metric methods that classify by class prototypes (ProtoNet, the example plugin).

The base builds `self.backbone` from the `backbone` setting (and `backbone_weights` and
`backbone_architecture` where the algorithm declares them) and an Adam optimiser at the `lr` setting; a subclass
says how features are compared (`metric`, `logit_scale`). Training, adapting, the labelling feature
cache and export then come from here: an episode's loss is the cross-entropy of its
queries against the prototypes of its support set, and `adapt` returns a
PrototypeClassifier.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import build_backbone
from workbench.algorithms.classifiers import PrototypeClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.heads import class_prototypes, metric_logits
from workbench.data.episode import Episode


class PrototypeAlgorithm(EpisodicAlgorithm):
    """Prototypes of an embedding network, compared by `metric` ("euclidean" or "cosine")."""

    metric = "euclidean"
    exportable = True  # adapt gives a PrototypeClassifier

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam over every module's weights at the `lr` setting, made on first use (after a subclass's
        __init__ has added its modules), unless the subclass made its own `self.optimizer`."""
        if getattr(self, "optimizer", None) is None:
            self.optimizer = torch.optim.Adam([p for m in self.modules().values() for p in m.parameters()], lr=self.hparams["lr"])
        return {"adam": self.optimizer}

    def logit_scale(self) -> torch.Tensor | float:
        """What cosine similarities are multiplied by (a setting or a learned scale)."""
        return 1.0

    def embedder(self) -> nn.Module:
        """The network adapt and predict embed with (ProtoNet's may average over shifted copies)."""
        return self.backbone

    def episode_loss(self, episode: Episode):
        with self.autocast():
            features = self.backbone(self.prepare(torch.cat([episode.support_x, episode.query_x]))).float()
        n_support = len(episode.support_x)
        prototypes = class_prototypes(features[:n_support], episode.support_y, episode.ways)
        logits = metric_logits(features[n_support:], prototypes, self.metric, self.logit_scale())
        return F.cross_entropy(logits, episode.query_y), logits

    def fixed_scale(self) -> float:
        """The scale as a number, fixed when adapting."""
        scale = self.logit_scale()
        return float(scale.detach()) if isinstance(scale, torch.Tensor) else float(scale)

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> PrototypeClassifier:
        return PrototypeClassifier.fit(self, self.embedder(), support_x, support_y, ways, self.metric, self.fixed_scale())

    # The labelling page and the adapt policy encode each image once with these (see Algorithm).
    def adapt_features(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding adapt compares (eval mode), float32 on the CPU."""
        embedder = self.embedder().eval()
        with torch.no_grad(), self.autocast():
            return embedder(self.prepare(x)).float().cpu()

    def feature_logits(self, query: torch.Tensor, support: torch.Tensor, support_y: torch.Tensor, ways: int) -> torch.Tensor:
        return self.prototype_logits(query, class_prototypes(support, support_y.to(support.device), ways))

    def prototype_logits(self, query: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        return metric_logits(query, prototypes, self.metric, self.fixed_scale())
