"""Evaluation over many episodes: mean accuracy with a 95% confidence interval."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import torch

from workbench.adaptation.calibration import CalibrationReport, calibration_report
from workbench.adaptation.selection import AdaptPolicy
from workbench.algorithms.base import Algorithm
from workbench.data.episode import Episode
from workbench.data.sampler import EpisodeSampler
from workbench.training.events import EpisodePredictions


@dataclass(frozen=True)
class EvaluationResult:
    accuracy: float
    ci95: float
    loss: float
    episodes: int
    episode_accuracies: tuple[float, ...]
    calibration: CalibrationReport | None = None  # with an adapt policy: how far confidences are from accuracy
    chosen: tuple[tuple[str, int], ...] = ()  # with an adapt policy: space -> episodes it was chosen for

    def to_json(self) -> dict:
        data = {"accuracy": self.accuracy, "ci95": self.ci95, "loss": self.loss, "episodes": self.episodes}
        if self.calibration is not None:
            data["calibration"] = self.calibration.to_json()
            data["chosen"] = dict(self.chosen)
        return data


def mean_ci95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of the normal-approximation 95% interval (1.96 standard errors)."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(values) / n
    if n == 1:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(variance / n)


def evaluate(
    algorithm: Algorithm,
    sampler: EpisodeSampler,
    episodes: int,
    between: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    policy: AdaptPolicy | None = None,
) -> EvaluationResult:
    """Adapt to and score `episodes` episodes drawn from `sampler`.

    Without a `policy`, the algorithm's own adapt (validation during training); with one, the
    policy's choice per episode, and the calibration of its confidences is measured too.
    """
    if policy is None:
        accuracies, losses = [], []
        for index in range(episodes):
            if between:
                between()
            stats = algorithm.evaluate_episode(sampler.sample().to(algorithm.device))
            accuracies.append(stats.accuracy)
            losses.append(stats.loss)
            if progress:
                progress(index + 1, episodes)
        accuracy, ci = mean_ci95(accuracies)
        return EvaluationResult(accuracy, ci, sum(losses) / len(losses), episodes, tuple(accuracies))
    accuracies, losses, confidences, correct, chosen = [], [], [], [], Counter()
    for index in range(episodes):
        if between:
            between()
        episode = sampler.sample()
        adapted, probs = policy.adapt_and_predict(episode.support_x, episode.support_y, episode.ways, episode.query_x)
        confidence, predicted = probs.max(dim=1)
        right = predicted == episode.query_y.cpu()
        accuracies.append(right.float().mean().item())
        losses.append(torch.nn.functional.nll_loss(probs.clamp_min(1e-12).log(), episode.query_y.cpu()).item())
        confidences.append(confidence)
        correct.append(right)
        chosen[adapted.space] += 1
        if progress:
            progress(index + 1, episodes)
    accuracy, ci = mean_ci95(accuracies)
    report = calibration_report(torch.cat(confidences), torch.cat(correct))
    return EvaluationResult(accuracy, ci, sum(losses) / len(losses), episodes, tuple(accuracies), report,
                            tuple(sorted(chosen.items())))


def predict_episode(algorithm: Algorithm, episode: Episode, step: int = 0) -> EpisodePredictions:
    """Adapt to the episode's support set and predict its queries, as a displayable event."""
    device_episode = episode.to(algorithm.device)
    predictor = algorithm.adapt(device_episode.support_x, device_episode.support_y, episode.ways)
    with torch.no_grad():
        probs = predictor.predict_proba(device_episode.query_x).float().cpu()
    confidence, predicted = probs.max(dim=1)
    return EpisodePredictions(
        step=step,
        class_names=episode.class_names,
        class_turns=episode.class_turns,
        support_rows=episode.support_rows,
        support_labels=tuple(episode.support_y.tolist()),
        query_rows=episode.query_rows,
        query_labels=tuple(episode.query_y.tolist()),
        predicted=tuple(predicted.tolist()),
        confidence=tuple(round(c, 4) for c in confidence.tolist()),
    )
