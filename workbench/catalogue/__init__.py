"""What algorithms and backbones exist: the built-ins joined with what plugins add.

The algorithm registry (workbench.algorithms.registry) and the backbone registry
(workbench.models.backbones) only store what was registered; plugin discovery
(`plugins`) registers into them. This package joins the two: every question
"which algorithms are there / give me this one" loads the enabled plugins first,
and answers for the built-ins from the cached descriptions (`builtin_catalogue`)
so that listing needs no torch.
"""

from __future__ import annotations

import importlib

from workbench.algorithms import registry
from workbench.catalogue import builtin_catalogue, plugins
from workbench.errors import ConfigError
from workbench.models import backbones


def names() -> tuple[str, ...]:
    """Every algorithm name, built-ins and plugins, without importing any algorithm."""
    plugins.load_plugins()
    return tuple(sorted({*builtin_catalogue.builtin().algorithm_names, *registry.registered_names()}))


def get(name: str) -> type:
    """The class of algorithm `name`; imports only that algorithm's module (and the plugins)."""
    plugins.load_plugins()
    if name not in registry.registered_names():
        module = builtin_catalogue.builtin().module_of(name)
        if module is None:
            raise ConfigError(f"Unknown algorithm '{name}'. Available: {', '.join(names())}.")
        importlib.import_module(module)
    return registry.resolve(name)


def available() -> dict[str, type]:
    """Every algorithm by name, built-ins and loaded plugins alike (all imported).

    A declared plugin algorithm whose class fails to import is left out; `load_failures` says why.
    """
    registry.import_builtins()
    plugins.load_plugins()
    return registry.resolve_all()


def load_failures() -> dict[str, str]:
    """Declared algorithms whose class could not be imported, with the sentence saying why."""
    return registry.load_failures()


def describe_all() -> list[dict]:
    """The description of every algorithm, sorted by name, without importing the built-ins or declared plugins."""
    plugins.load_plugins()
    described = {item["name"]: item for item in builtin_catalogue.builtin().algorithms}
    for name, entry in registry.entries().items():
        if name not in described:
            described[name] = registry.describe(entry)
    return [described[name] for name in sorted(described)]


def backbone_choices() -> tuple[str, ...]:
    """Every backbone name, for a setting's choices, without importing torch: the built-ins (from
    the catalogue of built-ins) and the backbones plugins have registered so far."""
    return tuple(sorted({*builtin_catalogue.builtin().backbones, *backbones.registered_backbones()}))


def functional_backbone_choices() -> tuple[str, ...]:
    """The backbones the gradient-based inner loop can run (`forward_with_stats`), for a setting's
    choices, without importing torch: the built-ins (from the catalogue) and those plugins registered."""
    registered = backbones.registered_functional_backbones()
    return tuple(sorted({*builtin_catalogue.builtin().functional_backbones, *registered}))
