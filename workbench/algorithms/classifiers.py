"""What adapting produces: a classifier that is a plain `nn.Module`, images -> class probabilities.

`Algorithm.adapt` returns one of these. The workbench calls `predict_proba` (chunked, no
gradients, on the algorithm's device and precision); `forward` is the same computation
as one module, so an exported model is the adapted classifier itself, copied to the CPU.
Each classifier holds what adapting fixed (prototypes, fast weights, a head) as buffers,
and its networks as submodules shared with the algorithm (fast weights: a copy).
"""

from __future__ import annotations

import copy
from contextlib import nullcontext

import torch
from torch import nn

from workbench.algorithms.base import Predictor
from workbench.algorithms.heads import class_prototypes, head_logits, metric_logits
from workbench.models.pass_size import images_per_pass


class AdaptedClassifier(nn.Module, Predictor):
    """Base of the adapted classifiers: subclasses write `logits(images)`."""

    def __init__(self) -> None:
        super().__init__()
        self.precision = "fp32"
        self.channels_last = False

    def runs_like(self, algorithm) -> "AdaptedClassifier":
        """Predict with the algorithm's precision and memory format (what its own predictions used)."""
        self.precision, self.channels_last = algorithm.precision, algorithm.channels_last
        return self

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits(images).float().softmax(dim=1)

    def autocast(self):
        """bf16 for the networks where the run asked for it; each classifier says which part runs under it."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    @property
    def device(self) -> torch.device:
        tensor = next(iter([*self.parameters(), *self.buffers()]), None)
        return tensor.device if tensor is not None else torch.device("cpu")

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, non_blocking=True)
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def predict_proba(self, query_x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            size = images_per_pass(query_x, self.device)  # bounded memory for any number of queries, fast passes
            parts = [self(self.prepare(query_x[i:i + size])) for i in range(0, len(query_x), size)]
        return torch.cat(parts) if parts else torch.empty(0)


class PrototypeClassifier(AdaptedClassifier):
    """Features scored against fixed class prototypes: Euclidean, or cosine times a scale."""

    def __init__(self, embedder: nn.Module, prototypes: torch.Tensor, metric: str = "euclidean", scale: float = 1.0) -> None:
        super().__init__()
        self.embedder, self.metric, self.scale = embedder, metric, float(scale)
        self.register_buffer("prototypes", prototypes)

    @classmethod
    def fit(cls, algorithm, embedder: nn.Module, support_x, support_y, ways: int, metric: str = "euclidean",
            scale: float = 1.0) -> "PrototypeClassifier":
        """The prototypes of the support set under `embedder` (in eval mode: running batch-norm statistics,
        so no query ever influences another)."""
        embedder.eval()
        with torch.no_grad(), algorithm.autocast():
            features = embedder(algorithm.prepare(support_x)).float()
        prototypes = class_prototypes(features, support_y.to(features.device), ways)
        return cls(embedder, prototypes, metric, scale).runs_like(algorithm)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            features = self.embedder(images).float()
        return metric_logits(features, self.prototypes, self.metric, self.scale)


class LinearClassifier(AdaptedClassifier):
    """Features of a fixed network, then a linear head fitted to the support set."""

    def __init__(self, embedder: nn.Module, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.embedder = embedder
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            features = self.embedder(images).float()
        return head_logits(features, (self.weight, self.bias))


class FastWeightsClassifier(AdaptedClassifier):
    """A copy of the backbone holding adapted (fast) weights, normalised with fixed support-set
    batch-norm statistics (`forward_with_stats`), and an adapted linear head."""

    def __init__(self, backbone: nn.Module, stats: list[tuple[torch.Tensor, torch.Tensor]],
                 weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.backbone = backbone
        self.layers = len(stats)
        for i, (mean, var) in enumerate(stats):
            self.register_buffer(f"mean_{i}", mean)
            self.register_buffer(f"var_{i}", var)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    @classmethod
    def adapted(cls, algorithm, backbone: nn.Module, params: dict[str, torch.Tensor], stats, head) -> "FastWeightsClassifier":
        """`backbone` copied with `params` (name -> adapted tensor) as its weights."""
        fast = copy.deepcopy(backbone)
        with torch.no_grad():
            for name, parameter in fast.named_parameters():
                parameter.copy_(params[name])
                parameter.requires_grad_(False)
        stats = [(mean.detach(), var.detach()) for mean, var in stats]
        return cls(fast, stats, head[0].detach(), head[1].detach()).runs_like(algorithm)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        stats = [(getattr(self, f"mean_{i}"), getattr(self, f"var_{i}")) for i in range(self.layers)]
        with self.autocast():
            features, _ = self.backbone.forward_with_stats(images, stats)
        return head_logits(features.float(), (self.weight, self.bias))
