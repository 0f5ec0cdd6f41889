"""The backbone settings every embedding-based algorithm shares, and building from them."""

from __future__ import annotations

import torch
from torch import nn

from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.hyperparams import HyperParam
from workbench.models.backbones import backbone_names, functional_backbones, make_backbone


def backbone_hyperparams(default: str = "conv4") -> tuple[HyperParam, HyperParam, HyperParam]:
    """`backbone` (any registered backbone), `backbone_architecture` (the found architecture
    `backbone=searched` is built from) and `backbone_weights` (an optional local weights file)."""
    return (
        HyperParam("backbone", "choice", default, "Feature network.", choices=backbone_names()),
        BACKBONE_ARCHITECTURE,
        HyperParam(
            "backbone_weights", "path", "",
            "Optional weights file (a saved state_dict) the backbone starts from, e.g. torchvision's "
            "resnet18-f37072fd.pth for ImageNet weights without internet. Empty: the backbone's own start.",
        ),
    )


def backbone_choice(default: str = "conv4", help: str = "Feature network.", functional: bool = False) -> HyperParam:
    """The `backbone` setting alone: any registered backbone, or with `functional` those the
    gradient-based inner loop can run (they normalise with the support set's statistics)."""
    return HyperParam("backbone", "choice", default, help, choices=functional_backbones() if functional else backbone_names())


def build_backbone(hparams: dict, in_channels: int, image_size: int, device: torch.device) -> nn.Module:
    """The backbone of the `backbone` setting, with the weights and architecture files where the algorithm declares them."""
    return make_backbone(hparams["backbone"], in_channels, image_size, hparams.get("backbone_weights", ""),
                         hparams.get("backbone_architecture", "")).to(device)


def feature_maps(backbone: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Spatial features (n, c, h, w): the backbone's own maps, or its flat features as (n, d, 1, 1)."""
    maps = getattr(backbone, "feature_maps", None)
    return maps(x) if maps is not None else backbone(x)[:, :, None, None]
