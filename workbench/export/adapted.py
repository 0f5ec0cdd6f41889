"""An adapted classifier as one plain `nn.Module`: images in [0, 1] -> class probabilities.

`adapted_module(algorithm, support_x, support_y, ways)` runs the algorithm's own
`adapt`. An algorithm marked `exportable` adapts into an `nn.Module` (see
workbench/algorithms/classifiers.py) that holds everything its predictions need;
that module, copied to the CPU in fp32, is what gets saved: ONNX and TorchScript
run the very computation the workbench runs. (A plugin may instead offer
`export_module(support_x, support_y, ways)`, returning a module of its own.)

A run trained with `invert` is wrapped in `InvertedInput`, so the saved model
takes images as the files look and inverts them itself, as the workbench does.

An algorithm whose adapt gives no such module raises ExportError, in words.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from workbench.adaptation.calibration import power_logits
from workbench.algorithms.base import Algorithm
from workbench.errors import WorkbenchError


class ExportError(WorkbenchError):
    """The adapted model cannot be exported (unsupported algorithm, missing package, failed check)."""


def can_export(algorithm: Algorithm) -> bool:
    return callable(getattr(algorithm, "export_module", None)) or bool(getattr(algorithm, "exportable", False))


def check_exportable(algorithm: Algorithm) -> None:
    """Raise ExportError, in words, when the algorithm has no way to be exported."""
    if not can_export(algorithm):
        raise ExportError(
            f"The algorithm '{algorithm.name}' cannot be exported yet: its adapt does not give a module that ONNX "
            "or TorchScript can save (algorithms marked `exportable` do, or those with an export_module method). "
            "Use `adapt` to label images with it instead."
        )


def adapted_module(algorithm: Algorithm, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> nn.Module:
    """The algorithm adapted to the support set, as a module of its own (on the CPU, fp32, eval mode)."""
    check_exportable(algorithm)
    own = getattr(algorithm, "export_module", None)
    adapted = own(support_x, support_y, ways) if callable(own) else algorithm.adapt(support_x, support_y, ways)
    if not isinstance(adapted, nn.Module):
        raise ExportError(f"The algorithm '{algorithm.name}' says it can be exported, but its adapt gave a "
                          f"{type(adapted).__name__}, not a torch module; please report this.")
    return as_saved_module(adapted)


def as_saved_module(adapted: nn.Module) -> nn.Module:
    """A copy of `adapted` as it is saved: on the CPU, fp32, plain memory format, eval mode, no gradients.

    A copy, because an adapted module shares the run's networks, which must stay where and as they are."""
    module = copy.deepcopy(adapted).to("cpu", torch.float32).to(memory_format=torch.contiguous_format).eval()
    for attribute, value in (("precision", "fp32"), ("channels_last", False)):  # an adapted classifier's run settings
        if hasattr(module, attribute):
            setattr(module, attribute, value)
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


class Tempered(nn.Module):
    """`classifier`'s predictions calibrated as adapt calibrates them: softmax(shape(z) / T), where shape
    raises z's distance to its origin to a power (adaptation/calibration.py).

    z is what adapt calibrated: the classifier's own logits when adapt used the run's features
    (`from_logits`), else its log-probabilities. The same calibrated confidence `adapt --mode model`
    gives (adaptation/selection.py)."""

    def __init__(self, classifier: nn.Module, temperature: float, power: float = 1.0, from_logits: bool = False) -> None:
        super().__init__()
        self.classifier = classifier
        self.temperature = float(temperature)
        self.power = float(power)
        self.from_logits = bool(from_logits)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.from_logits:
            z = self.classifier.logits(images).float()
        else:
            z = self.classifier(images).clamp_min(1e-12).log()
        return (power_logits(z, self.power) / self.temperature).softmax(dim=1)


class TemperedLogits(nn.Module):
    """softmax(shape(`logits_module`(images)) / T): an adapt space's calibrated probabilities (adaptation/selection.py)."""

    def __init__(self, logits_module: nn.Module, temperature: float, power: float = 1.0) -> None:
        super().__init__()
        self.logits_module = logits_module
        self.temperature = float(temperature)
        self.power = float(power)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (power_logits(self.logits_module(images).float(), self.power) / self.temperature).softmax(dim=1)


class InvertedInput(nn.Module):
    """`classifier(1 - images)`: the run's inversion (workbench.data.pixels) inside the exported model."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(1.0 - images)
