"""Support-label audit: labelled images that the model, adapted without them, confidently puts elsewhere.

One wrong label in a one- or five-shot support set moves a whole prototype, so it is
worth finding before it spreads to every accepted prediction. Each labelled image of a
class with at least two is predicted from the other labels (in the space and with the
temperature the adapt policy chose for this support set); when another class wins with
at least `MIN_CONFIDENCE`, the label is flagged with the likely right class. The same
idea, at scale and with out-of-sample probabilities, is cleanlab's (Northcutt et al.,
JAIR 2021).

In a feature space every image is left out on its own (index arithmetic on features
encoded once, and nothing at all to compute when the adapt chose the space by that same
leave-one-out). A fitted space (MAML's inner loop, fine-tuning) costs a fit per held-out
set, so there the images are held out in a few folds instead, as cleanlab does: the audit
then costs a few adapts, not one per labelled image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.adaptation.selection import FITTED_FOLDS, Adapted, AdaptPolicy
from workbench.adaptation.spaces import FeatureSpace, FittedSpace

MIN_CONFIDENCE = 0.8


@dataclass(frozen=True)
class SuspectLabel:
    """Labelled image `index` is labelled `given` but looks like `likely` (with `confidence`)."""

    index: int
    given: int
    likely: int
    confidence: float


def audit_labels(policy: AdaptPolicy, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
                 min_confidence: float = MIN_CONFIDENCE, adapted: Adapted | None = None,
                 encoded: dict[str, torch.Tensor] | None = None) -> list[SuspectLabel]:
    """The suspect labels, most confident first.

    `adapted`: the policy's adapt to this very support set, when the caller has it (its choice of
    space and temperature are reused instead of choosing again); `encoded`: support features already
    computed, by space name (as for `AdaptPolicy.adapt`).
    """
    support_y = support_y.cpu().long()
    adapted = adapted or policy.adapt(support_x, support_y, ways, encoded)
    space = next(s for s in policy.spaces(one_shot=False) + policy.spaces(one_shot=True) if s.name == adapted.space)
    counts = torch.bincount(support_y, minlength=ways)
    auditable = counts[support_y] >= 2  # a class's only image has nothing to be compared with
    if adapted.left_out_logits is not None:
        logits = adapted.left_out_logits  # the adapt's own leave-one-out: nothing to compute again
    elif isinstance(space, FeatureSpace):
        features = encoded[space.name] if encoded and space.name in encoded else space.encode(support_x)
        logits = _left_out_logits(space, features, support_y, ways, auditable)
    else:
        logits = _folded_logits(space, support_x, support_y, ways, auditable)
    suspects = []
    for i in torch.nonzero(auditable).flatten().tolist():
        probs = adapted.calibrated(logits[i])
        confidence, likely = probs.max(dim=0)
        if int(likely) != int(support_y[i]) and float(confidence) >= min_confidence:
            suspects.append(SuspectLabel(i, int(support_y[i]), int(likely), float(confidence)))
    return sorted(suspects, key=lambda s: -s.confidence)


def _left_out_logits(space: FeatureSpace, features, support_y, ways, auditable) -> torch.Tensor:
    logits = torch.zeros(len(support_y), ways)
    for i in torch.nonzero(auditable).flatten().tolist():
        others = torch.ones(len(support_y), dtype=torch.bool)
        others[i] = False
        logits[i] = space.logits(features[i:i + 1], features[others], support_y[others], ways)[0].float()
    return logits


def _folded_logits(space: FittedSpace, support_x, support_y, ways, auditable) -> torch.Tensor:
    """Logits of each auditable image from a fit without its fold. The k-th image of a class goes to
    fold k mod folds, so no fold holds all of a class; a class's only image stays in every fit."""
    fold = torch.full((len(support_y),), -1)
    largest = int(torch.bincount(support_y[auditable]).max()) if bool(auditable.any()) else 0
    folds = min(FITTED_FOLDS, largest)
    for c in range(ways):
        rows = torch.nonzero((support_y == c) & auditable).flatten()
        fold[rows] = torch.arange(len(rows)) % max(folds, 1)
    logits = torch.zeros(len(support_y), ways)
    for k in range(folds):
        held = fold == k
        logits[held] = space.fit(support_x[~held], support_y[~held], ways)(support_x[held]).float().cpu()
    return logits
