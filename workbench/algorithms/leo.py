"""Latent Embedding Optimization (Rusu, Rao, Sygnowski, Vinyals, Pascanu, Osindero and Hadsell, ICLR 2019).

Promise: adapt in a low-dimensional latent space rather than in the
high-dimensional space of classifier weights. An encoder and a relation
network map the support features of each class to a Gaussian over a latent
code (sampled with the reparameterisation trick in meta-training); a decoder
maps each code to a Gaussian over that class's softmax weights. The inner loop
takes gradient steps on the codes (decoding after each), then optionally
fine-tunes the decoded weights directly. Both inner learning rates are
meta-learned. The meta-loss adds the paper's regularisers: a KL term pulling
the codes' distribution towards N(0, I), an encoder penalty pulling the initial
codes towards the adapted ones, an orthogonality penalty on the decoder
weights, and L2 weight decay. The codes are one per class, so any number of
ways and shots works by construction.

Features: the paper decodes weights for fixed features of a pre-trained
WRN-28-10. Here the features come from a Conv4 (64 filters) trained jointly
with LEO from the meta-loss (batch norm on batch statistics in training,
running statistics when adapting, so a query's prediction never depends on
the others). When adapting, codes and weights take their means (no sampling),
so the same support set always gives the same predictor.

Defaults follow the paper's reference configuration (latent size 64, 5 latent
steps with meta-learned rate starting at 1.0, 5 fine-tuning steps starting at
0.001, dropout 0.3, KL weight 0.001, encoder penalty 1e-9, orthogonality 1e-3,
L2 1e-8, gradient clipping 0.1), except the outer Adam rate: 1e-3 instead of
1e-4, for a CPU's short budget. Mixed precision covers the Conv4 only; the
latent inner loop runs in fp32.

Paper figures: miniImageNet (5-way 1-shot 61.8%) and tieredImageNet (66.3%)
only; the paper reports no Omniglot result.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms._backbone import backbone_choice, build_backbone
from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.classifiers import LinearClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.heads import class_prototypes
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register

STD_FLOOR = 1e-10  # keeps the Gaussians' standard deviations strictly positive
INITIAL_STD_BIAS = -4.6


class LatentModel(nn.Module):
    """Encoder, relation network and decoder of LEO, and its two meta-learned inner rates."""

    def __init__(self, feature_dim: int, latent: int, dropout: float, inner_lr: float, finetune_lr: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.encoder = nn.Linear(feature_dim, latent, bias=False)
        self.relation = nn.Sequential(
            nn.Linear(2 * latent, 2 * latent), nn.ReLU(),
            nn.Linear(2 * latent, 2 * latent), nn.ReLU(),
            nn.Linear(2 * latent, 2 * latent),
        )
        self.decoder = nn.Linear(latent, 2 * feature_dim)
        # Both Gaussians start narrow (softplus(-4.6) ~ 0.01): noise on the codes and the
        # decoded weights at the start would otherwise swamp the logits of unnormalised features.
        with torch.no_grad():
            self.decoder.bias[feature_dim:].fill_(INITIAL_STD_BIAS)
            self.relation[-1].bias[latent:].fill_(INITIAL_STD_BIAS)
        self.inner_lr = nn.Parameter(torch.tensor(float(inner_lr)))
        self.finetune_lr = nn.Parameter(torch.tensor(float(finetune_lr)))

    def encode(self, features, labels, ways: int, sample: bool):
        """Support features -> latent codes (ways, latent) and their KL to N(0, I)."""
        codes = self.encoder(self.dropout(features))
        n = len(codes)
        # Relation network over every (image, other image) pair, averaged per image, then per class.
        pairs = torch.cat([codes[:, None, :].expand(n, n, -1), codes[None, :, :].expand(n, n, -1)], 2)
        per_image = self.relation(pairs).mean(1)
        mean, raw_std = class_prototypes(per_image, labels, ways).chunk(2, dim=1)
        std = F.softplus(raw_std) + STD_FLOOR
        z = mean + std * torch.randn_like(std) if sample else mean
        kl = (0.5 * (std**2 + mean**2 - 1) - std.log()).sum(1).mean()
        return z, kl

    def decode(self, z, sample: bool) -> torch.Tensor:
        """Latent codes (ways, latent) -> classifier weights (ways, feature_dim)."""
        mean, raw_std = self.decoder(z).chunk(2, dim=1)
        if not sample:
            return mean
        return mean + (F.softplus(raw_std) + STD_FLOOR) * torch.randn_like(mean)

    def orthogonality(self) -> torch.Tensor:
        """Mean squared distance of the decoder's latent-dimension correlations from the identity."""
        rows = F.normalize(self.decoder.weight.T, dim=1)  # one row per latent dimension
        correlation = rows @ rows.T
        return ((correlation - torch.eye(len(rows), device=rows.device)) ** 2).mean()


@register
class LEO(EpisodicAlgorithm):
    name = "leo"
    title = "LEO (latent embedding optimisation)"
    summary = "Adapt per-class latent codes decoded into classifier weights (Rusu et al. 2019)."
    exportable = True
    hyperparams = (
        HyperParam("outer_lr", "float", 1e-3, "Adam learning rate of the meta-update.", 1e-6, 1.0, log_scale=True),
        HyperParam("latent_size", "int", 64, "Dimensions of each class's latent code.", 1, 1024),
        HyperParam("inner_steps", "int", 5, "Gradient steps on the latent codes.", 0, 100),
        HyperParam("finetune_steps", "int", 5, "Gradient steps on the decoded weights afterwards (0: none).", 0, 100),
        HyperParam("inner_lr", "float", 1.0, "Initial (meta-learned) step size on the latent codes.", 1e-6, 100.0, log_scale=True),
        HyperParam("finetune_lr", "float", 1e-3, "Initial (meta-learned) step size on the decoded weights.", 1e-6, 100.0, log_scale=True),
        HyperParam("dropout", "float", 0.3, "Dropout on the features in meta-training.", 0.0, 0.9),
        HyperParam("kl_weight", "float", 1e-3, "Weight of the KL term of the latent codes.", 0.0, 100.0),
        HyperParam("encoder_penalty", "float", 1e-9, "Weight of |adapted code - initial code|^2.", 0.0, 100.0),
        HyperParam("orthogonality_weight", "float", 1e-3, "Weight of the decoder orthogonality penalty.", 0.0, 100.0),
        HyperParam("l2_weight", "float", 1e-8, "L2 weight decay.", 0.0, 1.0),
        HyperParam("grad_clip", "float", 0.1, "Clip the meta-gradient norm to this (0: no clipping).", 0.0, 1e6),
        backbone_choice("conv4", "Feature network, trained jointly."),
        BACKBONE_ARCHITECTURE,
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        hp = self.hparams
        self.backbone = build_backbone(hp, in_channels, image_size, self.device)
        self.latent = LatentModel(
            self.backbone.feature_dim, hp["latent_size"], hp["dropout"], hp["inner_lr"], hp["finetune_lr"]
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            [*self.backbone.parameters(), *self.latent.parameters()], lr=hp["outer_lr"], weight_decay=hp["l2_weight"]
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "latent": self.latent}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.backbone(self.prepare(x)).float()

    def _adapt_weights(self, features, labels, ways: int, training: bool):
        """Inner loop: latent steps, then fine-tuning steps. Returns weights, KL, encoder penalty."""
        hp, model = self.hparams, self.latent
        z0, kl = model.encode(features, labels, ways, sample=training)
        z = z0 if training else z0.detach().requires_grad_()
        support = model.dropout(features) if training else features
        for _ in range(hp["inner_steps"]):
            loss = F.cross_entropy(support @ model.decode(z, training).T, labels)
            (grad,) = torch.autograd.grad(loss, z, create_graph=training)
            z = z - model.inner_lr * grad
        weights = model.decode(z, training)
        if not training:
            weights = weights.detach().requires_grad_()
        for _ in range(hp["finetune_steps"]):
            loss = F.cross_entropy(support @ weights.T, labels)
            (grad,) = torch.autograd.grad(loss, weights, create_graph=training)
            weights = weights - model.finetune_lr * grad
        penalty = ((z.detach() - z0) ** 2).sum(1).mean()
        return weights, kl, penalty

    def episode_loss(self, episode):
        hp = self.hparams
        n = len(episode.support_y)
        features = self._features(torch.cat([episode.support_x, episode.query_x]))
        weights, kl, penalty = self._adapt_weights(features[:n], episode.support_y, episode.ways, training=True)
        logits = self.latent.dropout(features[n:]) @ weights.T
        task_loss = F.cross_entropy(logits, episode.query_y)
        loss = (
            task_loss + hp["kl_weight"] * kl + hp["encoder_penalty"] * penalty
            + hp["orthogonality_weight"] * self.latent.orthogonality()
        )
        return loss, logits, task_loss  # the reported loss is the classification loss alone

    def adapt(self, support_x, support_y, ways) -> LinearClassifier:
        self.train_mode(False)
        support_y = support_y.to(self.device)
        with torch.no_grad():
            features = self._features(support_x)
        with torch.enable_grad():
            weights, _, _ = self._adapt_weights(features, support_y, ways, training=False)
        weights = weights.detach()
        return LinearClassifier(self.backbone, weights, weights.new_zeros(ways)).runs_like(self)
