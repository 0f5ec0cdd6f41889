"""Fitting a run's temperatures on its validation episodes, once training has finished.

Each adapt space gets its own temperature (a metric model's squared distances and
raw-pixel cosines live on very different scales). The fit uses plain adapting on
validation episodes the run never trained on, so the temperature describes new
classes, the way a person will use the model.
"""

from __future__ import annotations

import torch

from workbench.adaptation.calibration import calibration_report, fit_temperature
from workbench.adaptation.spaces import FeatureSpace, ModelAdapt, ModelFeatures, RawPixels
from workbench.algorithms.base import Algorithm

CALIBRATION_EPISODES = 50  # with test-time shift averaging each costs 9 forward passes per image


def model_space(algorithm: Algorithm):
    return ModelFeatures(algorithm) if algorithm.adapt_features is not None else ModelAdapt(algorithm)


def fit_run_temperatures(algorithm: Algorithm, sampler, episodes: int = CALIBRATION_EPISODES,
                         between=lambda: None) -> dict:
    """{"temperatures": {space: T}, "before": {space: ECE at T=1}, "after": {space: ECE}, "episodes": n}."""
    spaces = [model_space(algorithm), RawPixels()]
    logits: dict[str, list[torch.Tensor]] = {s.name: [] for s in spaces}
    labels = []
    for _ in range(episodes):
        between()
        episode = sampler.sample()
        for space in spaces:
            if isinstance(space, FeatureSpace):
                support = space.encode(episode.support_x)
                logits[space.name].append(space.logits(space.encode(episode.query_x), support, episode.support_y.cpu(),
                                                       episode.ways))
            else:
                logits[space.name].append(space.fit(episode.support_x, episode.support_y, episode.ways)(episode.query_x))
        labels.append(episode.query_y.cpu())
    y = torch.cat(labels)
    report = {"episodes": episodes, "ways": sampler.ways, "shots": sampler.shots, "temperatures": {}, "ece_before": {},
              "ece_after": {}}
    for name, parts in logits.items():
        z = torch.cat(parts).float()
        t = fit_temperature(z, y)
        for key, scale in (("ece_before", 1.0), ("ece_after", t)):
            probs = (z / scale).softmax(1)
            confidence, predicted = probs.max(1)
            report[key][name] = round(calibration_report(confidence, predicted == y).ece, 4)
        report["temperatures"][name] = t
    return report
