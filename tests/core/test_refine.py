"""Prototypes refined with the images to be predicted (adaptation/refine.py)."""

from __future__ import annotations

import math

import torch

from workbench.adaptation.refine import refined_prototypes
from workbench.adaptation.selection import AdaptPolicy
from workbench.adaptation.spaces import CosinePrototypes
from workbench import catalogue


def softmax_of_distances(temperature: float):
    def probabilities(features, centres):
        return (-torch.cdist(features, centres) ** 2 / temperature).softmax(dim=1)
    return probabilities


def cloud(centre, count, spread, generator):
    return torch.tensor(centre, dtype=torch.float32) + spread * torch.randn(count, 2, generator=generator)


def test_unlabelled_images_pull_each_prototype_toward_its_class():
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[-4.0, 0.0], [4.0, 0.0], [0.0, 6.0]])
    labelled = centres + torch.tensor([[1.5, 1.0], [-1.0, 1.5], [1.5, -1.5]])  # one drawing each, off-centre
    unlabelled = torch.cat([cloud(c.tolist(), 30, 0.5, g) for c in centres])
    refined = refined_prototypes(labelled, torch.ones(3), unlabelled, softmax_of_distances(4.0))
    before = (labelled - centres).norm(dim=1)
    after = (refined - centres).norm(dim=1)
    assert (after < 0.3 * before).all(), (before, after)


def test_images_of_unlabelled_classes_barely_move_the_prototypes():
    g = torch.Generator().manual_seed(1)
    labelled = torch.tensor([[-4.0, 0.0], [4.0, 0.0]])
    own = torch.cat([cloud([-4.0, 0.0], 20, 0.5, g), cloud([4.0, 0.0], 20, 0.5, g)])
    others = cloud([0.0, 8.0], 40, 0.5, g)  # a class nobody labelled, as many images as the two labelled ones
    unlabelled = torch.cat([own, others])
    probabilities = softmax_of_distances(20.0)
    refined = refined_prototypes(labelled, torch.ones(2), unlabelled, probabilities)
    # Without the component at the unlabelled images' mean, the same step drags both prototypes up.
    share = probabilities(unlabelled, labelled)
    plain = (labelled + share.T @ unlabelled) / (1 + share.sum(0))[:, None]
    assert (plain[:, 1] > 2.0).all(), plain
    assert (refined - labelled).norm(dim=1).max() < 1.0, refined


def test_too_few_unlabelled_images_change_nothing():
    labelled = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    one = torch.tensor([[0.2, 0.1]])
    assert torch.equal(refined_prototypes(labelled, torch.ones(2), one, softmax_of_distances(1.0)), labelled)


def direction_images(angles_deg: list[float]) -> torch.Tensor:
    """Images whose first two pixels are a unit direction (the rest blank): a feature space of angles."""
    x = torch.zeros(len(angles_deg), 1, 28, 28)
    for i, a in enumerate(angles_deg):
        x[i, 0, 0, 0], x[i, 0, 0, 1] = math.cos(math.radians(a)), math.sin(math.radians(a))
    return x


def test_adapting_with_the_queries_fixes_prototypes_drawn_off_centre():
    # Three classes at 0, 120 and 240 degrees; both labelled images of each are drawn 50-60 degrees
    # toward the next class, so a query near its class's true direction is often nearer the wrong class.
    classes = [0.0, 120.0, 240.0]
    support_x = direction_images([c + offset for c in classes for offset in (50.0, 60.0)])
    support_y = torch.arange(3).repeat_interleave(2)
    g = torch.Generator().manual_seed(0)
    query_angles = [c + float(n) for c in classes for n in 12 * torch.randn(20, generator=g)]
    query_x, query_y = direction_images(query_angles), torch.arange(3).repeat_interleave(20)
    space = CosinePrototypes("pretrained", "two pixels", lambda x: x.flatten(1)[:, :2].clone())
    algorithm = catalogue.get("protonet")(1, 28, {"test_shifts": 0}, "cpu", "fp32")
    plain_policy = AdaptPolicy(algorithm, "pretrained", pretrained=space, refine=False)
    plain, plain_probs = plain_policy.adapt_and_predict(support_x, support_y, 3, query_x)
    refined, refined_probs = AdaptPolicy(algorithm, "pretrained", pretrained=space).adapt_and_predict(
        support_x, support_y, 3, query_x)
    plain_accuracy = (plain_probs.argmax(1) == query_y).float().mean().item()
    refined_accuracy = (refined_probs.argmax(1) == query_y).float().mean().item()
    assert plain_accuracy < 0.8 and refined_accuracy > plain_accuracy + 0.05, (plain_accuracy, refined_accuracy)
    assert "refined with 60 unlabelled images" in refined.reason and "refined" not in plain.reason
    # Without refining, adapt_and_predict is plain adapt, then predict.
    assert torch.allclose(plain_probs, plain_policy.adapt(support_x, support_y, 3).predict_proba(query_x))
    # The refined prototypes also serve images that were not among the unlabelled ones.
    assert torch.allclose(refined.predict_proba(query_x[:5]), refined_probs[:5], atol=1e-6)


def test_refined_predictions_use_the_calibration_the_run_fitted_for_them():
    classes = [0.0, 120.0, 240.0]
    support_x = direction_images([c + offset for c in classes for offset in (50.0, 60.0)])
    support_y = torch.arange(3).repeat_interleave(2)
    query_x = direction_images([c + n for c in classes for n in (-5.0, 0.0, 5.0)])
    space = CosinePrototypes("pretrained", "two pixels", lambda x: x.flatten(1)[:, :2].clone())
    algorithm = catalogue.get("protonet")(1, 28, {"test_shifts": 0}, "cpu", "fp32")
    policy = AdaptPolicy(algorithm, "pretrained", pretrained=space, temperatures={"pretrained+refined": 0.125},
                         powers={"pretrained+refined": 0.5})
    plain = policy.adapt(support_x, support_y, 3)
    refined = plain.with_unlabelled(plain.encode(query_x))
    assert (refined.temperature, refined.power) == (0.125, 0.5) and plain.power == 1.0
    assert "temperature 0.125, power 0.5" in refined.reason
    # Without a fitted pair the refined predictions keep the plain calibration.
    alone = AdaptPolicy(algorithm, "pretrained", pretrained=space).adapt(support_x, support_y, 3)
    kept = alone.with_unlabelled(alone.encode(query_x))
    assert (kept.temperature, kept.power) == (alone.temperature, alone.power)
