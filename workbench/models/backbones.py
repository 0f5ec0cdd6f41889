"""The registry of feature networks ("backbones") that algorithms build by name.

A backbone is a factory `(in_channels, image_size) -> nn.Module` whose module maps
images (n, C, S, S) to flat features (n, d) and exposes `feature_dim`. Built-in
backbones and plugins register the same way, with `register_backbone`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

from torch import nn

from workbench.errors import ConfigError

BackboneFactory = Callable[[int, int], nn.Module]
_BACKBONES: dict[str, BackboneFactory] = {}


def register_backbone(name: str):
    """Decorator for a class or function building a backbone from (in_channels, image_size)."""

    def decorate(factory: BackboneFactory) -> BackboneFactory:
        _BACKBONES[name] = factory
        return factory

    return decorate


def registered_backbones() -> tuple[str, ...]:
    """Names registered so far, without importing anything (plugin loading compares before and after)."""
    return tuple(_BACKBONES)


def unregister_backbone(name: str) -> None:
    """Remove a backbone (a plugin that failed half-way is taken out again)."""
    _BACKBONES.pop(name, None)


def _ensure_loaded() -> None:
    import workbench.models as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "backbones" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def backbone_names() -> tuple[str, ...]:
    _ensure_loaded()
    return tuple(sorted(_BACKBONES))


def make_backbone(name: str, in_channels: int, image_size: int) -> nn.Module:
    _ensure_loaded()
    try:
        factory = _BACKBONES[name]
    except KeyError:
        raise ConfigError(f"Unknown backbone '{name}'. Available: {', '.join(sorted(_BACKBONES))}.") from None
    return factory(in_channels, image_size)
