"""Projecting feature vectors to 2-D: PCA (exact, instant) and a small exact t-SNE.

t-SNE follows van der Maaten and Hinton, "Visualizing Data using t-SNE", JMLR 2008:
Gaussian affinities with a per-point bandwidth found by binary search to match a
perplexity, symmetrised; Student-t affinities in 2-D; gradient descent with
momentum and early exaggeration. Exact (O(n^2)), meant for one episode's points
(tens to a few hundred), not for whole datasets.
"""

from __future__ import annotations

import math

import torch


def pca_2d(features: torch.Tensor) -> torch.Tensor:
    """(n, d) -> (n, 2): coordinates on the two directions of largest variance.

    Signs are fixed (largest loading positive) so the same data always looks the same.
    """
    x = features.detach().double().cpu()
    n = x.shape[0]
    if n == 0:
        return torch.zeros(0, 2)
    x = x - x.mean(0, keepdim=True)
    if n == 1:
        return torch.zeros(1, 2)
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    components = vh[:2]
    signs = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True))).clamp_min(-1)
    signs[signs == 0] = 1
    coords = x @ (components * signs).T
    if coords.shape[1] < 2:  # one feature dimension, or all points on a line
        coords = torch.cat([coords, torch.zeros(n, 2 - coords.shape[1], dtype=coords.dtype)], 1)
    return coords.float()


def _affinities(distances: torch.Tensor, perplexity: float) -> torch.Tensor:
    """Row-stochastic Gaussian affinities whose entropy matches log(perplexity) per row."""
    n = distances.shape[0]
    target = math.log(perplexity)
    beta = torch.ones(n, dtype=distances.dtype)
    low = torch.full((n,), 0.0, dtype=distances.dtype)
    high = torch.full((n,), float("inf"), dtype=distances.dtype)
    eye = torch.eye(n, dtype=torch.bool)
    for _ in range(64):
        logits = (-distances * beta[:, None]).masked_fill(eye, -float("inf"))
        p = logits.softmax(1)
        entropy = -(p * p.clamp_min(1e-300).log()).sum(1)
        too_flat = entropy > target  # too wide a Gaussian: raise beta
        low = torch.where(too_flat, beta, low)
        high = torch.where(too_flat, high, beta)
        beta = torch.where(torch.isinf(high), beta * 2, (low + high) / 2)
    return p


def tsne_2d(features: torch.Tensor, perplexity: float = 15.0, iterations: int = 500, seed: int = 0) -> torch.Tensor:
    """(n, d) -> (n, 2) by exact t-SNE; perplexity is capped at (n - 1) / 3 for small n."""
    x = features.detach().double().cpu()
    n = x.shape[0]
    if n < 4:
        return pca_2d(x)
    perplexity = max(2.0, min(perplexity, (n - 1) / 3))
    x = x - x.mean(0, keepdim=True)
    distances = torch.cdist(x, x).pow(2)
    distances = distances / distances.max().clamp_min(1e-12)
    p = _affinities(distances, perplexity)
    p = ((p + p.T) / (2 * n)).clamp_min(1e-12)
    generator = torch.Generator().manual_seed(seed)
    # Start from the PCA layout, scaled small: runs are stable and look like the PCA view.
    y = pca_2d(x).double()
    y = 1e-4 * y / y.std().clamp_min(1e-12) + 1e-6 * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    velocity = torch.zeros_like(y)
    gains = torch.ones_like(y)
    rate = max(n / 12.0, 10.0)
    for step in range(iterations):
        exaggeration = 12.0 if step < 100 else 1.0
        momentum = 0.5 if step < 100 else 0.8
        diff = y[:, None, :] - y[None, :, :]
        inv = 1.0 / (1.0 + diff.pow(2).sum(-1))
        inv.fill_diagonal_(0.0)
        q = (inv / inv.sum()).clamp_min(1e-12)
        grad = 4.0 * (((exaggeration * p - q) * inv)[:, :, None] * diff).sum(1)
        # Adaptive gains (Jacobs 1988), as in the paper's reference implementation.
        same = torch.sign(grad) == torch.sign(velocity)
        gains = torch.where(same, gains * 0.8, gains + 0.2).clamp_min(0.01)
        velocity = momentum * velocity - rate * gains * grad
        y = y + velocity
        y = y - y.mean(0, keepdim=True)
    return y.float()
