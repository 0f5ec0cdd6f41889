"""Adapt modes, the `auto` choice, calibrated confidence and the support-label audit."""

from __future__ import annotations

import torch

from workbench.adaptation.audit import audit_labels
from workbench.adaptation.calibration import calibration_report, fit_power_and_temperature, fit_temperature, power_logits
from workbench.adaptation.selection import MODES, AdaptPolicy
from workbench.adaptation.spaces import FittedSpace, RawPixels
from workbench import catalogue
from workbench.cli import ADAPT_MODES


def protonet(seed: int = 0, **hparams):
    torch.manual_seed(seed)
    algorithm = catalogue.get("protonet")(1, 28, {"test_shifts": 0, **hparams}, "cpu", "fp32")
    algorithm.train_mode(False)
    return algorithm


def shapes_episode(ways: int = 4, shots: int = 3, queries: int = 5, noise: float = 0.05, seed: int = 0):
    """Each class a fixed random binary pattern; images are it plus a little noise: raw pixels solve it."""
    g = torch.Generator().manual_seed(seed)
    patterns = (torch.rand(ways, 1, 28, 28, generator=g) > 0.7).float()

    def draw(count):
        x = patterns.repeat_interleave(count, 0)
        return (x + noise * torch.randn(x.shape, generator=g)).clamp(0, 1), torch.arange(ways).repeat_interleave(count)

    return (*draw(shots), *draw(queries))


def brightness_episode(ways: int = 3, shots: int = 3, queries: int = 6, seed: int = 0):
    """Classes differ only in mean brightness under fresh noise: per-image-normalised pixels see noise only."""
    g = torch.Generator().manual_seed(seed)
    levels = torch.linspace(0.15, 0.85, ways)

    def draw(count):
        y = torch.arange(ways).repeat_interleave(count)
        x = (levels[y][:, None, None, None] + 0.1 * torch.randn(len(y), 1, 28, 28, generator=g)).clamp(0, 1)
        return x, y

    return (*draw(shots), *draw(queries))


def accuracy(adapted, query_x, query_y) -> float:
    return (adapted.predict_proba(query_x).argmax(1) == query_y).float().mean().item()


def test_the_cli_offers_the_same_modes_as_the_policy():
    assert ADAPT_MODES == MODES


def test_auto_picks_raw_pixels_when_the_model_features_are_useless():
    algorithm = protonet()
    with torch.no_grad():
        for p in algorithm.backbone.parameters():
            p.zero_()  # a collapsed model: every image has the same features
    sx, sy, qx, qy = shapes_episode()
    adapted = AdaptPolicy(algorithm, "auto").adapt(sx, sy, 4)
    assert adapted.space == "pixels", adapted.reason
    assert accuracy(adapted, qx, qy) > 0.9
    assert "raw pixels" in adapted.reason and "leave-one-out" in adapted.reason


def test_auto_keeps_the_model_where_it_is_better_than_pixels():
    algorithm = protonet()
    sx, sy, qx, qy = brightness_episode()
    policy = AdaptPolicy(algorithm, "auto")
    adapted = policy.adapt(sx, sy, 3)
    assert adapted.space in ("model", "finetune"), adapted.reason
    assert accuracy(adapted, qx, qy) > 0.9
    pixels = AdaptPolicy(algorithm, "pixels").adapt(sx, sy, 3)
    assert accuracy(pixels, qx, qy) < 0.7  # the choice mattered


def test_one_shot_auto_cross_validates_on_distorted_copies_and_never_fine_tunes():
    algorithm = protonet()
    sx, sy, qx, qy = shapes_episode(shots=1)
    policy = AdaptPolicy(algorithm, "auto")
    assert "finetune" not in [s.name for s in policy.spaces(one_shot=True)]
    adapted = policy.adapt(sx, sy, 4)
    assert "distorted copies" in adapted.reason
    assert adapted.predict_proba(qx).shape == (len(qx), 4)


def test_fine_tuning_leaves_the_run_weights_untouched_and_fits_the_support_set():
    algorithm = protonet()
    before = {k: v.clone() for k, v in algorithm.backbone.state_dict().items()}
    sx, sy, qx, qy = shapes_episode()
    adapted = AdaptPolicy(algorithm, "finetune").adapt(sx, sy, 4)
    assert adapted.space == "finetune"
    assert accuracy(adapted, qx, qy) > 0.9
    assert all(torch.equal(before[k], v) for k, v in algorithm.backbone.state_dict().items())


def test_calibration_lowers_the_error_of_an_over_confident_model():
    g = torch.Generator().manual_seed(0)

    def predictions(n):
        labels = torch.randint(0, 5, (n,), generator=g)
        logits = torch.randn(n, 5, generator=g)
        logits[torch.arange(n), labels] += 1.0  # right about 55-60% of the time...
        return 8.0 * logits, labels  # ...and sure of itself: an over-confident scale

    val_logits, val_labels = predictions(3000)
    test_logits, test_labels = predictions(3000)
    temperature = fit_temperature(val_logits, val_labels)
    assert temperature > 3

    def ece(t):
        conf, pred = (test_logits / t).softmax(1).max(1)
        return calibration_report(conf, pred == test_labels)

    before, after = ece(1.0), ece(temperature)
    assert before.ece > 0.25 and after.ece < 0.03
    assert after.accepted_share == 0 or after.accepted_precision >= 0.85


def test_a_fitted_power_calibrates_harder_episodes_than_the_validation_ones():
    g = torch.Generator().manual_seed(0)

    def predictions(n, low, high):
        spread = low + (high - low) * torch.rand(n, 1, generator=g)  # easy and hard queries
        distance = spread * (1 + 3 * torch.rand(n, 10, generator=g))
        labels = torch.multinomial((-distance).softmax(1), 1, generator=g).flatten()  # evidence linear in distance
        return -distance ** 2, labels  # the model's logits: squared distances

    def ece(logits, labels):
        confidence, predicted = logits.softmax(1).max(1)
        return calibration_report(confidence, predicted == labels).ece

    val_logits, val_labels = predictions(4000, 0.5, 4.0)
    hard_logits, hard_labels = predictions(4000, 0.5, 1.0)  # only the hardest: like 20 characters of one alphabet
    power, temperature = fit_power_and_temperature(val_logits, val_labels)
    plain = fit_temperature(val_logits, val_labels)
    assert power == 0.5
    assert ece(power_logits(hard_logits, power) / temperature, hard_labels) < 0.02 < 0.05 < ece(hard_logits / plain, hard_labels)


def test_the_power_keeps_every_ranking_and_power_one_is_plain_temperature_scaling():
    logits = torch.randn(50, 7) * 3
    for power in (0.3, 1.5):
        assert torch.equal(power_logits(logits, power).argsort(1), logits.argsort(1))
    shifted = logits - logits.max(1, keepdim=True).values
    assert torch.allclose(power_logits(shifted, 1.0).softmax(1), shifted.softmax(1))
    positive = logits.abs()  # cosine-like logits above 0: the gap to the row's largest is shaped
    gap = positive.max(1, keepdim=True).values - positive
    others = gap > 0  # the largest itself sits at a floor a ten-thousandth of the row's mean gap
    assert torch.allclose(power_logits(positive, 0.5)[others], -gap.sqrt()[others])


def test_a_prior_temperature_holds_against_a_few_labels():
    logits = torch.tensor([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0]])
    labels = torch.tensor([0, 1, 0])  # three right and sure: alone they would push T toward its floor
    alone = fit_temperature(logits, labels)
    pulled = fit_temperature(logits, labels, prior=2.0, prior_weight=20)
    assert alone < 0.5 < pulled < 2.5


def test_the_audit_flags_a_deliberately_mislabelled_image():
    algorithm = protonet()
    sx, sy, _, _ = shapes_episode(ways=3, shots=4, noise=0.03)
    wrong = sy.clone()
    wrong[1] = 2  # an image of class 0 labelled as class 2
    suspects = audit_labels(AdaptPolicy(algorithm, "pixels"), sx, wrong, 3)
    assert [(s.index, s.given, s.likely) for s in suspects] == [(1, 2, 0)]
    assert audit_labels(AdaptPolicy(algorithm, "pixels"), sx, sy, 3) == []
    # A class with one image only: the adapt tests on distorted copies, so the audit leaves each image out itself.
    one_x, _, _, _ = shapes_episode(ways=4, shots=1, noise=0.03, seed=5)
    sx4, y4 = torch.cat([sx, one_x[3:]]), torch.cat([wrong, torch.tensor([3])])
    suspects = audit_labels(AdaptPolicy(algorithm, "pixels"), sx4, y4, 4)
    assert [(s.index, s.given, s.likely) for s in suspects] == [(1, 2, 0)]


class CountedNearest(FittedSpace):
    """Nearest neighbour on pixels as a space that must be fitted, counting its fits."""

    name, title = "counted", "nearest neighbour, fitted"

    def __init__(self) -> None:
        self.fits = 0

    def fit(self, support_x, support_y, ways):
        self.fits += 1
        pixels = RawPixels()
        support = pixels.encode(support_x)
        return lambda query_x: pixels.logits(pixels.encode(query_x), support, support_y, ways)


def test_the_audit_holds_images_out_in_a_few_folds_when_the_space_must_be_fitted():
    algorithm = protonet()
    sx, sy, _, _ = shapes_episode(ways=3, shots=6, noise=0.03)
    wrong = sy.clone()
    wrong[7] = 0  # an image of class 1 labelled as class 0
    space = CountedNearest()
    policy = AdaptPolicy(algorithm, "pixels")
    policy.spaces = lambda one_shot: [space]  # the only candidate
    adapted = policy.adapt(sx, wrong, 3)
    space.fits = 0
    suspects = audit_labels(policy, sx, wrong, 3, adapted=adapted)
    assert [(s.index, s.given, s.likely) for s in suspects] == [(7, 0, 1)]
    assert space.fits == 3  # a fit per fold, not one per labelled image (18)


def test_the_pretrained_space_loads_offline_and_adapts():
    from workbench.adaptation.pretrained_space import load_pretrained_space

    space = load_pretrained_space(64)
    assert space is not None
    sx, sy, qx, qy = shapes_episode(ways=2, shots=2, queries=2)
    adapted = AdaptPolicy(protonet(), "pretrained", pretrained=space).adapt(sx, sy, 2)
    assert adapted.space == "pretrained" and adapted.predict_proba(qx).shape == (4, 2)
    with torch.no_grad():  # what export saves: the same logits as one module
        torch.testing.assert_close(adapted.module(qx), adapted.logits_fn(qx), atol=1e-5, rtol=1e-5)


def test_each_chosen_space_is_also_one_module_with_the_same_logits():
    sx, sy, qx, qy = shapes_episode()
    for mode in ("pixels", "finetune"):
        adapted = AdaptPolicy(protonet(), mode).adapt(sx, sy, 4)
        with torch.no_grad():
            torch.testing.assert_close(adapted.module(qx), adapted.logits_fn(qx), atol=1e-5, rtol=1e-5)
    assert AdaptPolicy(protonet(), "model").adapt(sx, sy, 4).module is None  # export saves the run's own classifier
