"""Backbones: output shapes for Omniglot- and ImageNet-sized images, and where ResNet-18's ImageNet weights come from."""

import pytest
import torch
import torchvision

from workbench import catalogue
from workbench.errors import ConfigError
from workbench.models.backbones import backbone_names, make_backbone

# Built offline: the ImageNet backbone has its own tests below, and the searched one (built from a MetaNAS
# run's architecture.json) in tests/core/test_metanas.py.
OFFLINE = [name for name in backbone_names() if name not in ("resnet18_imagenet", "searched")]


@pytest.mark.parametrize("name", OFFLINE)
def test_backbone_gives_flat_features_of_its_declared_size(name):
    torch.manual_seed(0)
    for channels in (1, 3):
        # The wide ResNet-12 is checked at 84x84 below; here its 28x28 run stands for it (CPU time).
        for size in (28,) if name == "resnet12" else (28, 84):
            net = make_backbone(name, channels, size).eval()
            images = torch.rand(2, channels, size, size)
            with torch.no_grad():
                features = net(images)
                maps = net.feature_maps(images) if hasattr(net, "feature_maps") else None
            assert features.shape == (2, net.feature_dim), (channels, size)
            assert torch.isfinite(features).all()
            if maps is not None:
                # Either the features are the maps averaged over space, or the maps flattened.
                assert maps.dim() == 4 and len(maps) == 2
                assert maps.shape[1] == net.feature_dim or maps[0].numel() == net.feature_dim


def test_resnet12_has_the_papers_widths_and_the_narrow_one_a_quarter():
    wide, narrow = make_backbone("resnet12", 3, 84), make_backbone("resnet12_narrow", 1, 28)
    assert (wide.feature_dim, narrow.feature_dim) == (640, 160)
    assert [b.convs[0].out_channels for b in wide.blocks] == [64, 160, 320, 640]
    with torch.no_grad():
        assert wide.feature_maps(torch.rand(1, 3, 84, 84)).shape == (1, 640, 5, 5)


def test_too_small_images_are_refused_with_a_message():
    for name in ("resnet12", "resnet18", "conv4_2pool"):
        with pytest.raises(ConfigError, match="Image size"):
            make_backbone(name, 1, 8)
    with pytest.raises(ConfigError, match="channels"):
        make_backbone("resnet18", 2, 28)


def test_without_internet_imagenet_weights_give_a_clear_message(tmp_path, monkeypatch):
    # An empty hub cache and a proxy nobody listens on: the download fails as it would offline.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with pytest.raises(ConfigError) as refused:
        make_backbone("resnet18_imagenet", 1, 28)
    message = str(refused.value)
    assert "resnet18-f37072fd.pth" in message and "backbone_weights" in message
    assert str(tmp_path / "torch_home") in message  # says where the cache is
    # Through an algorithm, the same message, before any training.
    with pytest.raises(ConfigError, match="ImageNet weights for ResNet-18"):
        catalogue.get("protonet")(1, 28, {"backbone": "resnet18_imagenet"})


def test_a_local_weights_file_replaces_the_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    torch.manual_seed(3)
    reference = torchvision.models.resnet18()  # a torchvision-format state_dict, fc included, as the real file
    path = tmp_path / "resnet18-local.pth"
    torch.save(reference.state_dict(), path)

    net = make_backbone("resnet18_imagenet", 1, 28, str(path))
    assert torch.equal(net.net.conv1.weight, reference.conv1.weight)
    assert torch.equal(net.net.layer4[1].bn2.running_var, reference.layer4[1].bn2.running_var)
    # Grayscale goes in as three equal channels: the same features as the RGB image of equal channels.
    net.eval()
    gray = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(net(gray), make_backbone("resnet18_imagenet", 3, 28, str(path)).eval()(gray.expand(-1, 3, -1, -1)))

    algorithm = catalogue.get("protonet")(1, 28, {"backbone": "resnet18_imagenet", "backbone_weights": str(path)})
    assert torch.equal(algorithm.backbone.net.conv1.weight, reference.conv1.weight)


def test_a_weights_file_that_is_missing_or_does_not_fit_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="backbone_weights.*existing file"):
        catalogue.get("protonet")(1, 28, {"backbone_weights": str(tmp_path / "nope.pth")})
    wrong = tmp_path / "conv4.pth"
    torch.save(make_backbone("conv4", 1, 28).state_dict(), wrong)
    with pytest.raises(ConfigError, match="does not fit the 'resnet18' backbone"):
        make_backbone("resnet18", 1, 28, str(wrong))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ConfigError, match="garbage.pth is damaged or not a weights file"):
        make_backbone("conv4", 1, 28, str(garbage))


def test_every_embedding_algorithm_offers_every_backbone():
    for name, cls in catalogue.available().items():
        backbone = next((p for p in cls.hyperparams if p.name == "backbone"), None)
        if backbone is not None and cls.__module__.split(".")[-1] in {"protonet", "matching", "relation", "siamese", "baseline", "simpleshot"}:
            assert set(backbone.choices) == set(backbone_names()), name


def test_every_algorithm_with_a_backbone_lets_it_be_chosen_and_builds_with_another():
    """No algorithm ties itself to one backbone: the gradient-based ones offer every backbone their inner loop
    can run (forward_with_stats), the others every backbone; each is built here with a non-default choice."""
    from workbench.models.backbones import functional_backbones

    checked = set()
    for name, cls in sorted(catalogue.available().items()):
        backbone = next((p for p in cls.hyperparams if p.name == "backbone"), None)
        if backbone is None:
            continue
        assert set(backbone.choices) in (set(backbone_names()), set(functional_backbones())), name
        assert len(backbone.choices) > 1, name
        other = next(c for c in ("conv4_strided", "conv4_2pool", "conv4") if c in backbone.choices and c != backbone.default)
        algorithm = cls(1, 28, {"backbone": other}, "cpu", "fp32")
        built = algorithm.modules().get("backbone", algorithm.modules().get("encoder"))
        assert type(built) is type(make_backbone(other, 1, 28)) and type(built) is not type(make_backbone(backbone.default, 1, 28)), name
        checked.add(name)
    assert {"maml", "anil", "metasgd", "mann", "example_cosine", "example_layer_rates"} <= checked
