"""What one plugin registered while it loaded, read from the registries before and after.

A plugin may add algorithms and backbones; it may never replace one that is there, least of all a
built-in: `protonet` must stay the workbench's ProtoNet whatever a plugin calls its own class. So a
name the plugin registered that a built-in (loaded or not yet imported) or an earlier plugin already
uses is a clash, and a plugin with clashes is refused like one that failed: the registries are put
back as they were, keeping only what importing the workbench's own modules registered meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.algorithms import registry
from workbench.catalogue import builtin_catalogue
from workbench.models import backbones

ALGORITHM = "algorithm"
BACKBONE = "backbone"


def clash(kind: str, name: str, holder: str) -> str:
    """How a taken name is listed: "algorithm 'protonet' (built-in)", "backbone 'wide' (registered by mine)"."""
    return f"{kind} '{name}' ({holder if holder == 'built-in' else 'registered by ' + holder})"


def _owner(entry: object) -> str:
    """The module an algorithm class, a declared algorithm or a backbone factory comes from."""
    if isinstance(entry, registry.DeclaredAlgorithm):
        return entry.module
    return getattr(entry, "__module__", "") or ""


def _is_builtin(kind: str, name: str, entry: object) -> bool:
    """Whether `entry` is the workbench's own `name` (registered by importing its module)."""
    if kind == ALGORITHM:  # the built-ins register classes; a declaration naming their module is a plugin's
        return isinstance(entry, type) and _owner(entry) == builtin_catalogue.builtin().module_of(name)
    return _owner(entry).startswith("workbench.models.")


def _same_algorithm(before: object, after: object) -> bool:
    """A declared algorithm replaced by its own class, once imported, is still the same algorithm."""
    return before is after or (isinstance(before, registry.DeclaredAlgorithm) and isinstance(after, type)
                               and after.__module__ == before.module)


@dataclass(frozen=True)
class Snapshot:
    """The registries at one moment, and the built-in names (known from the catalogue, imported or not)."""

    algorithms: dict
    backbones: dict
    builtin_algorithms: frozenset
    builtin_backbones: frozenset

    @classmethod
    def take(cls) -> "Snapshot":
        builtins = builtin_catalogue.builtin()
        return cls(registry.entries(), backbones.registered_factories(),
                   frozenset(builtins.algorithm_names), frozenset(builtins.backbones))

    def _changes(self):
        """(kind, name, entry now) for every registration made or replaced since the snapshot."""
        for name, entry in registry.entries().items():
            before = self.algorithms.get(name)
            if before is None or not _same_algorithm(before, entry):
                yield ALGORITHM, name, entry
        for name, factory in backbones.registered_factories().items():
            if self.backbones.get(name) is not factory:
                yield BACKBONE, name, factory

    def added(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The algorithm and backbone names registered since, built-ins left out."""
        found = {ALGORITHM: [], BACKBONE: []}
        for kind, name, entry in self._changes():
            if not _is_builtin(kind, name, entry):
                found[kind].append(name)
        return tuple(sorted(found[ALGORITHM])), tuple(sorted(found[BACKBONE]))

    def clashes(self) -> tuple[str, ...]:
        """The names registered since that were taken: "algorithm 'protonet' (built-in)" and the like."""
        taken = []
        for kind, name, entry in self._changes():
            builtin_names = self.builtin_algorithms if kind == ALGORITHM else self.builtin_backbones
            earlier = (self.algorithms if kind == ALGORITHM else self.backbones).get(name)
            if name in builtin_names and not _is_builtin(kind, name, entry):
                taken.append(clash(kind, name, "built-in"))
            elif earlier is not None and name not in builtin_names:
                taken.append(clash(kind, name, _owner(earlier)))
        return tuple(sorted(taken))

    def removed(self) -> tuple[str, ...]:
        """The names that were registered at the snapshot and are gone now (a plugin took them out)."""
        gone = [f"{ALGORITHM} '{name}'" for name in self.algorithms if name not in registry.entries()]
        gone += [f"{BACKBONE} '{name}'" for name in self.backbones if name not in backbones.registered_factories()]
        return tuple(sorted(gone))

    def restore(self) -> None:
        """Put the registries back as they were, keeping what the workbench's own modules registered since."""
        for kind, name, entry in list(self._changes()):
            if _is_builtin(kind, name, entry):
                continue
            earlier = (self.algorithms if kind == ALGORITHM else self.backbones).get(name)
            if earlier is None:
                (registry.unregister if kind == ALGORITHM else backbones.unregister_backbone)(name)
            elif kind == ALGORITHM:
                registry.put_back(name, earlier)
            else:
                backbones.register_backbone(name)(earlier)
        for name, entry in self.algorithms.items():  # a plugin that unregistered what was there
            if name not in registry.entries():
                registry.put_back(name, entry)
        for name, factory in self.backbones.items():
            if name not in backbones.registered_factories():
                backbones.register_backbone(name)(factory)
