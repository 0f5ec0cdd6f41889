"""An architecture record (architecture.json, models/genotype.py) as the views show it, without Qt.

Two readings of a record, per cell kind: the *mix* (every edge's softmax over the operations, present
while a search runs and in the file it saves) and the *cell* (each node's two kept inputs with their
operation). Both are read defensively: the record comes from a file or a live event, and a view
shows what it can rather than fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ConfigError
from workbench.files import read_json
from workbench.models.genotype import CELL_KINDS, FILE_LIMIT, FILE_NAME, read_architecture

# Short names for the operations, so that a heat map's columns and a graph's edge labels stay narrow.
SHORT_NAMES = {
    "none": "none",
    "max_pool_3x3": "max 3×3",
    "avg_pool_3x3": "avg 3×3",
    "skip_connect": "skip",
    "sep_conv_3x3": "sep 3×3",
    "sep_conv_5x5": "sep 5×5",
    "dil_conv_3x3": "dil 3×3",
}
KIND_TITLES = {"normal": "Normal cell (keeps the size)", "reduce": "Reduction cell (halves the size)"}


def short_name(operation: str) -> str:
    return SHORT_NAMES.get(operation, operation)


def state_name(state: int) -> str:
    """States 0 and 1 are the cell's inputs (the cell before last, the last cell); 2 and up its nodes."""
    return ("c₋₂", "c₋₁")[state] if state < 2 else str(state)


@dataclass(frozen=True)
class KeptEdge:
    source: int
    target: int
    operation: str
    weight: float | None  # its share of the edge's mix, when the record has the mix


@dataclass(frozen=True)
class Mix:
    """One cell kind's mix: a row per edge ("c₋₁ → 2"), a column per operation, shares 0..1."""

    edges: tuple[tuple[int, int], ...]
    operations: tuple[str, ...]
    shares: tuple[tuple[float, ...], ...]

    def row_label(self, row: int) -> str:
        source, target = self.edges[row]
        return f"{state_name(source)} → {state_name(target)}"


@dataclass(frozen=True)
class CellReading:
    kind: str
    nodes: int
    kept: tuple[KeptEdge, ...]
    mix: Mix | None

    def is_kept(self, source: int, target: int, operation: str) -> bool:
        return any(e.source == source and e.target == target and e.operation == operation for e in self.kept)


def kinds_used(record: dict) -> tuple[str, ...]:
    """The cell kinds the network uses, in CELL_KINDS order (a one-cell network has only reduction)."""
    cells = record.get("cells") if isinstance(record, dict) else None
    used = set(cells) if isinstance(cells, list) else set(CELL_KINDS)
    return tuple(kind for kind in CELL_KINDS if kind in used and isinstance(record.get(kind), dict))


def read_cell(record: dict, kind: str) -> CellReading:
    entry = record.get(kind) if isinstance(record, dict) else None
    entry = entry if isinstance(entry, dict) else {}
    kept = []
    listed = entry.get("nodes") if isinstance(entry.get("nodes"), list) else []
    for node in listed:
        if not isinstance(node, dict) or not isinstance(node.get("node"), int):
            continue
        for item in node.get("inputs") or []:
            if isinstance(item, dict) and isinstance(item.get("from"), int) and isinstance(item.get("operation"), str):
                weight = item.get("weight")
                kept.append(KeptEdge(item["from"], node["node"], item["operation"],
                                     float(weight) if isinstance(weight, (int, float)) else None))
    return CellReading(kind, len(listed), tuple(kept), _mix(entry.get("edges"), record.get("operations")))


def _mix(edges, operations) -> Mix | None:
    if not isinstance(edges, list) or not isinstance(operations, list) or not operations:
        return None
    pairs, shares = [], []
    for edge in edges:
        weights = edge.get("weights") if isinstance(edge, dict) else None
        ends = (edge.get("from"), edge.get("to")) if isinstance(edge, dict) else (None, None)
        if not isinstance(weights, dict) or not all(isinstance(end, int) for end in ends):
            return None
        pairs.append((edge["from"], edge["to"]))
        shares.append(tuple(float(weights.get(name, 0.0)) for name in operations))
    return Mix(tuple(pairs), tuple(str(name) for name in operations), tuple(shares))


def summary(record: dict) -> str:
    """One line: the step's temperature and how sure the search is (the mean share of each kept operation)."""
    parts = []
    temperature = record.get("temperature") if isinstance(record, dict) else None
    if isinstance(temperature, (int, float)):
        parts.append(f"temperature {temperature:.3g}")
    weights = [e.weight for kind in kinds_used(record) for e in read_cell(record, kind).kept if e.weight is not None]
    if weights:
        parts.append(f"kept operations hold {100 * sum(weights) / len(weights):.0f}% of their edges' mix on average")
    return " · ".join(parts)


def load_record(run_dir: str | Path) -> tuple[dict | None, str]:
    """A run folder's architecture.json as a record, or (None, why not in one sentence); (None, "") when the run
    has none. Validated as a genotype, so that a view never draws what a run could not be built from."""
    path = Path(run_dir) / FILE_NAME
    if not path.is_file():
        return None, ""
    try:
        read_architecture(path)  # the checks, and one sentence naming the file for whatever is wrong
        record = read_json(path, FILE_LIMIT, ConfigError, "network architecture file")
    except ConfigError as exc:
        return None, str(exc)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:  # changed since it was checked
        return None, f"Cannot read {path}: {exc}."
    return record, ""
