"""The architecture a search found, as data: derived from the mixing weights, saved, read back, checked.

Derivation follows DARTS (Liu, Simonyan and Yang, ICLR 2019): for each intermediate node, every
incoming edge is scored by its strongest operation other than `none`; the node keeps its two
best-scored edges, each with that operation. States are numbered as in DARTS: 0 and 1 are the
cell's inputs (the outputs of the cell before last and of the last cell), 2 and up its own nodes,
so node k (state k + 2) may read states 0 .. k + 1.

`architecture.json`, the file a MetaNAS run writes beside model.pt, is meant to be read by a
person too: format and version, the layout (cells, nodes, channels), for each cell kind the two
kept inputs of every node with their operation and weight, and every edge's weights in full.
`read_architecture` takes only what it checked: a file that is not JSON, of another format or
version, naming an unknown operation or a state out of range, or larger than any real one, is
refused with one sentence naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.files import MIB, read_json
from workbench.models.cell_operations import NONE, OPERATIONS

FORMAT = "fewshot-workbench-architecture"
VERSION = 1
FILE_NAME = "architecture.json"
# Far above what a search writes (a few KiB), far below what could hurt.
FILE_LIMIT = 1 * MIB
CELL_KINDS = ("normal", "reduce")
# The largest layout a file may ask for (the search's own settings stay within these too).
MAX_CELLS, MAX_NODES, MAX_CHANNELS = 8, 6, 256
STATES = "0 and 1 are the cell's inputs (the cell before last, the last cell); 2 and up are its nodes"

Choice = tuple[int, str]  # (state an edge comes from, its operation)


@dataclass(frozen=True)
class Genotype:
    """A discrete cell architecture: the layout, and per cell kind each node's two (state, operation)."""

    cells: tuple[str, ...]
    nodes: int
    channels: int
    normal: tuple[tuple[Choice, ...], ...]
    reduce: tuple[tuple[Choice, ...], ...]

    def of(self, kind: str) -> tuple[tuple[Choice, ...], ...]:
        return self.normal if kind == "normal" else self.reduce

    def to_record(self, operations: tuple[str, ...] = (), mixing: dict | None = None,
                  temperature: float | None = None) -> dict[str, Any]:
        """The JSON-able record of this genotype; with the search's `mixing` weights (per kind, edges x
        operations), the weight of each kept operation and every edge's weights too."""
        record: dict[str, Any] = {"format": FORMAT, "version": VERSION, "cells": list(self.cells), "nodes": self.nodes,
                                  "channels": self.channels, "states": STATES}
        if temperature is not None:
            record["temperature"] = round(temperature, 6)
        if operations:
            record["operations"] = list(operations)
        for kind in CELL_KINDS:
            weights = mixing[kind].tolist() if mixing is not None else None
            nodes = []
            for node, choices in enumerate(self.of(kind)):
                inputs = []
                for source, operation in choices:
                    entry: dict[str, Any] = {"from": source, "operation": operation}
                    if weights is not None:
                        entry["weight"] = round(weights[_edge_index(node, source)][operations.index(operation)], 6)
                    inputs.append(entry)
                nodes.append({"node": node + 2, "inputs": inputs})
            record[kind] = {"nodes": nodes}
            if weights is not None:
                record[kind]["edges"] = [
                    {"from": source, "to": node + 2,
                     "weights": {name: round(weights[_edge_index(node, source)][k], 6) for k, name in enumerate(operations)}}
                    for node in range(self.nodes) for source in range(node + 2)
                ]
        return record


def _edge_index(node: int, source: int) -> int:
    """Position of the edge source -> node in a cell's edge list (node 0's two, node 1's three, ...)."""
    return sum(n + 2 for n in range(node)) + source


def derive_genotype(kinds: tuple[str, ...], nodes: int, channels: int, operations: tuple[str, ...],
                    mixing: dict) -> Genotype:
    """The DARTS cell of the mixing weights (per kind, a tensor edges x operations)."""
    candidates = [k for k, name in enumerate(operations) if name != NONE]

    def cell(weights) -> tuple[tuple[Choice, ...], ...]:
        chosen = []
        for node in range(nodes):
            scored = []
            for source in range(node + 2):
                row = weights[_edge_index(node, source)]
                best = max(candidates, key=lambda k: float(row[k]))
                scored.append((float(row[best]), source, operations[best]))
            scored.sort(key=lambda item: (-item[0], item[1]))  # strongest first; ties to the earlier state
            chosen.append(tuple(sorted((source, operation) for _, source, operation in scored[:2])))
        return tuple(chosen)

    return Genotype(tuple(kinds), nodes, channels, cell(mixing["normal"]), cell(mixing["reduce"]))


def write_record_text(record: dict) -> str:
    return json.dumps(record, indent=2) + "\n"


# Short names for a one-line summary: the kind and kernel are what a person compares cells by.
_TERSE = {"max_pool_3x3": "max3", "avg_pool_3x3": "avg3", "skip_connect": "skip", "sep_conv_3x3": "sep3",
          "sep_conv_5x5": "sep5", "dil_conv_3x3": "dil3"}


def describe_cell(genotype: Genotype) -> str:
    """One line for tables and lists: each node as node=op(input)+op(input), per cell kind in use.

    "normal: 2=sep3(0)+skip(1) 3=max3(0)+sep5(2); reduce: 2=max3(0)+max3(1) 3=..." (states numbered as above).
    """
    kinds = [kind for kind in CELL_KINDS if kind in genotype.cells]
    return "; ".join(
        f"{kind}: " + " ".join(f"{node + 2}=" + "+".join(f"{_TERSE.get(op, op)}({source})" for source, op in choices)
                               for node, choices in enumerate(genotype.of(kind)))
        for kind in kinds)


# --- reading ---------------------------------------------------------------------------------
def read_architecture(path: str | Path) -> Genotype:
    """The genotype in `path` (an architecture.json), checked; ConfigError naming the file otherwise."""
    path = Path(path)
    try:
        data = read_json(path, FILE_LIMIT, ConfigError, "network architecture file")
    except OSError as exc:
        raise ConfigError(f"Cannot read the architecture file {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not a valid architecture file (not valid JSON: {exc}).") from None
    try:
        return genotype_from_record(data)
    except _Damaged as exc:
        raise ConfigError(f"{path} is not a valid architecture file: {exc}.") from None


class _Damaged(Exception):
    """What is wrong with a record, in words (read_architecture adds the file's name)."""


def genotype_from_record(data: Any) -> Genotype:
    if not isinstance(data, dict):
        raise _Damaged("it must hold a JSON object")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise _Damaged(f"its format is {_shown(data.get('format'))} version {_shown(data.get('version'))}, "
                       f"not '{FORMAT}' version {VERSION}")
    nodes = _whole(data, "nodes", 1, MAX_NODES)
    channels = _whole(data, "channels", 1, MAX_CHANNELS)
    cells = data.get("cells")
    if not isinstance(cells, list) or not 1 <= len(cells) <= MAX_CELLS or any(c not in CELL_KINDS for c in cells):
        raise _Damaged(f"'cells' must be a list of 1 to {MAX_CELLS} of 'normal' and 'reduce'")
    return Genotype(tuple(cells), nodes, channels, _cell(data, "normal", nodes), _cell(data, "reduce", nodes))


def _whole(data: dict, key: str, low: int, high: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Damaged(f"'{key}' must be a whole number from {low} to {high}, not {_shown(value)}")
    return value


def _cell(data: dict, kind: str, nodes: int) -> tuple[tuple[Choice, ...], ...]:
    entry = data.get(kind)
    listed = entry.get("nodes") if isinstance(entry, dict) else None
    if not isinstance(listed, list) or len(listed) != nodes:
        raise _Damaged(f"'{kind}' must list its {nodes} nodes under 'nodes'")
    cell = []
    for index, node in enumerate(listed):
        where = f"node {index + 2} of the {kind} cell"
        inputs = node.get("inputs") if isinstance(node, dict) else None
        if not isinstance(inputs, list) or len(inputs) != 2:
            raise _Damaged(f"{where} must have two inputs")
        choices = []
        for item in inputs:
            source = item.get("from") if isinstance(item, dict) else None
            operation = item.get("operation") if isinstance(item, dict) else None
            if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < index + 2:
                raise _Damaged(f"{where} reads state {_shown(source)}, but it can only read states 0 to {index + 1}")
            if operation not in OPERATIONS or operation == NONE:
                known = ", ".join(name for name in OPERATIONS if name != NONE)
                raise _Damaged(f"{where} names the unknown operation {_shown(operation)} (known: {known})")
            choices.append((source, operation))
        cell.append(tuple(sorted(choices)))
    return tuple(cell)


def _shown(value: Any) -> str:
    """A value as the message shows it: short, whatever a hostile file holds."""
    text = repr(value) if isinstance(value, (str, int, float)) or value is None else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."
