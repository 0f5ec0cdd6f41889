"""Meta-LSTM: optimisation as a model for few-shot learning (Ravi and Larochelle, ICLR 2017).

Promise: an LSTM meta-learner learns both the learner's initialisation and the
update rule that trains it on a few examples. The learner's parameters are the
meta-learner's cell state: theta_t = f_t * theta_{t-1} + i_t * (-grad_t), with
a learned forget gate f_t (shrinks the parameters when useful) and a learned
input gate i_t (a learning rate per coordinate and step). The meta-learner is
coordinate-wise: one small LSTM shared by every learner parameter, fed the
gradient and the loss, preprocessed as in Andrychowicz et al. 2016
(log-magnitude and sign), followed by the gate layer of the paper
(f_t, i_t from the LSTM's output, the parameter itself and the previous gate).
Meta-training unrolls the inner updates on the support set and backpropagates
the query loss into the meta-learner and the initialisation, treating the
gradient and loss inputs as constants, as the paper does (no second
derivatives).

Learner: Conv4 (32 filters, as the paper) and a linear head. The head of the
paper has a fixed N outputs; here it is built for each task from the class
prototypes of the support features (W = 2p, b = -|p|^2, as in Proto-MAML,
Triantafillou et al. 2020), or zeros with `head_init=zero`, and is then updated
by the meta-learner with the rest, so any number of ways and shots works.
Batch norm normalises with the support set's statistics at every inner step
and for the queries, so a query's prediction never depends on the others.

Paper figures: miniImageNet only (5-way 1-shot 43.4%, 5-shot 60.6%); the paper
reports no Omniglot result. Defaults are the paper's (inner updates 12 for
1-shot, meta-learner LSTM of 20 units, Adam 1e-3, gradient clipping 0.25).
Mixed precision covers the learner's forward passes; the meta-learner runs in
fp32 (its small per-coordinate updates would round away in bf16).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._inner_loop import FunctionalBackbone
from workbench.algorithms.classifiers import FastWeightsClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.heads import head_logits, initial_head
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.models.conv4 import Conv4

PREPROCESS_P = 10.0  # Andrychowicz et al. 2016: magnitudes below e^-p are treated linearly


def preprocess(x: torch.Tensor, p: float = PREPROCESS_P) -> torch.Tensor:
    """(n,) -> (n, 2): (log|x| / p, sign x) where |x| >= e^-p, else (-1, e^p x)."""
    big = x.abs() >= math.exp(-p)
    first = torch.where(big, x.abs().clamp_min(1e-30).log() / p, torch.full_like(x, -1.0))
    second = torch.where(big, x.sign(), x * math.exp(p))
    return torch.stack([first, second], 1)


class CoordinateLSTM(nn.Module):
    """The meta-learner: an LSTM over (loss, gradient) per coordinate, then the paper's gate cell.

    `step` maps the parameters theta_{t-1} (P,), their gradient and the loss to
    theta_t, carrying (h, c, f, i) per coordinate between steps.
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTMCell(4, hidden)
        # Gate cell: inputs [lstm output, theta_{t-1}, previous gate] -> one gate value per coordinate.
        self.forget_weight = nn.Parameter(torch.empty(hidden + 2).uniform_(-0.01, 0.01))
        self.input_weight = nn.Parameter(torch.empty(hidden + 2).uniform_(-0.01, 0.01))
        # The paper starts with f ~ 1 (keep the parameters) and a small i (small steps).
        self.forget_bias = nn.Parameter(torch.empty(1).uniform_(4.0, 6.0))
        self.input_bias = nn.Parameter(torch.empty(1).uniform_(-5.0, -4.0))

    def initial_state(self, count: int, device) -> tuple[torch.Tensor, ...]:
        h = torch.zeros(count, self.lstm.hidden_size, device=device)
        gate = torch.zeros(count, device=device)
        return h, h.clone(), gate, gate.clone()

    def step(self, theta, grad, loss, state):
        h, c, f_prev, i_prev = state
        inputs = torch.cat([preprocess(loss.reshape(1)).expand(len(grad), 2), preprocess(grad)], 1)
        h, c = self.lstm(inputs, (h, c))
        f = torch.sigmoid(torch.cat([h, theta[:, None], f_prev[:, None]], 1) @ self.forget_weight + self.forget_bias)
        i = torch.sigmoid(torch.cat([h, theta[:, None], i_prev[:, None]], 1) @ self.input_weight + self.input_bias)
        return f * theta - i * grad, (h, c, f, i)


@register
class MetaLSTM(EpisodicAlgorithm):
    name = "meta_lstm"
    title = "Meta-LSTM (learned optimiser)"
    summary = "An LSTM meta-learner produces the learner's updates and initialisation (Ravi & Larochelle 2017)."
    exportable = True
    hyperparams = (
        HyperParam("meta_lr", "float", 1e-3, "Adam learning rate of the meta-learner and the initialisation.", 1e-6, 1.0, log_scale=True),
        HyperParam("inner_steps", "int", 12, "Updates the meta-learner makes on the support set (meta-training).", 1, 100),
        HyperParam("eval_inner_steps", "int", 12, "Updates when adapting for evaluation and prediction.", 0, 200, after_training=True),
        HyperParam("lstm_size", "int", 20, "Units of the coordinate-wise LSTM.", 1, 256),
        HyperParam("filters", "int", 32, "Filters per Conv4 layer of the learner.", 4, 256),
        HyperParam("grad_clip", "float", 0.25, "Clip the meta-gradient norm to this (0: no clipping).", 0.0, 1e6),
        HyperParam("head_init", "choice", "prototype", "How the learner's head starts on each task: class prototypes or zeros.", choices=("prototype", "zero")),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.learner = Conv4(in_channels, image_size, hidden=self.hparams["filters"]).to(self.device)
        self.meta_learner = CoordinateLSTM(self.hparams["lstm_size"]).to(self.device)
        self.functional = FunctionalBackbone(self.learner, self.autocast)
        self.optimizer = torch.optim.Adam(
            [*self.learner.parameters(), *self.meta_learner.parameters()], lr=self.hparams["meta_lr"]
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"learner": self.learner, "meta_learner": self.meta_learner}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    # --- the learner as a flat parameter vector ------------------------------
    def _unflatten(self, flat: torch.Tensor, ways: int, dim: int):
        params, start = {}, 0
        for name, p in self.learner.named_parameters():
            params[name] = flat[start:start + p.numel()].view(p.shape)
            start += p.numel()
        weight = flat[start:start + ways * dim].view(ways, dim)
        bias = flat[start + ways * dim:start + ways * dim + ways]
        return params, weight, bias

    def _initial_theta(self, support_x, support_y, ways) -> torch.Tensor:
        flat = torch.cat([p.reshape(-1) for p in self.learner.parameters()])
        params, _, _ = self._unflatten(flat, 0, 0)
        features, _ = self.functional(params, support_x)
        weight, bias = initial_head(features, support_y, ways, self.hparams["head_init"])
        return torch.cat([flat, weight.reshape(-1), bias])

    def _support_loss(self, theta, support_x, support_y, ways, dim):
        params, weight, bias = self._unflatten(theta, ways, dim)
        features, _ = self.functional(params, support_x)
        return F.cross_entropy(head_logits(features, (weight, bias)), support_y)

    def _inner_loop(self, support_x, support_y, ways: int, steps: int) -> torch.Tensor:
        """theta_T after `steps` meta-learner updates; carries graph into the meta-learner and theta_0."""
        theta = self._initial_theta(support_x, support_y, ways)
        dim = self.learner.feature_dim
        state = self.meta_learner.initial_state(len(theta), theta.device)
        for _ in range(steps):
            # The paper's simplification: gradient and loss are inputs, not differentiated through.
            leaf = theta.detach().requires_grad_()
            loss = self._support_loss(leaf, support_x, support_y, ways, dim)
            (grad,) = torch.autograd.grad(loss, leaf)
            theta, state = self.meta_learner.step(theta, grad, loss.detach(), state)
        return theta

    def _query_logits(self, theta, support_x, query_x, ways):
        params, weight, bias = self._unflatten(theta, ways, self.learner.feature_dim)
        _, stats = self.functional(params, support_x)
        features, _ = self.functional(params, query_x, stats)
        return head_logits(features, (weight, bias))

    # --- the interface ---------------------------------------------------
    def episode_loss(self, episode):
        support_x, query_x = self.prepare(episode.support_x), self.prepare(episode.query_x)
        theta = self._inner_loop(support_x, episode.support_y, episode.ways, self.hparams["inner_steps"])
        logits = self._query_logits(theta, support_x, query_x, episode.ways)
        return F.cross_entropy(logits, episode.query_y), logits

    def adapt(self, support_x, support_y, ways) -> FastWeightsClassifier:
        support_x, support_y = self.prepare(support_x), support_y.to(self.device)
        with torch.enable_grad():
            theta = self._inner_loop(support_x, support_y, ways, self.hparams["eval_inner_steps"]).detach()
        params, weight, bias = self._unflatten(theta, ways, self.learner.feature_dim)
        with torch.no_grad():
            _, stats = self.functional(params, support_x)
        return FastWeightsClassifier.adapted(self, self.learner, params, stats, (weight, bias))
