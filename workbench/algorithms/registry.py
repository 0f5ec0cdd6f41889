"""The one registry of algorithms. Built-ins and plugins both enter through `register` or `declare`.

This module only stores what was registered; it knows nothing of plugins. Asking
what exists — built-ins and plugins together, without importing torch where
possible — is the job of `workbench.catalogue`, which joins this registry with
plugin discovery (so neither imports the other).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from dataclasses import dataclass
from typing import Callable

from workbench.algorithms.hyperparams import HyperParam
from workbench.errors import ConfigError, NameTakenError
from workbench.validation import check_registry_name

_ALGORITHMS: dict[str, "type | DeclaredAlgorithm"] = {}
_LOAD_FAILURES: dict[str, str] = {}
_REFUSED_THREADS: set[threading.Thread] = set()  # plugin imports given up on: too late to register

# Modules of this package that define the interface rather than an algorithm.
_INFRASTRUCTURE = {"base", "registry", "hyperparams", "hyperparam_labels", "heads", "classifiers", "episodic", "prototypical",
                  "inner_loop_settings", "backbone_settings"}


@dataclass(frozen=True)
class DeclaredAlgorithm:
    """An algorithm known by its name, words and settings; its class is imported when it is first needed.

    `load` is "package.module:ClassName" or a function returning the class.
    """

    name: str
    title: str
    summary: str
    hyperparams: tuple[HyperParam, ...]
    load: str | Callable[[], type]
    module: str = ""

    def load_class(self) -> type:
        if callable(self.load):
            return self.load()
        module, _, attribute = self.load.partition(":")
        return getattr(importlib.import_module(module), attribute)


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
    check_registry_name("algorithm", name)
    _refuse_if_too_late(name)
    existing = _ALGORITHMS.get(name)
    # A declaration is replaced by its class when that is imported.
    if existing is not None and not isinstance(existing, DeclaredAlgorithm) and existing is not cls:
        if _is_builtin(existing) and cls.__module__ != existing.__module__:  # a built-in is never replaced
            raise NameTakenError("algorithm", name, "built-in")
        if existing.__qualname__ != cls.__qualname__:
            raise NameTakenError("algorithm", name, existing.__module__,
                                 f"Two algorithms are called '{name}': {existing.__module__} and {cls.__module__}.")
    _ALGORITHMS[name] = cls
    return cls


def declare(name: str, title: str, summary: str, hyperparams: tuple[HyperParam, ...],
            load: str | Callable[[], type]) -> DeclaredAlgorithm:
    """Make an algorithm known without importing its class (nor torch): listing it stays fast.

    The class that `load` gives must carry the same `name` (and should carry the same
    title, summary and hyperparams); it is imported the first time the algorithm is built.
    """
    check_registry_name("algorithm", name)
    _refuse_if_too_late(name)
    module = load.partition(":")[0] if isinstance(load, str) else getattr(load, "__module__", "")
    declared = DeclaredAlgorithm(name, title, summary, tuple(hyperparams), load, module)
    existing = _ALGORITHMS.get(name)
    if existing is not None and not isinstance(existing, DeclaredAlgorithm):
        if _is_builtin(existing):
            raise NameTakenError("algorithm", name, "built-in")
        if existing.__module__ != module:
            raise NameTakenError("algorithm", name, existing.__module__,
                                 f"Two algorithms are called '{name}': {existing.__module__} and {module}.")
        return declared  # its class is already here
    _ALGORITHMS[name] = declared
    return declared


def unregister(name: str) -> None:
    """Remove an algorithm (tests that register a throwaway one clean up with this)."""
    _ALGORITHMS.pop(name, None)


def refuse_registrations_from(thread: threading.Thread) -> None:
    """Refuse what `thread` registers from now on: a plugin import the loader gave up waiting for."""
    _REFUSED_THREADS.add(thread)


def _refuse_if_too_late(name: str) -> None:
    if threading.current_thread() in _REFUSED_THREADS:
        raise ConfigError(f"The algorithm '{name}' came after the workbench gave up waiting for its plugin; it is refused.")


def _is_builtin(cls: type) -> bool:
    return cls.__module__.startswith(f"{__package__}.")


def put_back(name: str, entry: "type | DeclaredAlgorithm") -> None:
    """Register `entry` as `name` again, as it was (plugin loading undoes a plugin that replaced it)."""
    _ALGORITHMS[name] = entry


def registered_names() -> tuple[str, ...]:
    """Names registered so far, without importing anything (plugin loading compares before and after)."""
    return tuple(_ALGORITHMS)


def entries() -> dict[str, "type | DeclaredAlgorithm"]:
    """What is registered so far by name: classes, and declarations not yet imported."""
    return dict(_ALGORITHMS)


def import_builtins() -> None:
    """Import every built-in algorithm module, so that each has registered its class."""
    for module in builtin_modules():
        importlib.import_module(module)


def resolve(name: str) -> type:
    """The class registered as `name`, importing it first if it was only declared."""
    entry = _ALGORITHMS[name]
    if not isinstance(entry, DeclaredAlgorithm):
        return entry
    try:
        cls = entry.load_class()
    except Exception as exc:
        raise ConfigError(f"The algorithm '{name}' could not be loaded from {entry.module or 'its plugin'} "
                          f"({type(exc).__name__}: {exc}).") from None
    if not isinstance(cls, type) or getattr(cls, "name", None) != name:
        raise ConfigError(f"The algorithm '{name}' was declared, but {entry.module} gives no class called '{name}'.")
    _ALGORITHMS[name] = cls
    return cls


def resolve_all() -> dict[str, type]:
    """Every algorithm registered so far by name, as classes (declared ones imported now).

    A declared algorithm whose class fails to import is taken out; `load_failures` says why.
    """
    classes = {}
    for name in list(_ALGORITHMS):
        try:
            classes[name] = resolve(name)
        except ConfigError as exc:
            _LOAD_FAILURES[name] = str(exc)
            unregister(name)
    return dict(sorted(classes.items()))


def load_failures() -> dict[str, str]:
    """Declared algorithms whose class could not be imported, with the sentence saying why."""
    return dict(_LOAD_FAILURES)


def describe(cls: "type | DeclaredAlgorithm") -> dict:
    """The JSON description of an algorithm, as `algorithms --json` prints it."""
    return {
        "name": cls.name,
        "title": cls.title,
        "summary": cls.summary,
        "module": cls.module if isinstance(cls, DeclaredAlgorithm) else cls.__module__,
        "hyperparameters": [p.to_json() for p in cls.hyperparams],
    }
