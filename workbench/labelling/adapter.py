"""Adapting a trained model to the labelled images and predicting the others.

The images are decoded once at the model's size (the slow part) and kept as one
tensor, so adapting again after every new label costs only the model's adapt and
a forward pass over the unlabelled images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.algorithms.base import Algorithm
from workbench.algorithms.protonet import ProtoNet, class_means, distance_logits
from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.labelling.session import LabellingError, Prediction


@dataclass(frozen=True)
class AdaptResult:
    """Predictions for the unlabelled images, the classes adapted to, and how long it took."""

    predictions: dict[str, Prediction]
    classes: tuple[str, ...]
    support_count: int
    seconds: float


class Adapter:
    """One trained algorithm plus the images of one folder decoded for it.

    Promise: `predict` calls only `Algorithm.adapt` and `Predictor.predict_proba`,
    so any registered algorithm works; an image that cannot be decoded is left out
    and named in `problems` (path -> reason), never raised.
    """

    def __init__(self, algorithm: Algorithm, image_size: int, channels: int, description: str = "",
                 invert: bool = False) -> None:
        self.algorithm = algorithm
        self.image_size = image_size
        self.channels = channels
        self.invert = invert  # the run's setting: images are prepared as the model was trained on them
        self.description = description or algorithm.title
        self.folder: str | None = None
        self.rows: dict[str, int] = {}
        self.images = torch.empty(0, channels, image_size, image_size)
        self.problems: dict[str, str] = {}
        # ProtoNet's embedding of an image does not depend on the labels (eval-mode batch norm),
        # so it is computed once per image and each Adapt is only class means and distances.
        self.uses_feature_cache = isinstance(algorithm, ProtoNet)
        self.features: torch.Tensor | None = None

    def load_images(
        self,
        folder: str,
        paths: list[str],
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Decode every path not decoded yet (relative to `folder`); False when cancelled midway."""
        if folder != self.folder:
            self.folder, self.rows, self.problems, self.features = folder, {}, {}, None
            self.images = torch.empty(0, self.channels, self.image_size, self.image_size)
        todo = [p for p in paths if p not in self.rows and p not in self.problems]
        decoded: list[np.ndarray] = []
        names: list[str] = []
        for done, path in enumerate(todo):
            if cancelled():
                return False
            try:
                decoded.append(load_image_file(str(Path(folder) / path), self.image_size, self.channels))
                names.append(path)
            except ImageDecodeError as exc:
                self.problems[path] = str(exc)
            if progress and (done % 64 == 0 or done == len(todo) - 1):
                progress(done + 1, len(todo))
        if decoded:
            start = len(self.rows)
            batch = to_model_pixels(torch.from_numpy(np.stack(decoded)), self.invert)
            self.images = torch.cat([self.images, batch]) if start else batch
            self.rows.update({name: start + i for i, name in enumerate(names)})
        return True

    def predict(self, labels: dict[str, str], classes: list[str], targets: list[str]) -> AdaptResult:
        """Adapt to `labels` (path -> class name) and predict each decoded path in `targets`.

        Only classes with at least one labelled image take part; at least two must.
        """
        begin = time.perf_counter()
        support = [(path, name) for path, name in labels.items() if path in self.rows]
        used = [c for c in classes if any(name == c for _, name in support)]
        if len(used) < 2:
            raise LabellingError(
                "Label at least one image in each of two classes before adapting "
                f"(labelled classes now: {', '.join(used) or 'none'})."
            )
        index = {name: i for i, name in enumerate(used)}
        support = [(path, name) for path, name in support if name in index]
        support_x = None if self.uses_feature_cache else self.images[[self.rows[p] for p, _ in support]]
        support_y = torch.tensor([index[name] for _, name in support])
        query = [p for p in targets if p in self.rows]
        predictions: dict[str, Prediction] = {}
        query_rows = [self.rows[p] for p in query]
        if self.uses_feature_cache:
            probs = self._metric_probabilities([self.rows[p] for p, _ in support], support_y, len(used), query_rows)
        else:
            predictor = self.algorithm.adapt(support_x, support_y, len(used))
            with torch.no_grad():
                probs = predictor.predict_proba(self.images[query_rows]).float().cpu() if query else None
        if query:
            confidence, best = probs.max(dim=1)
            for path, conf, b in zip(query, confidence.tolist(), best.tolist()):
                predictions[path] = Prediction(used[b], conf)
        return AdaptResult(predictions, tuple(used), len(support), time.perf_counter() - begin)

    def embed_all(self) -> None:
        """Compute the cached embeddings of every decoded image not embedded yet (ProtoNet only)."""
        done = 0 if self.features is None else len(self.features)
        if not self.uses_feature_cache or done == len(self.images):
            return
        algorithm: ProtoNet = self.algorithm  # type: ignore[assignment]
        algorithm.backbone.eval()
        embed = algorithm.embedder()  # the same (possibly shift-averaged) embedding as ProtoNet.adapt
        parts = [] if self.features is None else [self.features]
        with torch.no_grad(), algorithm.autocast():
            for start in range(done, len(self.images), 256):
                chunk = algorithm.prepare(self.images[start:start + 256])
                parts.append(embed(chunk).float().cpu())
        self.features = torch.cat(parts)

    def _metric_probabilities(self, support_rows, support_y, ways, query_rows) -> torch.Tensor:
        """What ProtoNet.adapt + predict_proba compute, from the cached embeddings."""
        self.embed_all()
        prototypes = class_means(self.features[support_rows], support_y, ways)
        logits = distance_logits(self.features[query_rows], prototypes, self.algorithm.hparams["distance"])
        return logits.float().softmax(dim=1)
