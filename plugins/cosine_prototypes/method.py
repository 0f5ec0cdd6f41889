"""The example plugin's method: cosine prototypes with a learned scale (see __init__.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Everything a plugin needs comes from these modules of the workbench.
from workbench.algorithms.base import Algorithm, Predictor, SoftmaxPredictor, StepStats
from workbench.algorithms.registry import register
from workbench.models.backbones import make_backbone
from workbench.models.learned_scale import LearnedScale

from . import EXAMPLE  # the declaration: name, words and settings, written once in __init__.py


def cosine_logits(query: torch.Tensor, prototypes: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """(n, d) queries and (ways, d) prototypes -> (n, ways) scaled cosine similarities."""
    return scale * F.normalize(query, dim=1) @ F.normalize(prototypes, dim=1).T


def prototypes_of(features: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """The mean feature of each class; any number of shots per class."""
    sums = torch.zeros(ways, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, labels, features)
    return sums / torch.bincount(labels, minlength=ways).clamp_min(1).to(features.dtype)[:, None]


@register  # the same door the built-in algorithms use: replaces the declaration by the class
class CosinePrototypes(Algorithm):
    name, title, summary, hyperparams = EXAMPLE.name, EXAMPLE.title, EXAMPLE.summary, EXAMPLE.hyperparams

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)  # fills self.hparams
        self.backbone = make_backbone(self.hparams["backbone"], in_channels, image_size).to(self.device)
        self.scale = LearnedScale(self.hparams["initial_scale"]).to(self.device)
        params = [*self.backbone.parameters(), *self.scale.parameters()]
        self.optimizer = torch.optim.Adam(params, lr=self.hparams["lr"])

    # Every network whose weights are the model: saved in model.pt and checkpoints by these names.
    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "scale": self.scale}

    # Every optimiser a resumed run needs (its state is saved in the checkpoint).
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def meta_train(self, episodes) -> StepStats:
        """One meta-update: the mean query loss over the batch of episodes."""
        self.optimizer.zero_grad(set_to_none=True)
        total_loss, correct, count = 0.0, 0, 0
        for episode in episodes:
            self.between_episodes()  # lets the runner pause or cancel within a meta-batch
            with self.autocast():  # bf16 where the run asked for it; a no-op in fp32
                features = self.backbone(self.prepare(torch.cat([episode.support_x, episode.query_x]))).float()
            n_support = len(episode.support_x)
            prototypes = prototypes_of(features[:n_support], episode.support_y, episode.ways)
            logits = cosine_logits(features[n_support:], prototypes, self.scale())
            loss = F.cross_entropy(logits, episode.query_y)
            self.check_finite(loss)  # never step on a NaN: the run stops with a clear message instead
            # Dividing by the batch size makes the gradient the batch mean, which is what
            # multi-process training (torchrun) expects of every algorithm.
            (loss / len(episodes)).backward()
            total_loss += loss.item()
            correct += (logits.argmax(1) == episode.query_y).sum().item()
            count += len(episode.query_y)
        self.optimizer.step()
        return StepStats(total_loss / len(episodes), correct / count)

    def adapt(self, support_x, support_y, ways) -> Predictor:
        """Adapting is computing the prototypes; the predictor scores queries against them."""
        self.backbone.eval()
        with torch.no_grad(), self.autocast():
            prototypes = prototypes_of(self.backbone(self.prepare(support_x)).float(), support_y.to(self.device), ways)
        scale = self.scale().detach()

        def logits(query_x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad(), self.autocast():
                return cosine_logits(self.backbone(self.prepare(query_x)).float(), prototypes, scale)

        return SoftmaxPredictor(logits)
