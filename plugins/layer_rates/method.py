"""The second example plugin's method: MAML with one learned inner learning rate per layer (see __init__.py)."""

import torch
from torch import nn

from workbench.algorithms import _inner_loop as inner
from workbench.algorithms.registry import register
from workbench.models.backbones import make_backbone

from . import LAYER_RATES


def layer_rate_step(rates: torch.Tensor):
    """The inner update: each backbone tensor moves by minus its own rate times its gradient; the head's
    weight and bias have the last two rates."""

    def step(params, head, g_params, g_head):
        params = {n: p - rates[i] * g_params[n] for i, (n, p) in enumerate(params.items())}
        return params, (head[0] - rates[-2] * g_head[0], head[1] - rates[-1] * g_head[1])

    return step


@register
class LayerRateMAML(inner.GradientMetaLearner):
    name, title, summary, hyperparams = LAYER_RATES.name, LAYER_RATES.title, LAYER_RATES.summary, LAYER_RATES.hyperparams

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32"):
        super().__init__(in_channels, image_size, hparams, device, precision)
        self.backbone = make_backbone(self.hparams["backbone"], in_channels, image_size, "", self.hparams["backbone_architecture"]).to(self.device)
        count = len(list(self.backbone.parameters())) + 2  # one rate per backbone tensor, two for the head
        self.rates = nn.ParameterDict({"rates": nn.Parameter(torch.full((count,), self.hparams["inner_lr"], device=self.device))})
        self.optimizer = torch.optim.Adam([*self.backbone.parameters(), *self.rates.parameters()], lr=self.hparams["meta_lr"])
        self.functional = inner.FunctionalBackbone(self.backbone, self.autocast)  # the backbone under given weights

    # Every network whose weights are the model (the meta-parameters), and the optimiser a resumed run needs.
    def modules(self):
        return {"backbone": self.backbone, "rates": self.rates}

    def optimizers(self):
        return {"adam": self.optimizer}

    def make_loop(self, meta, ways, steps):
        """How one task adapts, given the meta-parameters `meta` (module name -> its weights)."""
        return inner.InnerLoop(self.functional, ways, steps, self.hparams["head_init"], layer_rate_step(meta["rates"]["rates"]))
