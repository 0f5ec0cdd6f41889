"""Matching Networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu and Wierstra, NeurIPS 2016).

Promise: a query's class distribution is an attention-weighted vote of the
support labels, the attention being a softmax over cosine similarities between
the query's and each support image's embedding. Trained episodically, so the
test condition (a small labelled support set) is the training condition.
Adapting is one forward pass; any number of ways and shots works.

Full-context embeddings (`fce`, off by default as in the paper's Omniglot
runs): support embeddings pass through a bidirectional LSTM over the support
set (g(x) = g'(x) + forward + backward states), and each query through an
attention LSTM that reads the support set for `fce_steps` steps. Here the
attention read-out of the previous step enters the LSTM cell as input beside
the query embedding (the paper writes it into the hidden state); each query
has its own LSTM state, so a prediction never depends on the other queries.
Cosine similarities lie in [-1, 1], so the paper's attention softmax can never
be confident (at best e/(e + 4/e) = 0.65 for 5 ways) and its gradients stay
weak. `cosine_scale` multiplies the similarities before the softmax (1, the
default, is the paper); `learn_scale` learns that factor with the network,
starting from `cosine_scale` (the metric scaling of Oreshkin et al., TADAM,
NeurIPS 2018) — a deviation from the paper, off by default.
Paper, Omniglot 5-way 1-shot: 98.1% (Conv4, 28x28, no FCE).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_hyperparams, build_backbone
from workbench.algorithms.classifiers import AdaptedClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.data.episode import Episode
from workbench.models.learned_scale import LearnedScale


class FullContextEmbedding(nn.Module):
    """The two LSTMs of FCE: one embeds the support set in context, one lets each query attend to it."""

    def __init__(self, dim: int, steps: int) -> None:
        super().__init__()
        self.dim, self.steps = dim, steps
        self.support_lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.query_cell = nn.LSTMCell(2 * dim, dim)

    def embed_support(self, g: torch.Tensor) -> torch.Tensor:
        states, _ = self.support_lstm(g[None])
        return g + states[0, :, : self.dim] + states[0, :, self.dim:]

    def embed_query(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        h = torch.zeros_like(f)
        c = torch.zeros_like(f)
        read = torch.zeros_like(f)
        for _ in range(self.steps):
            h_hat, c = self.query_cell(torch.cat([f, read], dim=1), (h, c))
            h = h_hat + f
            read = (h @ g.T).softmax(dim=1) @ g
        return h


def attention_probabilities(query: torch.Tensor, support: torch.Tensor, support_y: torch.Tensor, ways: int,
                            scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """(nq, ways): softmax over (scaled) cosine similarity to each support image, summed per support label."""
    return attend(query, support, F.one_hot(support_y, ways), scale)


def attend(query: torch.Tensor, support: torch.Tensor, support_hot: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    attention = (scale * F.normalize(query, dim=1) @ F.normalize(support, dim=1).T).softmax(dim=1)
    return attention @ support_hot.to(attention.dtype)


def embed_images(backbone: nn.Module, fce: FullContextEmbedding | None, images: torch.Tensor, autocast,
                 support: torch.Tensor | None = None) -> torch.Tensor:
    """Support embeddings (support=None) or query embeddings in the context of `support` (with FCE)."""
    with autocast():
        features = backbone(images).float()
    if fce is None:
        return features
    return fce.embed_support(features) if support is None else fce.embed_query(features, support)


class MatchingClassifier(AdaptedClassifier):
    """The embedded support set; a query's probabilities are its attention over it, summed per class."""

    def __init__(self, backbone: nn.Module, fce: FullContextEmbedding | None, support: torch.Tensor,
                 support_y: torch.Tensor, ways: int, scale: float) -> None:
        super().__init__()
        self.backbone, self.fce, self.scale = backbone, fce, float(scale)
        self.register_buffer("support", support)
        self.register_buffer("support_hot", F.one_hot(support_y, ways).float())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        query = embed_images(self.backbone, self.fce, images, self.autocast, self.support)
        probs = attend(query, self.support, self.support_hot, self.scale)
        return probs / probs.sum(dim=1, keepdim=True)


@register
class MatchingNetworks(EpisodicAlgorithm):
    name = "matching"
    title = "Matching Networks"
    summary = "Label a query by cosine attention over the support set (Vinyals et al. 2016)."
    exportable = True
    hyperparams = (
        HyperParam("lr", "float", 1e-3, "Adam learning rate.", 1e-6, 1.0, log_scale=True),
        HyperParam("fce", "bool", False, "Full-context embeddings: LSTMs that embed support and queries in the context of the support set."),
        HyperParam("fce_steps", "int", 5, "Attention-LSTM read steps per query when fce is on.", 1, 50),
        HyperParam("cosine_scale", "float", 1.0, "Multiply cosine similarities by this before the attention softmax (1: the paper).", 0.01, 100.0, log_scale=True),
        HyperParam("learn_scale", "bool", False, "Learn the cosine scale with the network, starting from cosine_scale (TADAM's metric scaling; not in the paper)."),
        *backbone_hyperparams("conv4"),
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = build_backbone(self.hparams, in_channels, image_size, self.device)
        self.fce = FullContextEmbedding(self.backbone.feature_dim, self.hparams["fce_steps"]).to(self.device) if self.hparams["fce"] else None
        self.learned_scale = LearnedScale(self.hparams["cosine_scale"]).to(self.device) if self.hparams["learn_scale"] else None
        self.optimizer = torch.optim.Adam([p for m in self.modules().values() for p in m.parameters()], lr=self.hparams["lr"])

    def modules(self) -> dict[str, nn.Module]:
        extra = {"fce": self.fce, "scale": self.learned_scale}
        return {"backbone": self.backbone, **{name: module for name, module in extra.items() if module is not None}}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def scale(self) -> torch.Tensor | float:
        return self.learned_scale() if self.learned_scale is not None else self.hparams["cosine_scale"]

    def episode_loss(self, episode: Episode):
        support = embed_images(self.backbone, self.fce, self.prepare(episode.support_x), self.autocast)
        query = embed_images(self.backbone, self.fce, self.prepare(episode.query_x), self.autocast, support)
        probs = attention_probabilities(query, support, episode.support_y, episode.ways, self.scale())
        return F.nll_loss(probs.clamp_min(1e-8).log(), episode.query_y), probs

    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> MatchingClassifier:
        self.train_mode(False)  # batch norm on running statistics: queries never influence each other
        with torch.no_grad():
            support = embed_images(self.backbone, self.fce, self.prepare(support_x), self.autocast)
            scale = float(self.scale())
        return MatchingClassifier(self.backbone, self.fce, support, support_y.to(self.device), ways, scale).runs_like(self)
