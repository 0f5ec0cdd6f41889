"""ANIL, Almost No Inner Loop (Raghu, Raghu, Bengio and Vinyals, ICLR 2020:
"Rapid Learning or Feature Reuse? Towards Understanding the Effectiveness of MAML").

Promise: MAML's success comes mostly from reusing features, so the inner loop
can adapt the task head alone and leave the backbone untouched, matching MAML's
accuracy at a fraction of the inner-loop cost; the backbone is learned only in
the outer loop (through the head's inner steps, second order).

Here: the per-task linear head starts from the class prototypes of the support
set (as in our MAML; zeros with `head_init=zero`), so any number of ways and
shots works; the support features are computed once per task and the inner SGD
steps move only the head. Defaults follow MAML's Omniglot setting, which the
paper reuses (one inner step in training, three at test, meta-batch 32, Adam
0.001), with our MAML's inner learning rate. Batch norm uses the support set's
statistics for support and queries, so a query's prediction never depends on
the other queries. A meta-batch of same-shaped episodes is meta-trained in one
vectorised torch.func pass (see `_inner_loop.GradientMetaLearner`).
Paper: reports no Omniglot 5-way 1-shot figure; on Omniglot it reports 20-way
(1-shot 96.2% +- 0.5%, against its MAML's 93.7% +- 0.7%), and MiniImageNet.
"""

from __future__ import annotations


from workbench.algorithms import _inner_loop as inner
from workbench.algorithms._backbone import backbone_choice
from workbench.algorithms.registry import register


@register
class ANIL(inner.BackboneMetaLearner):
    name = "anil"
    title = "ANIL"
    summary = "MAML with an inner loop on the head only; the backbone learns in the outer loop (Raghu et al. 2020)."
    hyperparams = inner.gradient_hyperparams(backbone_choice("conv4", "Feature network.", functional=True))

    def make_loop(self, meta, ways: int, steps: int) -> inner.InnerLoop:
        return inner.InnerLoop(
            self.functional, ways, steps, self.hparams["head_init"], inner.sgd_step(self.hparams["inner_lr"]), adapt_backbone=False
        )
