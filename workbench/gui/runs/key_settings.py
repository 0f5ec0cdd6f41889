"""The Runs page's "Key settings": the settings runs are most often compared by, in words.

Names come from the algorithm's own declarations (hyperparam_labels.label_of), so the column reads
"Inner learning rate 0.01" where the run folder says `inner_lr`; a switch that is on is named alone.
"""

from __future__ import annotations

from workbench.algorithms import registry
from workbench.algorithms.hyperparam_labels import label_of
from workbench.algorithms.hyperparams import HyperParam

# Worth a column of their own, in this order; every setting is in the row's tooltip.
KEY_SETTINGS = ("lr", "inner_lr", "inner_steps", "first_order", "distance", "backbone")


def declared_settings(algorithm: str) -> dict[str, HyperParam]:
    """The settings `algorithm` declares, by name (none when it is not registered now: a plugin left out)."""
    entry = registry.entries().get(algorithm)
    return {param.name: param for param in getattr(entry, "hyperparams", ())}


def key_settings(algorithm: str, hparams: dict) -> str:
    """'Learning rate 0.001, Inner steps 5, First-order gradients, Backbone conv4'; empty for none."""
    declared = declared_settings(algorithm)
    shown = []
    for name in KEY_SETTINGS:
        if name not in hparams:
            continue
        label = label_of(declared.get(name) or HyperParam(name, "", None, ""))
        value = hparams[name]
        if isinstance(value, bool) or value in ("on", "off"):
            if value in (True, "on"):
                shown.append(label)  # a switch that is on: its name says it (off is the usual way: left out)
        else:
            shown.append(f"{label} {value:.3g}" if isinstance(value, float) else f"{label} {value}")
    return ", ".join(shown)


def all_settings(algorithm: str, hparams: dict) -> str:
    """Every setting of the run, one 'Label: value (name)' per line, for the tooltip."""
    declared = declared_settings(algorithm)
    return "\n".join(f"{label_of(declared.get(name) or HyperParam(name, '', None, ''))}: {value} ({name})"
                     for name, value in sorted(hparams.items()))
