"""Confidence that means what it says: temperature scaling and the measures of calibration.

A softmax over a few-shot model's logits is over-confident: episodes are tiny, and
the model was trained to separate its training classes as far as it could. Dividing
the logits by one temperature T fitted on held-out predictions (Guo et al., ICML 2017)
keeps every ranking and makes "90% sure" right about 90% of the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MIN_T, MAX_T = 1e-3, 50.0  # cosine similarities differ by hundredths: their temperature is small
ACCEPT_AT = 0.9  # the confidence a person auto-accepts labels at


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
