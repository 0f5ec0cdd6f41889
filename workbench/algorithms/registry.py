"""The one registry of algorithms. Built-ins and plugins both enter through `register`."""

from __future__ import annotations

import importlib
import pkgutil

from workbench.errors import ConfigError

_ALGORITHMS: dict[str, type] = {}

# Modules of this package that define the interface rather than an algorithm.
_INFRASTRUCTURE = {"base", "registry", "hyperparams"}


def builtin_modules() -> list[str]:
    """Every algorithm module shipped in workbench/algorithms (one algorithm family per file)."""
    import workbench.algorithms as package

    return [
        f"{package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if info.name not in _INFRASTRUCTURE and not info.name.startswith("_")
    ]


def register(cls: type) -> type:
    """Class decorator: make an Algorithm subclass available by its `name`."""
    name = getattr(cls, "name", None)
    if not name or not isinstance(name, str):
        raise TypeError(f"{cls.__name__} needs a string attribute 'name' to be registered")
    existing = _ALGORITHMS.get(name)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ConfigError(f"Two algorithms are called '{name}': {existing.__module__} and {cls.__module__}.")
    _ALGORITHMS[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove an algorithm (tests that register a throwaway one clean up with this)."""
    _ALGORITHMS.pop(name, None)


def registered_names() -> tuple[str, ...]:
    """Names registered so far, without importing anything (plugin loading compares before and after)."""
    return tuple(_ALGORITHMS)


def _ensure_loaded() -> None:
    for module in builtin_modules():
        importlib.import_module(module)
    from workbench import plugins

    plugins.load_plugins()


def available() -> dict[str, type]:
    """Every registered algorithm by name, built-ins and loaded plugins alike."""
    _ensure_loaded()
    return dict(sorted(_ALGORITHMS.items()))


def get(name: str) -> type:
    algorithms = available()
    try:
        return algorithms[name]
    except KeyError:
        raise ConfigError(f"Unknown algorithm '{name}'. Available: {', '.join(algorithms)}.") from None


def describe(cls: type) -> dict:
    """The JSON description of an algorithm, as `algorithms --json` prints it."""
    return {
        "name": cls.name,
        "title": cls.title,
        "summary": cls.summary,
        "module": cls.__module__,
        "hyperparameters": [p.to_json() for p in cls.hyperparams],
    }
