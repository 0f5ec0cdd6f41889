"""`auto` on images of a domain the run never saw: candidates from the images, a one-shot choice that the
images waiting for a label decide, confidence no higher than they support, and features cached by image."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from workbench import catalogue
from workbench.adaptation.agreement import estimated_accuracies
from workbench.adaptation.feature_cache import FeatureCache
from workbench.adaptation.selection import AdaptPolicy
from workbench.adaptation.spaces import CosinePrototypes


def protonet(seed: int = 0):
    torch.manual_seed(seed)
    algorithm = catalogue.get("protonet")(1, 28, {"test_shifts": 0}, "cpu", "fp32")
    algorithm.train_mode(False)
    return algorithm


def quadrant_episode(ways: int = 4, shots: int = 1, queries: int = 12, seed: int = 0, brighter: float = 0.15):
    """A class is the quadrant that is a little brighter, under a fine random texture that every image has its own of.

    Mean pixels over blocks see the class at once; a convolutional network sees mostly the texture.
    """
    g = torch.Generator().manual_seed(seed)

    def draw(count):
        y = torch.arange(ways).repeat_interleave(count)
        x = torch.rand(len(y), 1, 28, 28, generator=g)
        for i, c in enumerate(y.tolist()):
            top, left = 14 * (c // 2), 14 * (c % 2)
            x[i, 0, top:top + 14, left:left + 14] += brighter
        return x.clamp(0, 1), y

    return (*draw(shots), *draw(queries))


def coarse_space() -> CosinePrototypes:
    """A cheap third feature space for the tests (in place of the pretrained network): 4x4 mean pixels."""
    return CosinePrototypes("pretrained", "coarse pixels", lambda x: F.avg_pool2d(x.float(), 7).flatten(1))


def accuracy(probs, y) -> float:
    return (probs.argmax(1) == y).float().mean().item()


def test_one_shot_off_domain_is_decided_by_the_unlabelled_images():
    algorithm = protonet()
    sx, sy, qx, qy = quadrant_episode()
    policy = AdaptPolicy(algorithm, "auto", {"model": 0.01}, pretrained=coarse_space())
    model_probs = AdaptPolicy(algorithm, "model").adapt(sx, sy, 4).predict_proba(qx)
    adapted, probs = policy.adapt_and_predict(sx, sy, 4, qx)
    assert accuracy(model_probs, qy) < 0.7  # the run's model tells these images apart little better than a guess
    assert adapted.space == "pretrained", adapted.reason
    assert accuracy(probs, qy) >= 0.9, adapted.reason
    assert "48 unlabelled images" in adapted.reason and "agree" in adapted.reason
    chosen = next(s for s in adapted.scores if s.name == adapted.space)
    model = next(s for s in adapted.scores if s.name == "model")
    assert chosen.estimate > 0.85 and model.estimate < 0.7


def test_one_shot_off_domain_confidence_is_no_higher_than_the_evidence():
    algorithm = protonet()
    sx, sy, qx, qy = quadrant_episode(seed=1, brighter=0.06)
    # A faint signal, and temperatures measured on another domain that make every space sure of itself.
    sharp = {name: 0.001 for name in ("model", "model+refined", "pixels", "pretrained", "pretrained+refined")}
    adapted, probs = AdaptPolicy(algorithm, "auto", sharp, pretrained=coarse_space()).adapt_and_predict(sx, sy, 4, qx)
    uncapped = AdaptPolicy(algorithm, "pretrained", sharp, pretrained=coarse_space()).adapt_and_predict(sx, sy, 4, qx)[1]
    estimate = next(s.estimate for s in adapted.scores if s.name == adapted.space)
    confidence, predicted = probs.max(1)
    assert uncapped.max(1).values.mean() > estimate + 0.03  # what the measured temperature alone would claim
    assert confidence.mean() <= estimate + 0.025, adapted.reason
    assert "confidence lowered" in adapted.reason
    right = predicted == qy
    assert (confidence >= 0.9).sum() <= right.sum()


def test_agreement_estimates_rank_spaces_by_their_accuracy():
    """Independent guessers, each right with its own probability, wrong on a uniformly random other class."""
    g = torch.Generator().manual_seed(0)
    truth = torch.randint(0, 5, (3000,), generator=g)

    def guesser(accuracy):
        wrong = torch.rand(len(truth), generator=g) > accuracy
        return torch.where(wrong, (truth + torch.randint(1, 5, truth.shape, generator=g)) % 5, truth)

    guesses = {"a": guesser(0.95), "b": guesser(0.7), "c": guesser(0.5)}
    estimates = estimated_accuracies(guesses, 5)
    assert estimates["a"] > estimates["b"] > estimates["c"]
    for name, predicted in guesses.items():
        assert abs(estimates[name] - (predicted == truth).float().mean().item()) < 0.04, estimates
    assert estimated_accuracies({"a": truth, "b": truth}, 5) is None  # two spaces cannot be told apart


def test_grayscale_images_get_pretrained_features_as_a_candidate(cli_protonet_run):
    from workbench.adaptation.for_run import policy_for_run
    from workbench.runs.model_loading import load_trained

    algorithm, config = load_trained(str(cli_protonet_run), "cpu")
    assert config.channels == 1
    policy = policy_for_run(str(cli_protonet_run), algorithm)
    names = [space.name for space in policy.spaces(one_shot=True)]
    assert names[:3] == ["model", "pixels", "pretrained"]
    features = policy.pretrained.encode(torch.rand(2, 1, 28, 28))
    assert features.shape == (2, 1280)


def test_features_are_computed_once_per_image_and_kept_on_disk(tmp_path):
    calls = []

    def encoder(images):
        calls.append(len(images))
        return images.flatten(1)[:, :8] * 2

    images = torch.rand(6, 1, 28, 28)
    path = tmp_path / "features" / "space.pt"
    cache = FeatureCache(path)
    first = cache.encode(encoder, images)
    again = cache.encode(encoder, torch.cat([images[3:], images[:3]]))
    assert calls == [6]
    assert torch.allclose(again, torch.cat([first[3:], first[:3]]), atol=1e-2)
    cache.save()
    fresh = FeatureCache(path)  # another process: the next adapt of the same folder
    fresh.encode(encoder, torch.cat([images, torch.rand(1, 1, 28, 28)]))
    assert calls == [6, 1] and fresh.hits == 6 and fresh.misses == 1


def test_a_damaged_feature_cache_is_rebuilt_not_trusted(tmp_path):
    path = tmp_path / "space.pt"
    path.write_bytes(b"not a cache at all")
    cache = FeatureCache(path)
    features = cache.encode(lambda x: x.flatten(1)[:, :4], torch.rand(3, 1, 28, 28))
    assert features.shape == (3, 4) and cache.misses == 3


def test_forced_pretrained_at_one_shot_is_no_surer_than_its_measured_temperature():
    from workbench.adaptation.evidence import MEASURED_TEMPERATURES

    algorithm = protonet()
    sx, sy, _, _ = quadrant_episode(seed=2)
    # Distorted copies of one image per class are easy: fitted on them alone, the temperature collapses.
    adapted = AdaptPolicy(algorithm, "pretrained", {}, pretrained=coarse_space()).adapt(sx, sy, 4)
    assert adapted.temperature >= MEASURED_TEMPERATURES["pretrained"]
    # The run's own measurement, where it has one, is the floor instead.
    own = AdaptPolicy(algorithm, "pretrained", {"pretrained": 0.5}, pretrained=coarse_space()).adapt(sx, sy, 4)
    assert own.temperature >= 0.5
