"""An episode's support, query and prototype features in 2-D, for the embedding view."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.algorithms.base import Algorithm
from workbench.data.cache import ImageCache
from workbench.inspect.evaluation import EpisodeRecord, episode_from_record
from workbench.inspect.projection import pca_2d, tsne_2d

SUPPORT, QUERY, PROTOTYPE = "support", "query", "prototype"


@dataclass(frozen=True)
class EmbeddedPoint:
    """One point of the view: where it is, what it is, its true class, and its image (cache row)."""

    x: float
    y: float
    kind: str  # support | query | prototype
    label: int  # index into the episode's classes
    row: int  # cache row (-1 for a prototype, which has no image)
    turns: int
    predicted: int  # queries only; else equal to label


@dataclass(frozen=True)
class EpisodeEmbedding:
    classes: tuple[str, ...]
    points: tuple[EmbeddedPoint, ...]
    method: str

    def of_kind(self, kind: str) -> list[EmbeddedPoint]:
        return [p for p in self.points if p.kind == kind]


def embed_episode(algorithm: Algorithm, cache: ImageCache, record: EpisodeRecord, method: str = "pca",
                  invert: bool = False) -> EpisodeEmbedding:
    """Features of the episode's images from the algorithm's `embed`, with class means as prototypes,
    projected together by PCA or t-SNE; `invert` is the run's setting. Raises NoEmbeddingError for an
    algorithm without features."""
    episode = episode_from_record(cache, record, invert)
    support = algorithm.embed(episode.support_x)
    query = algorithm.embed(episode.query_x)
    labels = episode.support_y
    prototypes = torch.stack([support[labels == c].mean(0) for c in range(episode.ways)])
    features = torch.cat([support, query, prototypes])
    xy = (tsne_2d(features) if method == "tsne" else pca_2d(features)).tolist()
    turns = record.class_turns or (0,) * episode.ways
    points = []
    for i, (row, label) in enumerate(zip(record.support_rows, record.support_labels)):
        points.append(EmbeddedPoint(*xy[i], SUPPORT, label, row, turns[label], label))
    offset = len(record.support_rows)
    for i, (row, label, predicted) in enumerate(zip(record.query_rows, record.query_labels, record.predicted)):
        points.append(EmbeddedPoint(*xy[offset + i], QUERY, label, row, turns[label], predicted))
    offset += len(record.query_rows)
    for c in range(episode.ways):
        points.append(EmbeddedPoint(*xy[offset + c], PROTOTYPE, c, -1, 0, c))
    return EpisodeEmbedding(record.classes, tuple(points), method)
