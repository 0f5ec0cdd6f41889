"""Training a backbone as a plain classifier over all base (training) classes, from episodes.

Baseline, Baseline++ (Chen et al. 2019) and SimpleShot (Wang et al. 2019) do not
learn from episodes as tasks: they train backbone + classifier over every
training class at once. The interface hands them episodes, whose labels are
0..ways-1 within the episode, so the global class of an image comes from the
episode's `class_names`: `BaseClassifier` keeps a mapping name -> row of its
weight matrix that grows as new names appear (a rotated class, "name (rot 90)",
is a class of its own, as in the sampler). The weight matrix has a fixed
capacity (`max_classes`: Chen et al. size Omniglot's softmax at 4112), so the
optimiser's state never changes shape; the softmax runs over the rows met so
far only. The names travel in the module's extra state, so state_dict /
load_state_dict (and so saved models and resumed runs) keep weights and mapping
together.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import build_backbone
from workbench.algorithms.base import Algorithm, StepStats
from workbench.algorithms.hyperparams import HyperParam
from workbench.data.episode import Episode
from workbench.errors import ConfigError

OMNIGLOT_MAX_CLASSES = 4112  # Chen et al. 2019's softmax size for Omniglot


class BaseClassifier(nn.Module):
    """Linear (`cosine=False`) or scaled-cosine classifier over base classes known by name."""

    def __init__(self, feature_dim: int, capacity: int, cosine: bool, scale: float) -> None:
        super().__init__()
        self.cosine, self.scale = cosine, scale
        self.weight = nn.Parameter(torch.empty(capacity, feature_dim))
        nn.init.kaiming_uniform_(self.weight, a=5**0.5)  # nn.Linear's initialisation
        self.bias = nn.Parameter(torch.zeros(capacity)) if not cosine else None
        self.class_names: list[str] = []
        self._rows: dict[str, int] = {}

    @property
    def capacity(self) -> int:
        return self.weight.shape[0]

    def rows_for(self, names: tuple[str, ...]) -> torch.Tensor:
        """The row of each class name, new names getting the next free rows."""
        for name in names:
            if name not in self._rows:
                if len(self.class_names) >= self.capacity:
                    raise ConfigError(
                        f"Training met more than {self.capacity} classes, the classifier's 'max_classes'; "
                        "raise max_classes to at least the number of training classes (rotations count as classes)."
                    )
                self._rows[name] = len(self.class_names)
                self.class_names.append(name)
        return torch.tensor([self._rows[name] for name in names], device=self.weight.device)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits over the classes met so far (n, known)."""
        known = len(self.class_names)
        if self.cosine:
            return self.scale * F.normalize(features, dim=1) @ F.normalize(self.weight[:known], dim=1).T
        return features @ self.weight[:known].T + self.bias[:known]

    def get_extra_state(self) -> Any:
        return {"class_names": list(self.class_names)}

    def set_extra_state(self, state: Any) -> None:
        self.class_names = list(state["class_names"])
        self._rows = {name: row for row, name in enumerate(self.class_names)}


def base_class_hyperparams(lr: float, cosine_default_scale: float | None) -> tuple[HyperParam, ...]:
    params = [
        HyperParam("lr", "float", lr, "Adam learning rate for backbone and base-class classifier.", 1e-6, 1.0, log_scale=True),
        HyperParam("max_classes", "int", OMNIGLOT_MAX_CLASSES, "Most training classes the base classifier can hold (rotations count).", 2, 10**6),
    ]
    if cosine_default_scale is not None:
        params.append(HyperParam("scale", "float", cosine_default_scale, "Scale of the cosine similarities (softmax temperature).", 0.1, 100.0))
    return tuple(params)


class BaseClassTraining(Algorithm):
    """Meta-training is ordinary classification of every episode image over all base classes seen."""

    cosine_head = False

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        self.classifier = BaseClassifier(
            self.backbone.feature_dim, self.hparams["max_classes"], self.cosine_head, self.hparams.get("scale", 1.0)
        ).to(self.device)
        self.optimizer = torch.optim.Adam([*self.backbone.parameters(), *self.classifier.parameters()], lr=self.hparams["lr"])

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "classifier": self.classifier}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def observe_features(self, features: torch.Tensor) -> None:
        """Hook: the (detached) training features of each meta-update (SimpleShot averages them)."""

    def meta_train(self, episodes: list[Episode]) -> StepStats:
        self.train_mode(True)
        images, labels = [], []
        for episode in episodes:
            self.between_episodes()
            rows = self.classifier.rows_for(episode.class_names)
            images += [episode.support_x, episode.query_x]
            labels += [rows[episode.support_y], rows[episode.query_y]]
        labels_all = torch.cat(labels)
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            features = self.backbone(self.prepare(torch.cat(images))).float()
        logits = self.classifier(features)
        loss = F.cross_entropy(logits, labels_all)
        self.check_finite(loss)
        loss.backward()
        self.optimizer.step()
        self.observe_features(features.detach())
        accuracy = (logits.argmax(1) == labels_all).float().mean().item()
        return StepStats(loss.item(), accuracy)

    def support_features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of the frozen backbone with running batch-norm statistics (no image affects another)."""
        self.train_mode(False)
        with torch.no_grad(), self.autocast():
            return self.backbone(self.prepare(x)).float()
