"""The example plugin's method: cosine prototypes with a learned scale (see __init__.py).

Training, adapting, export and labelling come from `PrototypeAlgorithm`, as for ProtoNet:
a class is the mean embedding of its support images, a query is scored against each
class. What is new is said here: the comparison (cosine) and its learned scale.
"""

# Everything a plugin needs comes from these modules of the workbench.
from workbench.algorithms.prototypical import PrototypeAlgorithm
from workbench.algorithms.registry import register
from workbench.models.learned_scale import LearnedScale

from . import EXAMPLE  # the declaration: name, words and settings, written once in __init__.py


@register  # the same door the built-in algorithms use: replaces the declaration by the class
class CosinePrototypes(PrototypeAlgorithm):
    name, title, summary, hyperparams = EXAMPLE.name, EXAMPLE.title, EXAMPLE.summary, EXAMPLE.hyperparams
    metric = "cosine"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)  # fills self.hparams, builds self.backbone from the `backbone` setting
        self.scale = LearnedScale(self.hparams["initial_scale"]).to(self.device)  # Adam at `lr` trains every module

    def logit_scale(self):
        return self.scale()  # learned with the network: cosines alone, in [-1, 1], give too flat a softmax

    # Every network whose weights are the model: saved in model.pt and checkpoints by these names.
    def modules(self):
        return {"backbone": self.backbone, "scale": self.scale}
