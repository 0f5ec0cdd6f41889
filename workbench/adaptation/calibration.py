"""Confidence that means what it says: temperature scaling and the measures of calibration.

A softmax over a few-shot model's logits is over-confident: episodes are tiny, and
the model was trained to separate its training classes as far as it could. Dividing
the logits by one temperature T fitted on held-out predictions (Guo et al., ICML 2017)
keeps every ranking and makes "90% sure" right about 90% of the time.

One temperature fits one level of difficulty. Harder episodes than the validation ones
(20 similar characters of one alphabet instead of a mix) measured under-confident at
every confidence (docs/benchmarks.md): a squared distance grows faster than the evidence it carries.
So the distances are first raised to a power: logits z become -(c - z)^power, with c
the row's largest logit or 0, whichever is larger (for a metric model's -d^2, c = 0 and
this is -d^(2 power)). Both numbers are fitted on the validation episodes; the map is
increasing in z, so rankings are kept (up to distances too small to tell apart, see
power_logits), and power 1 is plain temperature scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workbench.runs.folder import POWER_RANGE, TEMPERATURE_RANGE

# Cosine similarities differ by hundredths (a small T); squared distances raised to a power can be large.
MIN_T, MAX_T = TEMPERATURE_RANGE
ACCEPT_AT = 0.9  # the confidence a person auto-accepts labels at


DISTANCE_FLOOR = 1e-4
POWERS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)  # the grid the fit chooses from
assert (min(POWERS), max(POWERS)) == POWER_RANGE  # a run folder accepts exactly what the fit can choose


def power_logits(logits: torch.Tensor, power: float) -> torch.Tensor:
    """-(c - z)^power per row, c = max(0, the row's largest logit): the same ranking, other spacing."""
    if power == 1.0:
        return logits
    logits = logits.float()
    origin = logits.max(dim=-1, keepdim=True).values.clamp_min(0)
    distance = (origin - logits).clamp_min(0)
    # A power below 1 is steep at 0: an image matched with itself (distance 0 give or take rounding) would
    # swing with the last bits of a float, so distances under a ten-thousandth of the row's mean count as that.
    floor = DISTANCE_FLOOR * distance.mean(dim=-1, keepdim=True)
    return -torch.maximum(distance, floor).pow(power)


def fit_power_and_temperature(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """The (power, temperature) of the lowest negative log-likelihood (a grid of powers, each with its best T)."""
    best = None
    for power in POWERS:
        shaped = power_logits(logits.detach().float(), power)
        t = fit_temperature(shaped, labels)
        nll = F.cross_entropy(shaped / t, labels.long(), reduction="sum").item()
        if best is None or nll < best[0]:
            best = (nll, power, t)
    return best[1], best[2]


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, prior: float | None = None,
                    prior_weight: float = 0.0) -> float:
    """The T that minimises the negative log-likelihood of `labels` under softmax(logits / T).

    With a `prior` temperature, the fit is pulled toward it in log space by `prior_weight`
    pseudo-samples (a few labelled images must not undo what thousands of episodes measured).
    A one-dimensional convex problem in log T: golden-section search, no optimiser state.
    """
    logits = logits.detach().float()
    labels = labels.detach().long()
    if len(labels) == 0:
        return prior if prior is not None else 1.0

    def cost(log_t: float) -> float:
        nll = F.cross_entropy(logits / math.exp(log_t), labels, reduction="sum").item()
        if prior is not None and prior_weight:
            nll += prior_weight * (log_t - math.log(prior)) ** 2
        return nll

    low, high = math.log(MIN_T), math.log(MAX_T)
    golden = (math.sqrt(5) - 1) / 2
    a, b = high - golden * (high - low), low + golden * (high - low)
    cost_a, cost_b = cost(a), cost(b)
    for _ in range(60):
        if cost_a < cost_b:
            high, b, cost_b = b, a, cost_a
            a = high - golden * (high - low)
            cost_a = cost(a)
        else:
            low, a, cost_a = a, b, cost_b
            b = low + golden * (high - low)
            cost_b = cost(b)
    return float(math.exp((low + high) / 2))


@dataclass(frozen=True)
class CalibrationReport:
    """How well confidences match accuracy over many predictions."""

    ece: float  # expected calibration error: mean |accuracy - confidence| over 15 equal-width bins, weighted
    bins: tuple[tuple[float, float, float, int], ...]  # (low edge, mean confidence, accuracy, count) per bin
    accepted_share: float  # share of predictions at >= ACCEPT_AT
    accepted_precision: float  # accuracy of those (nan when none)
    count: int

    def to_json(self) -> dict:
        return {"ece": self.ece, "accepted_share": self.accepted_share,
                "accepted_precision": None if math.isnan(self.accepted_precision) else self.accepted_precision,
                "predictions": self.count,
                "bins": [{"from": b[0], "confidence": b[1], "accuracy": b[2], "count": b[3]} for b in self.bins]}


def calibration_report(confidence: torch.Tensor, correct: torch.Tensor, bins: int = 15) -> CalibrationReport:
    """ECE, a reliability table and the precision of predictions at >= ACCEPT_AT."""
    confidence = confidence.detach().float().flatten()
    correct = correct.detach().float().flatten()
    n = len(confidence)
    if n == 0:
        return CalibrationReport(float("nan"), (), 0.0, float("nan"), 0)
    edges = torch.linspace(0, 1, bins + 1)
    index = torch.bucketize(confidence, edges[1:-1], right=True)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if not count:
            continue
        mean_conf, accuracy = confidence[mask].mean().item(), correct[mask].mean().item()
        ece += count / n * abs(accuracy - mean_conf)
        rows.append((float(edges[b]), mean_conf, accuracy, count))
    accepted = confidence >= ACCEPT_AT
    precision = correct[accepted].mean().item() if accepted.any() else float("nan")
    return CalibrationReport(ece, tuple(rows), accepted.float().mean().item(), precision, n)
