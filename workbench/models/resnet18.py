"""torchvision's ResNet-18 (He et al. 2016) as a backbone, optionally with ImageNet weights.

Two backbones are registered:
- `resnet18`: the torchvision network with fresh random weights;
- `resnet18_imagenet`: the same network starting from torchvision's
  `ResNet18_Weights.IMAGENET1K_V1`, fetched through torchvision's weights API:
  read from the torch hub cache (`torch.hub.get_dir()/checkpoints`) when the
  file is there, downloaded into it otherwise. When neither works (no internet)
  construction raises a ConfigError that says where to put the file or how to
  pick it; an algorithm's `backbone_weights` setting names a local weights file,
  which then replaces the download altogether.

Images in [0, 1] are normalised with ImageNet's channel statistics (what the
weights were trained on); grayscale images are repeated to three channels, so
the ImageNet first layer is used as it is. The classifier layer is dropped:
features are the 512 globally averaged channels of the last stage.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_IMAGE_SIZE = 16  # five halvings of the side leave at least 1x1


class ResNet18(nn.Module):
    """Images (n, 1 or 3, S, S) in [0, 1] -> features (n, 512); `feature_maps` gives (n, 512, ~S/32, ~S/32)."""

    def __init__(self, in_channels: int, image_size: int) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ConfigError(f"ResNet-18 takes 1 (grayscale) or 3 (RGB) channels, not {in_channels}.")
        if image_size < MIN_IMAGE_SIZE:
            raise ConfigError(f"Image size must be at least {MIN_IMAGE_SIZE} pixels for ResNet-18 (got {image_size}).")
        import torchvision  # here, not at the top: importing it costs seconds, and every model lists this module

        self.in_channels = in_channels
        self.net = torchvision.models.resnet18(weights=None)
        self.net.fc = nn.Identity()
        self.feature_dim = 512
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = net.maxpool(net.relu(net.bn1(net.conv1(self._normalise(x)))))
        return net.layer4(net.layer3(net.layer2(net.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self._normalise(x))

    def load_weights(self, state: dict) -> None:
        """Take a torchvision resnet18 state_dict (keys like 'conv1.weight') or one saved from this module.

        The ImageNet classifier ('fc.*') is not part of the backbone and is ignored.
        """
        state = {key.removeprefix("net."): value for key, value in state.items()}
        state = {key: value for key, value in state.items() if not key.startswith("fc.")}
        self.net.load_state_dict(state)


def imagenet_state_dict() -> dict:
    """torchvision's ImageNet ResNet-18 weights from the hub cache or the internet, else ConfigError."""
    import torchvision

    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    try:
        return weights.get_state_dict(progress=False, check_hash=True)
    except (OSError, RuntimeError, ValueError) as exc:  # URLError is an OSError; a bad hash a RuntimeError
        file_name = weights.url.rsplit("/", 1)[-1]
        cache = f"{torch.hub.get_dir()}/checkpoints"
        reason = str(getattr(exc, "reason", exc)).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"ImageNet weights for ResNet-18 are not in the torch hub cache ({cache}) and could not be downloaded "
            f"from {weights.url} ({reason}). Put {file_name} in {cache}, or pick it as the 'backbone_weights' "
            "setting, or use the 'resnet18' backbone without ImageNet weights."
        ) from None


@register_backbone("resnet18")
def resnet18(in_channels: int, image_size: int) -> ResNet18:
    return ResNet18(in_channels, image_size)


@register_backbone("resnet18_imagenet")
def resnet18_imagenet(in_channels: int, image_size: int) -> ResNet18:
    model = ResNet18(in_channels, image_size)
    model.load_weights(imagenet_state_dict())
    return model


# With a local weights file the network is built plain and the file loaded instead of downloading.
resnet18_imagenet.without_weights = resnet18
