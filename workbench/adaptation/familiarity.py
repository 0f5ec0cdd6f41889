"""How unfamiliar a set of images is to a run's model, from the batch-norm statistics it was trained with.

A batch-norm layer keeps the mean and variance of each channel over everything the model was trained
on. The same channels computed on a person's images say how far those images are from that: the
divergence between the two Gaussians (KL, per channel, averaged) at the first such layer, where the
statistics describe the images themselves rather than what the model made of them. Measured with
ProtoNet trained on Omniglot: about 0.05 on alphabets it never saw, 3.4 on product photographs
(docs/benchmarks.md). A model without batch norm says nothing: None.
"""

from __future__ import annotations

import torch
from torch import nn

from workbench.algorithms.base import Algorithm

UNFAMILIAR = 0.5  # above this the images are another domain than the run's, and its features are not trusted alone
MAX_IMAGES = 256  # a sample is enough for channel statistics


def unfamiliarity(algorithm: Algorithm, images: torch.Tensor) -> float | None:
    """Mean per-channel KL(images || training) at the model's first batch-norm layer; None without one."""
    network = algorithm.modules().get("backbone")
    first = next((m for m in network.modules() if isinstance(m, nn.BatchNorm2d)), None) if network is not None else None
    if first is None or first.running_mean is None or len(images) < 2:
        return None
    seen: list[torch.Tensor] = []
    hook = first.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach().float()))
    training = network.training
    try:
        network.eval()
        with torch.no_grad():
            step = max(1, -(-len(images) // MAX_IMAGES))
            network(algorithm.prepare(images[::step].to(algorithm.device)))
    finally:
        hook.remove()
        network.train(training)
    if not seen:
        return None
    x = seen[0]
    mean, variance = x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3)) + first.eps
    trained_mean, trained_variance = first.running_mean.float(), first.running_var.float() + first.eps
    kl = 0.5 * ((variance + (mean - trained_mean) ** 2) / trained_variance - 1 - torch.log(variance / trained_variance))
    return float(kl.mean())
