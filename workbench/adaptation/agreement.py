"""How accurate each feature space is on images nobody labelled, from how often the spaces agree.

With one labelled image per class there is nothing left over to test a space on, and distorted
copies of the labelled images flatter the run's own model on a domain it never saw. The images
waiting for a label are the evidence there is: if two spaces are each right with probability p_i
and p_j, independently, and spread their mistakes over the other K - 1 classes, they agree on an
image with probability p_i p_j + (1 - p_i)(1 - p_j) / (K - 1). Three or more spaces give more
such equations than unknowns, so the accuracies can be solved for (Platanios, Blum and Mitchell,
"Estimating Accuracy from Unlabeled Data", UAI 2014, make the same argument for binary labels).

Mistakes are not independent (a hard image is hard for every space), so the estimates run high;
they rank spaces, and bound confidence from above only after the run's own calibration.
"""

from __future__ import annotations

import itertools

import torch

MIN_IMAGES = 10  # fewer unlabelled images than this say too little to weigh spaces by
MIN_SPACES = 3
LEARNING_RATE = 0.05  # Adam step on the accuracies' logits
TIE_PULL = 1e-4  # two spaces agreeing 60% of the time could be 100% and 60%, or 77% and 77%


def agreement_rates(predictions: dict[str, torch.Tensor]) -> dict[tuple[str, str], float]:
    """The share of images on which each pair of spaces predicts the same class."""
    return {(a, b): (predictions[a] == predictions[b]).float().mean().item()
            for a, b in itertools.combinations(predictions, 2)}


def estimated_accuracies(predictions: dict[str, torch.Tensor], ways: int, steps: int = 200) -> dict[str, float] | None:
    """Each space's accuracy on these images, solved from the pairwise agreement rates of its
    predicted classes (`predictions`: space -> (n,) class indices); None with too few spaces or images."""
    names = list(predictions)
    if len(names) < MIN_SPACES or len(next(iter(predictions.values()))) < MIN_IMAGES:
        return None
    rates = agreement_rates(predictions)
    pairs = list(rates)
    observed = torch.tensor([rates[p] for p in pairs])
    first = torch.tensor([names.index(a) for a, _ in pairs])
    second = torch.tensor([names.index(b) for _, b in pairs])
    chance = 1.0 / ways
    # Accuracies live in (chance, 1): a space right less often than chance is no better than chance here.
    start = torch.tensor([_closed_form(rates, names, n) for n in names]).clamp(chance + 1e-3, 1 - 1e-3)
    logit = torch.logit((start - chance) / (1 - chance)).requires_grad_(True)
    # Adam's update by hand on this handful of numbers: a torch optimiser would import torch's compiler
    # (seconds) into a process that only adapts.
    moment, square = torch.zeros_like(logit), torch.zeros_like(logit)
    for step in range(1, steps + 1):
        accuracy = chance + (1 - chance) * torch.sigmoid(logit)
        p, q = accuracy[first], accuracy[second]
        expected = p * q + (1 - p) * (1 - q) / max(ways - 1, 1)
        # A space at chance agrees with the others at chance whatever they are, leaving them one equation
        # short: a faint pull toward each other picks the even split instead of an arbitrary one.
        loss = ((expected - observed) ** 2).sum() + TIE_PULL * ((logit - logit.mean()) ** 2).sum()
        (gradient,) = torch.autograd.grad(loss, logit)
        moment.mul_(0.9).add_(gradient, alpha=0.1)
        square.mul_(0.999).addcmul_(gradient, gradient, value=0.001)
        with torch.no_grad():
            logit -= LEARNING_RATE * (moment / (1 - 0.9 ** step)) / ((square / (1 - 0.999 ** step)).sqrt() + 1e-8)
    final = (chance + (1 - chance) * torch.sigmoid(logit)).detach()
    return {name: float(final[i]) for i, name in enumerate(names)}


def _closed_form(rates: dict[tuple[str, str], float], names: list[str], name: str) -> float:
    """p_i ~ sqrt(a_ij a_ik / a_jk), averaged over pairs of other spaces (errors ignored): a start."""
    def rate(a: str, b: str) -> float:
        return max(rates.get((a, b), rates.get((b, a), 0.0)), 1e-3)

    others = [n for n in names if n != name]
    values = [(rate(name, j) * rate(name, k) / rate(j, k)) ** 0.5 for j, k in itertools.combinations(others, 2)]
    return min(1.0, sum(values) / len(values))
