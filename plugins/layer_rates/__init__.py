"""Example plugin: MAML with a learned inner learning rate per layer (a gradient-based method).

MAML's one inner learning rate serves every layer alike, and a poorly chosen one makes
meta-training unstable. Antoniou, Edwards and Storkey ("How to train your MAML", ICLR 2019)
meta-learn the inner rate of each layer with the initialisation ("LSLR"; they also learn one
per inner step, left out here): a handful of extra numbers, against Meta-SGD's one rate per
weight. The inner loop, its vectorised meta-training, adapting and export are the
workbench's own (`_inner_loop.InnerLoop`); `method.py` says only how a step moves the weights.

As in the first example, this file declares the algorithm without importing torch, so
listing algorithms stays fast; `method.py` is imported when the algorithm is first built.
"""

from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.inner_loop_settings import gradient_hyperparams
from workbench.algorithms.registry import declare
from workbench.catalogue import functional_backbone_choices

LAYER_RATES = declare(
    name="example_layer_rates",
    title="MAML with per-layer learned inner rates (example plugin)",
    summary="MAML whose inner learning rate of each layer is meta-learned (LSLR, Antoniou et al. 2019); an example plugin.",
    hyperparams=gradient_hyperparams(HyperParam("backbone", "choice", "conv4", "Feature network.", choices=functional_backbone_choices())),
    load=f"{__name__}.method:LayerRateMAML",  # imported when the algorithm is first built
)
