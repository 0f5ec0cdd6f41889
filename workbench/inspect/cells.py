"""The queries behind one cell of an evaluation's confusion matrix (true class A predicted as B).

The matrix counts every query of every episode; a person looking at a cell wants its images, each
once: a query image drawn in several episodes is listed at its most confident prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.inspect.evaluation import Inspection


@dataclass(frozen=True)
class CellQuery:
    """A query image of the cell: which episode and cache row, how it was turned, how sure the model was."""

    episode: int
    query_row: int
    turns: int
    confidence: float


def cell_queries(inspection: Inspection, true_class: str, predicted_class: str) -> list[CellQuery]:
    """Each query image of `true_class` predicted as `predicted_class` once, the most confident first."""
    best: dict[tuple[int, int], CellQuery] = {}
    for e, record in enumerate(inspection.episodes):
        turns = record.class_turns or (0,) * len(record.classes)
        for true, predicted, row, confidence in zip(record.query_labels, record.predicted, record.query_rows,
                                                    record.confidence):
            if record.classes[true] != true_class or record.classes[predicted] != predicted_class:
                continue
            key = (row, turns[true])
            kept = best.get(key)
            if kept is None or confidence > kept.confidence:
                best[key] = CellQuery(e, row, turns[true], confidence)
    return sorted(best.values(), key=lambda q: (-q.confidence, q.query_row))
