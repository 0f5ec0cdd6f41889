"""Fitting a run's calibration on its validation episodes, once training has finished.

Each adapt space gets its own power and temperature (adaptation/calibration.py; a metric
model's squared distances and raw-pixel cosines live on very different scales). The fit uses plain adapting on
validation episodes the run never trained on, so the temperature describes new
classes, the way a person will use the model.

A space whose classes are prototypes gets a second pair, `NAME+refined`, for its predictions once
the episode's queries have refined the prototypes (adaptation/refine.py): those sit closer to the
queries, so the plain pair would leave them over-confident.
"""

from __future__ import annotations

import torch

from workbench.adaptation.calibration import calibration_report, fit_power_and_temperature, fit_temperature, power_logits
from workbench.adaptation.refine import REFINED, refined_prototypes
from workbench.algorithms.heads import class_prototypes
from workbench.adaptation.spaces import FeatureSpace, ModelAdapt, ModelFeatures, RawPixels
from workbench.algorithms.base import Algorithm

CALIBRATION_EPISODES = 50  # with test-time shift averaging each costs 9 forward passes per image
ECE_TOLERANCE = 0.005  # how much validation ECE a fitted power may cost before plain temperature scaling is kept


def model_space(algorithm: Algorithm):
    return ModelFeatures(algorithm) if algorithm.adapt_features is not None else ModelAdapt(algorithm)


def fit_run_temperatures(algorithm: Algorithm, sampler, episodes: int = CALIBRATION_EPISODES,
                         between=lambda: None) -> dict:
    """{"temperatures": {space: T}, "powers": {space: power}, "ece_before": {space: ECE of the plain softmax},
    "ece_after": {space: ECE calibrated}, "episodes": n, ...}."""
    spaces = [model_space(algorithm), RawPixels()]
    logits: dict[str, list[torch.Tensor]] = {s.name: [] for s in spaces}
    labels = []
    encoded: dict[str, list[tuple]] = {s.name: [] for s in spaces if isinstance(s, FeatureSpace) and s.has_prototypes}
    for _ in range(episodes):
        between()
        episode = sampler.sample()
        for space in spaces:
            if isinstance(space, FeatureSpace):
                support, query = space.encode(episode.support_x), space.encode(episode.query_x)
                logits[space.name].append(space.logits(query, support, episode.support_y.cpu(), episode.ways))
                if space.name in encoded:
                    encoded[space.name].append((support, episode.support_y.cpu(), episode.ways, query))
            else:
                logits[space.name].append(space.fit(episode.support_x, episode.support_y, episode.ways)(episode.query_x))
        labels.append(episode.query_y.cpu())
    y = torch.cat(labels)
    report = {"episodes": episodes, "ways": sampler.ways, "shots": sampler.shots, "temperatures": {}, "powers": {},
              "ece_before": {}, "ece_after": {}}
    for name, parts in logits.items():
        z = torch.cat(parts).float()
        power, t = fit_power_and_temperature(z, y)
        after = _ece((power_logits(z, power) / t).softmax(1), y)
        if power != 1.0:
            # The power is fitted to the log-likelihood, which weighs the far tails; keep it only when it does
            # not cost calibration where a person reads it (raw-pixel cosines measured worse with one).
            plain_t = fit_temperature(z, y)
            plain = _ece((z / plain_t).softmax(1), y)
            if after > plain + ECE_TOLERANCE:
                power, t, after = 1.0, plain_t, plain
        report["ece_before"][name] = round(_ece(z.softmax(1), y), 4)
        report["ece_after"][name] = round(after, 4)
        report["temperatures"][name] = t
        report["powers"][name] = power
    for space in spaces:
        if space.name in encoded:
            _fit_refined(report, space, encoded[space.name], y)
    return report


def _fit_refined(report: dict, space: FeatureSpace, episodes: list[tuple], labels: torch.Tensor) -> None:
    """The power and temperature of `space`'s predictions after each episode's queries refined its
    prototypes, refined as adapting refines them (with the plain calibration's probabilities)."""
    power, t = report["powers"][space.name], report["temperatures"][space.name]

    def probabilities(rows, centres):
        return (power_logits(space.prototype_logits(rows, centres), power) / t).softmax(1)

    parts = []
    for support, support_y, ways, query in episodes:
        prototypes = class_prototypes(support, support_y, ways)
        counts = torch.bincount(support_y, minlength=ways)
        parts.append(space.prototype_logits(query, refined_prototypes(prototypes, counts, query, probabilities)))
    z = torch.cat(parts).float()
    name = space.name + REFINED
    power, t = fit_power_and_temperature(z, labels)
    report["ece_before"][name] = round(_ece((power_logits(z, report["powers"][space.name])
                                             / report["temperatures"][space.name]).softmax(1), labels), 4)
    report["ece_after"][name] = round(_ece((power_logits(z, power) / t).softmax(1), labels), 4)
    report["temperatures"][name] = t
    report["powers"][name] = power


def _ece(probs: torch.Tensor, labels: torch.Tensor) -> float:
    confidence, predicted = probs.max(1)
    return calibration_report(confidence, predicted == labels).ece
