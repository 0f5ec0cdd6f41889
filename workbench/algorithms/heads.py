"""The classification heads the algorithms share: class prototypes, and logits against them.

Pure tensor functions, safe under torch.func.vmap and grad (no in-place scatter, no
data-dependent shapes) and exportable to ONNX and TorchScript, so training, adapting,
the labelling feature cache and an exported model all compute the same thing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

Head = tuple[torch.Tensor, torch.Tensor]  # a linear head: weight (ways, d), bias (ways,)


def one_hot(labels: torch.Tensor, ways: int, dtype: torch.dtype) -> torch.Tensor:
    return (labels[..., None] == torch.arange(ways, device=labels.device)).to(dtype)


def class_prototypes(features: torch.Tensor, labels: torch.Tensor, ways: int) -> torch.Tensor:
    """Mean feature of each class (ways, d); any number of shots per class (a class without any gets zeros).

    Leading dimensions are tasks: features (..., n, d) and labels (..., n) give (..., ways, d).
    """
    # Outside autocast: the mean of fp32 features stays fp32 even inside a bf16 forward.
    with torch.autocast(features.device.type, enabled=False):
        hot = one_hot(labels, ways, features.dtype)
        return (hot.transpose(-1, -2) @ features) / hot.sum(-2).clamp_min(1.0)[..., None]


def euclidean_logits(query: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
    """(n, ways) negative squared Euclidean distances, in fp32."""
    query, prototypes = query.float(), prototypes.float()
    if torch.compiler.is_exporting() or torch.jit.is_tracing():
        # ONNX has no cdist: while a graph is being exported the distance is written out. It agrees with
        # cdist to float rounding (export checks its model against the workbench's predictions).
        squared = query.pow(2).sum(1, keepdim=True) - 2.0 * query @ prototypes.T + prototypes.pow(2).sum(1)
        return -squared.clamp_min(0.0)
    return -torch.cdist(query, prototypes).pow(2)


def cosine_logits(query: torch.Tensor, prototypes: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """(n, ways) cosine similarities times `scale` (cosines alone, in [-1, 1], give too flat a softmax)."""
    return scale * F.normalize(query, dim=1) @ F.normalize(prototypes, dim=1).T


def metric_logits(query: torch.Tensor, prototypes: torch.Tensor, metric: str, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """`euclidean` or `cosine` (times `scale`) logits of queries against prototypes."""
    if metric == "cosine":
        return cosine_logits(query, prototypes, scale)
    return euclidean_logits(query, prototypes)


def initial_head(features: torch.Tensor, labels: torch.Tensor, ways: int, mode: str) -> Head:
    """A task's linear head before adapting: from prototypes (W = 2p, b = -|p|^2, Proto-MAML,
    Triantafillou et al. 2020: the Euclidean prototype classifier as a linear layer), or zeros."""
    if mode == "zero":
        tasks = features.shape[:-2]
        return features.new_zeros(*tasks, ways, features.shape[-1]), features.new_zeros(*tasks, ways)
    p = class_prototypes(features, labels, ways)
    return 2.0 * p, -(p**2).sum(-1)


def task_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy, the mean over each task's images and the sum over tasks (leading dimensions), so that
    the gradient with respect to one task's own weights is that task's gradient alone."""
    flat = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    return flat.reshape(labels.shape).mean(-1).sum()


def head_logits(features: torch.Tensor, head: Head) -> torch.Tensor:
    """(..., n, ways) logits; leading dimensions are tasks, as in class_prototypes."""
    weight, bias = head
    return features @ weight.transpose(-1, -2) + bias[..., None, :]
