"""An adapted classifier as one plain `nn.Module`: images in [0, 1] -> class probabilities.

`adapted_module(algorithm, support_x, support_y, ways)` runs the algorithm's
adaptation on the support set and freezes what it produced into a module that
needs nothing of the workbench to run, so ONNX and TorchScript can save it:

    protonet   backbone + the prototypes as a linear head
    maml       backbone with the adapted fast weights, the support set's batch-norm
               statistics baked in, and the adapted head
    a plugin   whatever its `export_module(support_x, support_y, ways)` returns

A run trained with `invert` is wrapped in `InvertedInput`, so the saved model
takes images as the files look and inverts them itself, as the workbench does.

Any other algorithm raises ExportError ("cannot be exported yet").
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from workbench.algorithms.base import Algorithm
from workbench.errors import WorkbenchError


class ExportError(WorkbenchError):
    """The adapted model cannot be exported (unsupported algorithm, missing package, failed check)."""


ModuleBuilder = Callable[[Algorithm, torch.Tensor, torch.Tensor, int], nn.Module]
_BUILDERS: dict[type, ModuleBuilder] = {}
_BUILTINS_REGISTERED: list[bool] = []


def register_exporter(algorithm_class: type):
    """Decorator: `builder(algorithm, support_x, support_y, ways) -> nn.Module` exports that class.

    It is used for subclasses too, as long as they keep the class's `adapt`
    (a subclass that adapts differently would be exported wrongly).
    """

    def decorate(builder: ModuleBuilder) -> ModuleBuilder:
        _BUILDERS[algorithm_class] = builder
        return builder

    return decorate


def _builder_for(algorithm: Algorithm) -> ModuleBuilder | None:
    own = getattr(algorithm, "export_module", None)
    if callable(own):
        return lambda alg, x, y, ways: own(x, y, ways)
    for cls, builder in _BUILDERS.items():
        if isinstance(algorithm, cls) and type(algorithm).adapt is cls.adapt:
            return builder
    return None


def can_export(algorithm: Algorithm) -> bool:
    _register_builtins()
    return _builder_for(algorithm) is not None


def check_exportable(algorithm: Algorithm) -> None:
    """Raise ExportError, in words, when the algorithm has no way to be exported."""
    if not can_export(algorithm):
        raise ExportError(
            f"The algorithm '{algorithm.name}' cannot be exported yet: only protonet, maml and algorithms "
            "with an export_module method can. Use `adapt` to label images with it instead."
        )


def adapted_module(algorithm: Algorithm, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> nn.Module:
    """The algorithm adapted to the support set, as a module (on the CPU, fp32, eval mode)."""
    check_exportable(algorithm)
    builder = _builder_for(algorithm)
    module = builder(algorithm, support_x, support_y, ways)
    module = module.to("cpu", torch.float32).to(memory_format=torch.contiguous_format).eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


# --- the built-in algorithms ------------------------------------------------------------
class PrototypeClassifier(nn.Module):
    """Backbone features scored against fixed prototypes; softmax gives the probabilities.

    Squared Euclidean distance as a linear head: -|f - p|^2 = 2 f.p - |p|^2 - |f|^2,
    and the softmax over classes is unchanged by the |f|^2 term every class shares.
    """

    def __init__(self, backbone: nn.Module, prototypes: torch.Tensor, distance: str) -> None:
        super().__init__()
        self.backbone = backbone
        self.cosine = distance == "cosine"
        if self.cosine:
            self.register_buffer("weight", F.normalize(prototypes, dim=1))
            self.register_buffer("bias", torch.zeros(len(prototypes)))
        else:
            self.register_buffer("weight", 2.0 * prototypes)
            self.register_buffer("bias", -(prototypes**2).sum(1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.backbone(images)
        if self.cosine:
            # The same scale of 10 as workbench.algorithms.protonet.distance_logits.
            return (10.0 * F.normalize(features, dim=1) @ self.weight.T).softmax(dim=1)
        return (features @ self.weight.T + self.bias).softmax(dim=1)


class Tempered(nn.Module):
    """`classifier`'s probabilities sharpened or softened by a temperature: softmax(log p / T).

    The same calibrated confidence `adapt --mode model` gives (adaptation/selection.py)."""

    def __init__(self, classifier: nn.Module, temperature: float) -> None:
        super().__init__()
        self.classifier = classifier
        self.temperature = float(temperature)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (self.classifier(images).clamp_min(1e-12).log() / self.temperature).softmax(dim=1)


class InvertedInput(nn.Module):
    """`classifier(1 - images)`: the run's inversion (workbench.data.pixels) inside the exported model."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(1.0 - images)


class FastWeightsClassifier(nn.Module):
    """A backbone holding adapted weights, normalised with fixed (support-set) statistics, and a linear head."""

    def __init__(self, backbone: nn.Module, stats: list[tuple[torch.Tensor, torch.Tensor]],
                 weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.backbone = backbone
        self.layers = len(stats)
        for i, (mean, var) in enumerate(stats):
            self.register_buffer(f"mean_{i}", mean)
            self.register_buffer(f"var_{i}", var)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        stats = [(getattr(self, f"mean_{i}"), getattr(self, f"var_{i}")) for i in range(self.layers)]
        features, _ = self.backbone.forward_with_stats(images, stats)
        return (features @ self.weight.T + self.bias).softmax(dim=1)


def _cpu_copy(backbone: nn.Module) -> nn.Module:
    return copy.deepcopy(backbone).to("cpu", torch.float32).to(memory_format=torch.contiguous_format)


def _protonet(algorithm, support_x, support_y, ways) -> nn.Module:
    from workbench.algorithms.protonet import class_means

    from workbench.models.shift_averaged import ShiftAveraged

    backbone = ShiftAveraged(_cpu_copy(algorithm.backbone).eval(), algorithm.hparams.get("test_shifts", 0))
    with torch.no_grad():
        prototypes = class_means(backbone(support_x.float()), support_y.long(), ways)
    return PrototypeClassifier(backbone, prototypes, algorithm.hparams["distance"])


def _maml(algorithm, support_x, support_y, ways) -> nn.Module:
    algorithm.backbone.train()  # as MAML.adapt: batch norm uses the support set's statistics
    with torch.enable_grad():
        params, (weight, bias), stats = algorithm._adapt_params(
            algorithm.prepare(support_x), support_y.to(algorithm.device), ways,
            algorithm.hparams["eval_inner_steps"], create_graph=False,
        )
    backbone = _cpu_copy(algorithm.backbone)
    with torch.no_grad():
        for name, parameter in backbone.named_parameters():
            parameter.copy_(params[name].detach())
    stats = [(m.detach().float().cpu(), v.detach().float().cpu()) for m, v in stats]
    return FastWeightsClassifier(backbone, stats, weight.detach().float().cpu(), bias.detach().float().cpu())


def _register_builtins() -> None:
    if _BUILTINS_REGISTERED:
        return
    _BUILTINS_REGISTERED.append(True)
    from workbench.algorithms.maml import MAML
    from workbench.algorithms.protonet import ProtoNet

    register_exporter(ProtoNet)(_protonet)
    register_exporter(MAML)(_maml)
