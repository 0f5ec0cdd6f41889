"""Support-label audit: labelled images that the model, adapted without them, confidently puts elsewhere.

One wrong label in a one- or five-shot support set moves a whole prototype, so it is
worth finding before it spreads to every accepted prediction. Each labelled image of a
class with at least two is predicted from all the other labels (in the space and with
the temperature the adapt policy chose for this support set); when another class wins
with at least `MIN_CONFIDENCE`, the label is flagged with the likely right class. The
same idea, at scale and with out-of-sample probabilities, is cleanlab's (Northcutt et
al., JAIR 2021).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.adaptation.selection import AdaptPolicy
from workbench.adaptation.spaces import FeatureSpace

MIN_CONFIDENCE = 0.8


@dataclass(frozen=True)
class SuspectLabel:
    """Labelled image `index` is labelled `given` but looks like `likely` (with `confidence`)."""

    index: int
    given: int
    likely: int
    confidence: float


def audit_labels(policy: AdaptPolicy, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
                 min_confidence: float = MIN_CONFIDENCE) -> list[SuspectLabel]:
    """The suspect labels, most confident first."""
    support_y = support_y.cpu().long()
    adapted = policy.adapt(support_x, support_y, ways)
    space = next(s for s in policy.spaces(one_shot=False) + policy.spaces(one_shot=True) if s.name == adapted.space)
    counts = torch.bincount(support_y, minlength=ways)
    features = space.encode(support_x) if isinstance(space, FeatureSpace) else None
    suspects = []
    for i in range(len(support_y)):
        if counts[support_y[i]] < 2:
            continue  # without it its class would be empty: nothing to compare it with
        others = torch.ones(len(support_y), dtype=torch.bool)
        others[i] = False
        if features is not None:
            logits = space.logits(features[i:i + 1], features[others], support_y[others], ways)
        else:
            logits = space.fit(support_x[others], support_y[others], ways)(support_x[i:i + 1])
        probs = (logits.float() / adapted.temperature).softmax(dim=1)[0]
        confidence, likely = probs.max(dim=0)
        if int(likely) != int(support_y[i]) and float(confidence) >= min_confidence:
            suspects.append(SuspectLabel(i, int(support_y[i]), int(likely), float(confidence)))
    return sorted(suspects, key=lambda s: -s.confidence)
