"""Words for settings: the label a person reads, and which settings are basic and which advanced.

A setting keeps its code name for `--set NAME=VALUE` and in the form's tooltip; the form shows a
label in plain words. Names mean the same in every algorithm (`inner_lr` is always the learning
rate of the inner loop), so one table serves the built-ins and gives plugins good labels too.
"""

from __future__ import annotations

from workbench.algorithms.hyperparams import HyperParam

LABELS = {
    "lr": "Learning rate",
    "meta_lr": "Meta learning rate",
    "outer_lr": "Outer learning rate",
    "inner_lr": "Inner learning rate",
    "adapt_lr": "Adapting learning rate",
    "finetune_lr": "Fine-tuning learning rate",
    "lr_decay_every": "Halve learning rate every (steps)",
    "outer_lr_decay_steps": "Outer learning rate decay (steps)",
    "inner_steps": "Inner steps",
    "eval_inner_steps": "Inner steps when adapting",
    "adapt_steps": "Adapting steps",
    "finetune_steps": "Fine-tuning steps",
    "head_init": "Head initialisation",
    "first_order": "First-order gradients",
    "vectorise": "Vectorise tasks",
    "tasks_per_pass": "Tasks per vectorised pass",
    "test_shifts": "Test-time shifts",
    "backbone_weights": "Backbone weights file",
    "backbone_architecture": "Searched cell",
    "max_classes": "Classes at most",
    "max_ways": "Ways at most",
    "fce": "Full-context embeddings",
    "fce_steps": "Full-context steps",
    "kl_weight": "KL weight",
    "l2_weight": "L2 weight",
    "lstm_size": "LSTM size",
    "grad_clip": "Gradient clipping",
    "relation_hidden": "Relation module width",
    "rate_init_low": "Initial rates from",
    "rate_init_high": "Initial rates to",
    "inner_optimizer": "Inner optimiser",
    "inner_batch": "Inner batch size",
    "arch_meta_lr": "Architecture meta learning rate",
    "arch_inner_lr": "Architecture inner learning rate",
    "nodes": "Nodes per cell",
    "channels": "Channels per node",
    "operations": "Candidate operations",
    "temperature": "Starting temperature",
    "final_temperature": "Final temperature",
    "temperature_steps": "Temperature decay (steps)",
}

# Settings a newcomer may want to change; the rest are under "Advanced".
BASIC = {
    "lr", "meta_lr", "outer_lr", "inner_lr", "inner_steps", "first_order", "backbone",
    "distance", "test_shifts", "adapt_steps", "latent_size", "cells", "nodes", "channels", "operations",
}
# A form this short needs no Advanced section.
ALL_BASIC_UP_TO = 4
# Settings that mean something only with another at one value: (that setting, its value). The form
# shows them right under it, and only then.
SHOWN_WHEN = {"backbone_architecture": ("backbone", "searched")}


def label_of(param: HyperParam) -> str:
    """The words the form shows for `param`: its own label, the table's, or its name made readable."""
    if param.label:
        return param.label
    if param.name in LABELS:
        return LABELS[param.name]
    words = param.name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else param.name


def is_advanced(param: HyperParam, params: tuple[HyperParam, ...]) -> bool:
    """Whether `param` sits under "Advanced" in a form showing `params`."""
    if param.advanced is not None:
        return param.advanced
    if param.name in SHOWN_WHEN and any(p.name == SHOWN_WHEN[param.name][0] for p in params):
        return is_advanced(next(p for p in params if p.name == SHOWN_WHEN[param.name][0]), params)
    if len(params) <= ALL_BASIC_UP_TO:
        return False
    return param.name not in BASIC
