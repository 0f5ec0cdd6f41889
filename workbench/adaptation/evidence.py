"""What the images waiting for a label say about each feature space: its predictions on them, and
how accurate it probably is there (adaptation/agreement.py).

Each space reads the unlabelled images as adapting would: its prototypes refined with them
(adaptation/refine.py) and its probabilities calibrated as the run measured (or, for a space the run
never measured, as measured on other domains). How often the spaces agree then estimates how often
each is right, on the person's own images rather than on the run's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from workbench.adaptation.agreement import estimated_accuracies
from workbench.adaptation.calibration import power_logits
from workbench.adaptation.refine import REFINED, refined_prototypes
from workbench.adaptation.spaces import FeatureSpace, FittedSpace
from workbench.algorithms.heads import class_prototypes

# A temperature for a space no run measures, by name: the pretrained network's cosine logits, fitted on
# Omniglot's unseen alphabets, the demo glyphs and printed characters (docs/benchmarks.md).
MEASURED_TEMPERATURES = {"pretrained": 0.05, "pretrained" + REFINED: 0.05}


@dataclass(frozen=True)
class UnlabelledEvidence:
    """Per space: calibrated probabilities on the unlabelled images; and each space's estimated accuracy
    there (None when too few spaces or images to estimate it)."""

    probabilities: dict[str, torch.Tensor]
    estimates: dict[str, float] | None
    images: int


def calibration_of(name: str, temperatures: dict[str, float], powers: dict[str, float]) -> tuple[float, float]:
    """(temperature, power) for space `name`: the run's measurement, else one measured elsewhere, else plain."""
    temperature = temperatures.get(name) or MEASURED_TEMPERATURES.get(name)
    if temperature is None and name.endswith(REFINED):
        return calibration_of(name[:-len(REFINED)], temperatures, powers)
    return float(temperature or 1.0), float(powers.get(name, 1.0))


def space_probabilities(space: FeatureSpace, support: torch.Tensor, support_y: torch.Tensor, ways: int,
                        unlabelled: torch.Tensor, temperatures: dict, powers: dict) -> torch.Tensor:
    """`space`'s calibrated probabilities for the unlabelled features, its prototypes refined with them."""
    if not space.has_prototypes:
        t, p = calibration_of(space.name, temperatures, powers)
        return (power_logits(space.logits(unlabelled, support, support_y, ways).float(), p) / t).softmax(1)
    t, p = calibration_of(space.name, temperatures, powers)

    def probabilities(rows: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        return (power_logits(space.prototype_logits(rows, centres).float(), p) / t).softmax(1)

    prototypes = class_prototypes(support, support_y, ways)
    counts = torch.bincount(support_y, minlength=ways)
    refined = refined_prototypes(prototypes, counts, unlabelled, probabilities)
    t, p = calibration_of(space.name + REFINED, temperatures, powers)
    return (power_logits(space.prototype_logits(unlabelled, refined).float(), p) / t).softmax(1)


def fitted_probabilities(space: FittedSpace, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
                         unlabelled_x: torch.Tensor, temperatures: dict, powers: dict) -> torch.Tensor:
    """A fitted space's (the algorithm's own adapt) calibrated probabilities for the unlabelled images."""
    t, p = calibration_of(space.name, temperatures, powers)
    with torch.no_grad():
        logits = space.fit(support_x, support_y, ways)(unlabelled_x).float()
    return (power_logits(logits, p) / t).softmax(1)


def weigh(probabilities: dict[str, torch.Tensor], ways: int) -> UnlabelledEvidence:
    """The evidence of every space's reading of the same unlabelled images."""
    predictions = {name: probs.argmax(1) for name, probs in probabilities.items()}
    images = len(next(iter(probabilities.values()))) if probabilities else 0
    return UnlabelledEvidence(probabilities, estimated_accuracies(predictions, ways), images)


def capped_scale(probabilities_at: "callable", ceiling: float, most: float = 64.0) -> float:
    """The factor (>= 1) to multiply a temperature by so that the mean confidence `probabilities_at(factor)`
    gives is at most `ceiling`: confidence no higher than the evidence supports. 1 when it already is."""
    def mean_confidence(factor: float) -> float:
        return float(probabilities_at(factor).max(dim=1).values.mean())

    if mean_confidence(1.0) <= ceiling:
        return 1.0
    low, high = 1.0, most
    if mean_confidence(high) > ceiling:
        return high
    for _ in range(30):
        middle = (low * high) ** 0.5
        low, high = (middle, high) if mean_confidence(middle) > ceiling else (low, middle)
    return high
