"""The registry of feature networks ("backbones") that algorithms build by name.

A backbone is a factory `(in_channels, image_size) -> nn.Module` whose module maps
images (n, C, S, S) to flat features (n, d) and exposes `feature_dim`. Built-in
backbones and plugins register the same way, with `register_backbone`.

Optional extras a backbone may offer: `feature_maps(x)` -> (n, c, h, w) (the
spatial features before flattening or pooling, for methods that compare maps,
like Relation Networks), and `load_weights(state)` to take a weights file in
its own format. A factory that fetches weights itself (ImageNet ResNet-18) may
name, as `factory.without_weights`, the same network built without fetching,
so a local weights file replaces the download. A factory built from a found architecture
(`takes_architecture = True`, models/searched.py) is called with the architecture file as a
third argument.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from workbench.errors import ConfigError, NameTakenError
from workbench.validation import check_registry_name

if TYPE_CHECKING:  # torch is imported where a backbone is built, so listing names stays light
    from torch import nn

BackboneFactory = Callable[[int, int], "nn.Module"]
_BACKBONES: dict[str, BackboneFactory] = {}
_REFUSED_THREADS: set[threading.Thread] = set()  # plugin imports given up on: too late to register


def register_backbone(name: str):
    """Decorator for a class or function building a backbone from (in_channels, image_size)."""

    check_registry_name("backbone", name)

    def decorate(factory: BackboneFactory) -> BackboneFactory:
        if threading.current_thread() in _REFUSED_THREADS:
            raise ConfigError(f"The backbone '{name}' came after the workbench gave up waiting for its plugin; "
                              "it is refused.")
        existing = _BACKBONES.get(name)
        if (existing is not None and _is_builtin(existing) and existing is not factory
                and getattr(factory, "__module__", "") != existing.__module__):
            raise NameTakenError("backbone", name, "built-in")  # a built-in is never replaced
        _BACKBONES[name] = factory
        return factory

    return decorate


def refuse_registrations_from(thread: threading.Thread) -> None:
    """Refuse what `thread` registers from now on: a plugin import the loader gave up waiting for."""
    _REFUSED_THREADS.add(thread)


def _is_builtin(factory: BackboneFactory) -> bool:
    return getattr(factory, "__module__", "").startswith("workbench.models.")


def registered_backbones() -> tuple[str, ...]:
    """Names registered so far, without importing anything (plugin loading compares before and after)."""
    return tuple(_BACKBONES)


def registered_factories() -> dict[str, BackboneFactory]:
    """What is registered so far by name, without importing anything (plugin loading compares before and after)."""
    return dict(_BACKBONES)


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


def builtin_backbones() -> tuple[str, ...]:
    """The backbones the workbench itself ships (registered from workbench/models), without plugins'."""
    _ensure_loaded()
    return tuple(sorted(n for n, f in _BACKBONES.items() if _is_builtin(f)))


def functional_backbones() -> tuple[str, ...]:
    """Backbones offering `forward_with_stats(x, stats)` (batch norm with given statistics), which the
    functional inner loop of the gradient-based methods needs."""
    _ensure_loaded()
    return tuple(sorted(n for n, f in _BACKBONES.items() if callable(getattr(f, "forward_with_stats", None))))


def registered_functional_backbones() -> tuple[str, ...]:
    """Functional backbones registered so far, without importing the built-in modules."""
    return tuple(n for n, f in _BACKBONES.items() if callable(getattr(f, "forward_with_stats", None)))


def make_backbone(name: str, in_channels: int, image_size: int, weights_file: str = "",
                  architecture_file: str = "") -> nn.Module:
    """Build backbone `name`; with `weights_file` (a saved state_dict), start from those weights.

    `architecture_file` is for a backbone built from a found architecture (`takes_architecture`,
    the `searched` one): the architecture.json it is built from.
    """
    _ensure_loaded()
    try:
        factory = _BACKBONES[name]
    except KeyError:
        raise ConfigError(f"Unknown backbone '{name}'. Available: {', '.join(sorted(_BACKBONES))}.") from None
    if getattr(factory, "takes_architecture", False):
        build = lambda channels, size: factory(channels, size, architecture_file)  # noqa: E731
    elif architecture_file:
        # A setting that would silently do nothing is refused instead.
        raise ConfigError(f"An architecture file ({architecture_file}) only builds the 'searched' backbone, "
                          f"not '{name}': choose backbone=searched or leave backbone_architecture empty.")
    else:
        build = factory
    if not weights_file:
        return build(in_channels, image_size)
    module = getattr(factory, "without_weights", build)(in_channels, image_size)
    load_weights_file(module, weights_file, name)
    return module


def load_weights_file(module: nn.Module, path: str | Path, name: str) -> None:
    """Load a state_dict file into `module`; a file that does not fit raises ConfigError."""
    from workbench.weights import load_weights

    # weights_only: a file that would run code when unpickled is refused, in the workbench's own words.
    state = load_weights(path, ConfigError)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ConfigError(f"The weights file {path} holds no state_dict (a dict of tensors).")
    load = getattr(module, "load_weights", module.load_state_dict)
    try:
        load(state)
    except (RuntimeError, KeyError, ValueError) as exc:
        # load_state_dict's first line is only a heading; the next one names the keys that differ.
        detail = " ".join(line.strip() for line in str(exc).splitlines()[:2])[:300] or type(exc).__name__
        raise ConfigError(f"The weights file {path} does not fit the '{name}' backbone ({detail}).") from None
