"""The settings of the gradient-based family (MAML, ANIL, Meta-SGD and plugins on the same inner loop).

Without torch, so that a plugin can declare these settings while `main.py algorithms` stays fast.
"""

from __future__ import annotations

from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.hyperparams import HyperParam

# The two settings every vectorised gradient-based method offers, declared once.
BATCHING_PARAMS = (
    HyperParam("vectorise", "choice", "auto", "How the tasks of a meta-batch are trained: in one vectorised pass (torch.func vmap: on), "
               "in groups that share grouped convolutions (groups; Conv4 backbones), or one by one (off). auto: vectorised on a "
               "GPU, groups on a CPU, where they measured fastest (see README).",
               choices=("auto", "on", "groups", "off")),
    HyperParam("tasks_per_pass", "int", 0, "Tasks per vectorised pass or group, to bound memory (0: auto; vectorised passes of about half a "
               "second so pause and cancel answer quickly, groups sized for the CPU's caches).", 0, 4096),
)


def gradient_hyperparams(backbone: HyperParam, inner_lr: bool = True, eval_inner_steps: int = 3) -> tuple[HyperParam, ...]:
    """The settings MAML, ANIL and Meta-SGD share, declared once (Meta-SGD learns its inner rates: no inner_lr).

    `backbone`: the backbone setting, among the backbones the functional inner loop can run; the
    architecture file of `backbone=searched` follows it.
    """
    return (
        HyperParam("meta_lr", "float", 1e-3, "Adam learning rate of the outer (meta) update.", 1e-6, 1.0, log_scale=True),
        *([HyperParam("inner_lr", "float", 0.1, "Learning rate of the inner-loop SGD steps on the support set.", 1e-5, 10.0,
                      log_scale=True)] if inner_lr else []),
        HyperParam("inner_steps", "int", 1, "Inner-loop steps during meta-training.", 1, 50),
        HyperParam("eval_inner_steps", "int", eval_inner_steps, "Inner-loop steps when adapting for evaluation and prediction.",
                   0, 200, after_training=True),
        HyperParam("head_init", "choice", "prototype", "How the per-task linear head starts: from class prototypes "
                   "(Proto-MAML) or zeros.", choices=("prototype", "zero")),
        backbone,
        BACKBONE_ARCHITECTURE,
        *BATCHING_PARAMS,
    )
