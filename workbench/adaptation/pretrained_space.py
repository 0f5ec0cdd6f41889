"""The ImageNet-pretrained feature space (EfficientNet-Lite0, frozen), loaded once per process."""

from __future__ import annotations

from functools import lru_cache

import torch

from workbench.adaptation.feature_cache import cache_for_space
from workbench.adaptation.spaces import CosinePrototypes
from workbench.errors import ConfigError
from workbench.models.pretrained import DEFAULT_INPUT_SIZE, pretrained_feature_extractor

TITLE = "ImageNet features (EfficientNet-Lite0, frozen)"
# Every image is resized to the network's input size, so a fast pass depends on that size, not the images':
# 16 images per pass encode 1.5-1.7x faster than 64 on a 2-core CPU (benchmarks/inference_pass_size.py --pretrained).
IMAGES_PER_PASS = 16


@lru_cache(maxsize=2)
def load_pretrained_space(input_size: int = DEFAULT_INPUT_SIZE) -> CosinePrototypes | None:
    """Cosine prototypes on the frozen network's features; None when its weights are not installed."""
    try:
        extractor = pretrained_feature_extractor(input_size)
    except ConfigError:
        return None

    def encode(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return extractor(images.float().cpu())

    return CosinePrototypes("pretrained", TITLE, encode, extractor, IMAGES_PER_PASS,
                            cache=cache_for_space(f"lite0-{input_size}px"))
