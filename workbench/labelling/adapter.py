"""Adapting a trained model to the labelled images and predicting the others.

The images are decoded once at the model's size (the slow part) and kept as one
tensor, and their features in every feature space the adapt policy may use are
computed once too (features do not depend on the labels), so adapting again after
every new label costs only the policy's choice on the labelled images and a matrix
product over the unlabelled ones. Confidences are calibrated (adaptation/selection.py).
Each adapt also audits the labels it adapted to (adaptation/audit.py) in the same pass, from the
same cached features, so the labels that look wrong come with the predictions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.adaptation.audit import audit_labels
from workbench.adaptation.selection import AdaptPolicy
from workbench.algorithms.base import Algorithm
from workbench.data.images import ImageDecodeError, load_image_file
from workbench.data.pixels import to_model_pixels
from workbench.labelling.session import LabellingError, Prediction
from workbench.labelling.suspects import Suspect


@dataclass(frozen=True)
class AdaptResult:
    """Predictions for the unlabelled images, the classes adapted to, how long it took, what was chosen,
    and the labels that look wrong (path -> Suspect)."""

    predictions: dict[str, Prediction]
    classes: tuple[str, ...]
    support_count: int
    seconds: float
    reason: str = ""  # the adapt policy's choice and why, in words
    suspects: dict[str, Suspect] = field(default_factory=dict)


EMBED_CHUNK = 256  # images encoded between two progress reports
EVIDENCE_IMAGES = 300  # unlabelled images that weigh the adapt spaces; more say little more and cost more
PREDICT_CHUNK = 512  # unlabelled images per forward pass when the chosen space is not a cached one


class Adapter:
    """One trained algorithm plus the images of one folder decoded for it.

    Promise: any registered algorithm works (the adapt policy falls back on the algorithm's
    own adapt); an image that cannot be decoded is left out and named in `problems`
    (path -> reason), never raised.
    """

    def __init__(self, algorithm: Algorithm, image_size: int, channels: int, description: str = "",
                 invert: bool = False, policy: AdaptPolicy | None = None) -> None:
        self.algorithm = algorithm
        self.image_size = image_size
        self.channels = channels
        self.invert = invert  # the run's setting: images are prepared as the model was trained on them
        self.description = description or algorithm.title
        self.policy = policy or AdaptPolicy(algorithm, "auto", fine_tune=False)  # interactive: milliseconds per adapt
        self.folder: str | None = None
        self.rows: dict[str, int] = {}
        self.images = torch.empty(0, channels, image_size, image_size)
        self.problems: dict[str, str] = {}
        self.uses_feature_cache = bool(self.policy.feature_spaces())
        self.features: dict[str, torch.Tensor] | None = None  # space name -> features of every decoded image

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
        The labels adapted to are audited too: `suspects` holds those that look wrong.
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
        support_rows = [self.rows[p] for p, _ in support]
        support_y = torch.tensor([index[name] for _, name in support])
        query = [p for p in targets if p in self.rows]
        query_rows = [self.rows[p] for p in query]
        encoded = None
        if self.uses_feature_cache:
            self.embed_all()
            encoded = {name: features[support_rows] for name, features in self.features.items()}
        # A sample of the images waiting for a label weighs the adapt spaces (adaptation/evidence.py).
        sample = query_rows[::max(1, -(-len(query_rows) // EVIDENCE_IMAGES))]
        sample_encoded = ({name: features[sample] for name, features in self.features.items()}
                          if self.features is not None and sample else None)
        adapted = self.policy.adapt(self.images[support_rows], support_y, len(used), encoded,
                                    unlabelled_x=self.images[sample] if sample else None,
                                    unlabelled_encoded=sample_encoded)
        cached = adapted.uses_features and self.features is not None and adapted.space in self.features
        unlabelled = None
        if query and self.policy.refines(adapted):  # the images waiting for a label refine the prototypes
            with torch.no_grad():
                unlabelled = (self.features[adapted.space][query_rows] if cached else
                              torch.cat([adapted.encode(self.images[query_rows[i:i + PREDICT_CHUNK]])
                                         for i in range(0, len(query_rows), PREDICT_CHUNK)]))
            adapted = adapted.with_unlabelled(unlabelled)
        predictions: dict[str, Prediction] = {}
        if query:
            with torch.no_grad():
                if unlabelled is not None:
                    probs = adapted.predict_proba_features(unlabelled)
                elif cached:
                    probs = adapted.predict_proba_features(self.features[adapted.space][query_rows])
                else:
                    probs = torch.cat([adapted.predict_proba(self.images[query_rows[i:i + PREDICT_CHUNK]]).float().cpu()
                                       for i in range(0, len(query_rows), PREDICT_CHUNK)])
            confidence, best = probs.max(dim=1)
            for path, conf, b in zip(query, confidence.tolist(), best.tolist()):
                predictions[path] = Prediction(used[b], conf)
        audited = audit_labels(self.policy, self.images[support_rows], support_y, len(used), adapted=adapted,
                               encoded=encoded)
        suspects = {support[s.index][0]: Suspect(used[s.given], used[s.likely], s.confidence) for s in audited}
        return AdaptResult(predictions, tuple(used), len(support), time.perf_counter() - begin, adapted.reason,
                           suspects)

    def embed_all(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Compute the features of every decoded image not encoded yet, in every cached space;
        `progress(done, total)` every EMBED_CHUNK images (the pretrained network takes a while per image
        the first time a folder is seen)."""
        if not self.uses_feature_cache:
            return
        features = self.features or {}
        spaces = self.policy.feature_spaces()
        total = sum(len(self.images) - (len(features[s.name]) if s.name in features else 0) for s in spaces)
        finished = 0
        for space in spaces:
            done = len(features[space.name]) if space.name in features else 0
            parts = [features[space.name]] if done else []
            for start in range(done, len(self.images), EMBED_CHUNK):
                parts.append(space.encode(self.images[start:start + EMBED_CHUNK]))
                finished += len(parts[-1])
                if progress:
                    progress(finished, total)
            if parts:
                features[space.name] = torch.cat(parts)
        self.features = features
