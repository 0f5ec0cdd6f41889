"""The ways adapting can read a support set: the run's model, its features fine-tuned, a pretrained
network, or the raw pixels.

No single feature space wins on every domain: a model meta-trained on characters
beats raw pixels on new characters and can lose to them on another kind of
handwriting (measured in docs/benchmarks.md). Each space here turns a support set
into logits for queries; `selection.py` picks one per support set by cross-validation
on the labelled images themselves, and calibrates its confidence.

Two kinds:
- a FeatureSpace encodes each image once (features do not depend on the labels), so
  cross-validation is only index arithmetic;
- a FittedSpace has to be fitted to the labels (the algorithm's own adapt, fine-tuning),
  so cross-validation fits it again per fold.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms.base import Algorithm
from workbench.algorithms.heads import class_prototypes
from workbench.adaptation.feature_cache import FeatureCache
from workbench.adaptation.space_modules import FAR, CosineHead, NearestPixels, centred_unit
from workbench.data.augment import Augmentation
from workbench.models.pass_size import images_per_pass

LogitsFn = Callable[[torch.Tensor], torch.Tensor]


class FeatureSpace(ABC):
    """Features of each image, independent of the labels; logits from support features."""

    name: str
    title: str

    @abstractmethod
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (n, C, S, S) as the model sees them -> features (n, d), float32 on the CPU."""

    @abstractmethod
    def logits(self, query: torch.Tensor, support: torch.Tensor, support_y: torch.Tensor, ways: int) -> torch.Tensor:
        """Query features (q, d) -> logits (q, ways) given labelled support features."""

    def module(self, support: torch.Tensor, support_y: torch.Tensor, ways: int) -> nn.Module | None:
        """The same logits as one module from images, for export; None when the run's own classifier is that module."""
        return None

    # A space whose classes are the means of their features also gives logits against any prototypes,
    # so adapting can refine them with the unlabelled images (adaptation/refine.py).
    has_prototypes: bool = False

    def prototype_logits(self, query: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        """Query features (q, d) -> logits (q, ways) against prototypes (ways, d), where `has_prototypes`."""
        raise NotImplementedError(f"{self.title} does not score against prototypes")


class FittedSpace(ABC):
    """A space that is fitted to the labelled images as a whole."""

    name: str
    title: str

    @abstractmethod
    def fit(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> LogitsFn:
        """Fit to the support set; the result maps query images to logits."""

    def fit_module(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> nn.Module | None:
        """Fit, as one module from images to logits, for export; None when the run's own classifier is that module."""
        return None


def _in_chunks(encode: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device="cpu",
               size: int | None = None) -> torch.Tensor:
    """encode(images) `size` images at a time (default: what suits the device and the image size): bounded
    memory for any number of images, and fast passes."""
    size = size or images_per_pass(images, device)
    parts = [encode(images[i:i + size]).float().cpu() for i in range(0, len(images), size)]
    return torch.cat(parts) if parts else torch.empty(0, 0)


def module_logits(module: nn.Module, algorithm: Algorithm) -> LogitsFn:
    """Query images -> logits (float32, CPU) from a fitted module, a pass at a time, without gradients."""
    def logits(query_x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return _in_chunks(lambda chunk: module(algorithm.prepare(chunk)), query_x, algorithm.device)
    return logits


class RawPixels(FeatureSpace):
    """Nearest neighbour on the pixels themselves: each image centred and scaled to unit length.

    The simplest baseline there is, and on a domain far from the training data
    sometimes the best (a class is then as close as its closest labelled image).
    """

    name = "pixels"
    title = "raw pixels (nearest neighbour)"

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return centred_unit(images.cpu())

    def logits(self, query, support, support_y, ways):
        similarity = query @ support.T  # (q, s) cosine
        best = torch.full((len(query), ways), FAR)
        return best.scatter_reduce(1, support_y.expand(len(query), -1), similarity, reduce="amax")

    def module(self, support, support_y, ways):
        return NearestPixels(support, support_y, ways)


class CosinePrototypes(FeatureSpace):
    """Cosine similarity to class means of a fixed network's L2-normalised features."""

    def __init__(self, name: str, title: str, encoder: Callable[[torch.Tensor], torch.Tensor],
                 network: nn.Module | None = None, images_per_pass: int | None = None, cache=None) -> None:
        """`encoder(images)` gives the features; `network`, when given, is the module it runs (for export);
        `images_per_pass` when the network's own input size, not the images', decides what a fast pass is;
        `cache`, a FeatureCache (adaptation/feature_cache.py), when the network is slow enough to remember."""
        self.name, self.title, self.encoder, self.network = name, title, encoder, network
        self.images_per_pass, self.cache = images_per_pass, cache

    def encode(self, images):
        def chunked(rows: torch.Tensor) -> torch.Tensor:
            return _in_chunks(self.encoder, rows, size=self.images_per_pass)

        features = chunked(images) if self.cache is None else self.cache.encode(chunked, images)
        return F.normalize(features, dim=1)

    has_prototypes = True

    def logits(self, query, support, support_y, ways):
        return self.prototype_logits(query, class_prototypes(support, support_y, ways))

    def prototype_logits(self, query, prototypes):
        return query @ F.normalize(prototypes, dim=1).T

    def module(self, support, support_y, ways):
        if self.network is None:
            return None
        return CosineHead(self.network, class_prototypes(support, support_y, ways))


class ModelFeatures(FeatureSpace):
    """A metric algorithm's own adapt, from its features (the same numbers as its `adapt`)."""

    name = "model"

    def __init__(self, algorithm: Algorithm) -> None:
        self.algorithm = algorithm
        self.title = f"the run's model ({algorithm.title})"
        self.has_prototypes = algorithm.prototype_logits is not None
        # In memory only: `auto` reads a sample of the images to be predicted before predicting them all.
        self.cache = FeatureCache()

    def encode(self, images):
        return self.cache.encode(lambda rows: _in_chunks(self.algorithm.adapt_features, rows, self.algorithm.device),
                                 images)

    def logits(self, query, support, support_y, ways):
        return self.algorithm.feature_logits(query, support, support_y, ways)

    def prototype_logits(self, query, prototypes):
        return self.algorithm.prototype_logits(query, prototypes)


class ModelAdapt(FittedSpace):
    """Any algorithm's own adapt; logits are its log-probabilities."""

    name = "model"

    def __init__(self, algorithm: Algorithm) -> None:
        self.algorithm = algorithm
        self.title = f"the run's model ({algorithm.title})"

    def fit(self, support_x, support_y, ways):
        predictor = self.algorithm.adapt(support_x, support_y, ways)

        def logits(query_x: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return predictor.predict_proba(query_x).float().cpu().clamp_min(1e-12).log()

        return logits


FINE_TUNE_AUGMENTATION = Augmentation(max_shift=0.1, max_rotation_deg=12.0, max_scale_change=0.12, max_shear=0.12)


class FineTuned(FittedSpace):
    """The run's feature network fine-tuned on the support set (P>M>F, Hu et al., CVPR 2022).

    A copy of the backbone and a cosine head initialised at the class prototypes are
    trained for `steps` Adam steps on distorted copies of the support images (the
    originals stay the prototypes' anchor through the head's initialisation), so the
    features move toward what separates *these* classes. The run's weights are untouched.
    """

    name = "finetune"

    def __init__(self, algorithm: Algorithm, steps: int = 30, lr: float = 1e-3, scale: float = 10.0, seed: int = 0) -> None:
        self.algorithm, self.steps, self.lr, self.scale, self.seed = algorithm, steps, lr, scale, seed
        self.title = f"the run's features fine-tuned on the labelled images ({steps} steps, lr {lr:g})"

    def fit(self, support_x, support_y, ways):
        return module_logits(self.fit_module(support_x, support_y, ways), self.algorithm)

    def fit_module(self, support_x, support_y, ways) -> CosineHead:
        algorithm = self.algorithm
        source = algorithm.modules()["backbone"]
        backbone = copy.deepcopy(source).to(algorithm.device)
        backbone.eval()  # batch norm keeps the statistics of meta-training: a support set is too small to estimate them
        support_x = support_x.to(algorithm.device)
        labels = support_y.to(algorithm.device)
        with torch.no_grad():
            prototypes = class_prototypes(backbone(algorithm.prepare(support_x)).float().flatten(1).cpu(), support_y.cpu(), ways)
        head = torch.nn.Parameter(F.normalize(prototypes, dim=1).to(algorithm.device))
        optimiser = torch.optim.Adam([*backbone.parameters(), head], lr=self.lr)
        rng = np.random.default_rng(self.seed)
        for _ in range(self.steps):
            images = FINE_TUNE_AUGMENTATION.apply(support_x.cpu(), rng).to(algorithm.device)
            features = F.normalize(backbone(algorithm.prepare(images)).float().flatten(1), dim=1)
            loss = F.cross_entropy(self.scale * features @ F.normalize(head, dim=1).T, labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        return CosineHead(backbone, head.detach(), self.scale).eval()


def can_fine_tune(algorithm: Algorithm) -> bool:
    """Fine-tuning needs a feature network (a module named "backbone" that maps images to feature vectors)."""
    return "backbone" in algorithm.modules()
