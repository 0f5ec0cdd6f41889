"""The support images of `adapt` whose folder looks like the wrong one (adaptation/audit.py), named by path.

A support set is a folder per class, and one image dropped in the wrong folder moves its whole
class; `adapt` names each such image, with the class it looks like, next to its predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.adaptation.audit import audit_labels
from workbench.adaptation.selection import Adapted, AdaptPolicy
from workbench.data.problems import printable


@dataclass(frozen=True)
class SuspectSupport:
    """Support image `path`, in the folder of class `given`, looks like class `likely` (with `confidence`)."""

    path: str
    given: str
    likely: str
    confidence: float

    def describe(self) -> str:
        """One line for stderr, whatever the names hold."""
        return (f"{printable(self.path)} is labelled {printable(self.given)} but looks like {printable(self.likely)} "
                f"({self.confidence:.0%})")

    def to_json(self) -> dict:
        return {"path": self.path, "given": self.given, "likely": self.likely, "confidence": round(self.confidence, 6)}


def audit_support(policy: AdaptPolicy, adapted: Adapted, names: list[str], paths: list[str],
                  support_x: torch.Tensor, support_y: torch.Tensor) -> list[SuspectSupport]:
    """The support images that look like another class, most confident first (`adapted`: the adapt to them)."""
    return [SuspectSupport(paths[s.index], names[s.given], names[s.likely], s.confidence)
            for s in audit_labels(policy, support_x, support_y, len(names), adapted=adapted)]
