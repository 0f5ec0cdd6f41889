"""The one interface every few-shot algorithm implements.

From outside, a metric method (ProtoNet) and an optimisation method (MAML) look
the same: `meta_train` takes a batch of episodes and makes one meta-update;
`adapt` takes a labelled support set and returns a `Predictor` of class
probabilities for query images (for the built-ins an `nn.Module`, see
classifiers.py). Training, evaluation, the CLI's `adapt` and the GUI's
predictions all call these two methods and nothing else.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from workbench.algorithms.hyperparams import HyperParam, resolve_hyperparams
from workbench.data.episode import Episode
from workbench.errors import NonFiniteLossError, WorkbenchError
from workbench.models.genotype import FILE_NAME as ARCHITECTURE_FILE


@dataclass(frozen=True)
class StepStats:
    """What one meta-update measured, as plain numbers."""

    loss: float
    accuracy: float


class NoEmbeddingError(WorkbenchError):
    """The algorithm has no feature space to show."""


class Predictor(ABC):
    """The result of adapting to a support set: maps query images to class probabilities."""

    @abstractmethod
    def predict_proba(self, query_x: torch.Tensor) -> torch.Tensor:
        """Query images (n, C, S, S) in [0, 1] -> probabilities (n, ways); rows sum to 1."""


class Algorithm(ABC):
    """Base of every algorithm. Subclasses declare `name`, `title`, `summary`, `hyperparams`.

    The algorithm owns its networks and its optimiser, so that methods whose
    meta-update is not plain backprop (Reptile, learned optimisers) fit too.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    hyperparams: ClassVar[tuple[HyperParam, ...]] = ()
    # An optional learning-rate schedule; saved and resumed with the optimisers.
    scheduler: Any = None
    # Episodes of this many ways and queries per class during training when the run leaves train ways at 0
    # (0: the test episodes' own). Metric methods learn better from wider episodes (Snell et al. 2017).
    wide_training_ways: ClassVar[int] = 0
    wide_training_queries: ClassVar[int] = 0
    # Meta-updates a run gets when the person does not say (main.py train without --steps).
    default_steps: ClassVar[int] = 1000
    # True when `adapt` returns an nn.Module (workbench.algorithms.classifiers) that ONNX and TorchScript
    # can save as it is: `main.py export` writes that module.
    exportable: ClassVar[bool] = False

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        hparams: dict[str, Any] | None = None,
        device: torch.device | str = "cpu",
        precision: str = "fp32",
    ) -> None:
        self.in_channels = in_channels
        self.image_size = image_size
        self.hparams = resolve_hyperparams(self.hyperparams, dict(hparams or {}), self.name)
        self.device = torch.device(device)
        self.precision = precision
        self.channels_last = False
        # Called between the episodes of a meta-batch: the runner uses it to pause and cancel
        # within a second even when one meta-update takes many seconds.
        self.between_episodes: Callable[[], None] = lambda: None
        # Called between the inner steps of one episode (gradient-based methods), for the same reason.
        self.between_steps: Callable[[], None] = lambda: None

    # --- the interface -------------------------------------------------
    @abstractmethod
    def meta_train(self, episodes: list[Episode]) -> StepStats:
        """One meta-update from a batch of episodes (already on the device)."""

    @abstractmethod
    def adapt(self, support_x: torch.Tensor, support_y: torch.Tensor, ways: int) -> Predictor:
        """Adapt to labelled support images; labels are 0..ways-1, any ways >= 2, any shots >= 1."""

    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Every network whose weights make up the model (saved and loaded by name)."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser whose state a resumed run needs."""

    # --- optional -------------------------------------------------------
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Feature vectors (n, d) of images (n, C, S, S), for the Inspect page's embedding views.

        The default runs the module named "backbone" when the algorithm has one;
        an algorithm without one (or whose features mean something else) overrides
        this or raises NoEmbeddingError, which the GUI shows as "no embedding".
        """
        backbone = self.modules().get("backbone")
        if backbone is None:
            raise NoEmbeddingError(f"{self.title} has no embedding network to show (no module named 'backbone').")
        was_training = backbone.training
        backbone.eval()
        try:
            with torch.no_grad(), self.autocast():
                features = backbone(self.prepare(x))
        finally:
            backbone.train(was_training)
        return features.float().flatten(1).cpu()

    # True while the runner validates during training: an algorithm may skip test-time extras that only
    # polish the final predictions (ProtoNet's shift averaging costs 9x), so validation stays cheap.
    validating: bool = False

    # Metric methods set these two (see ProtoNet): the features their adapt compares, independent of the
    # labels, and the logits from support features. Labelling and adapt selection then encode each image once.
    adapt_features: Callable[[torch.Tensor], torch.Tensor] | None = None
    feature_logits: Callable[..., torch.Tensor] | None = None
    # A metric method whose classes are the means of their support features sets this too: logits of query
    # features against given prototypes. Adapting can then refine the prototypes (adaptation/refine.py).
    prototype_logits: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None

    # --- shared behaviour ----------------------------------------------
    def evaluate_episode(self, episode: Episode) -> StepStats:
        """Loss and accuracy on the episode's queries after adapting to its support set."""
        predictor = self.adapt(episode.support_x, episode.support_y, episode.ways)
        with torch.no_grad():
            probs = predictor.predict_proba(episode.query_x).float()
        loss = nn.functional.nll_loss(probs.clamp_min(1e-12).log(), episode.query_y).item()
        accuracy = (probs.argmax(1) == episode.query_y).float().mean().item()
        return StepStats(loss, accuracy)

    def train_mode(self, training: bool) -> None:
        for module in self.modules().values():
            module.train(training)

    def state_dict(self) -> dict[str, Any]:
        return {name: module.state_dict() for name, module in self.modules().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, module in self.modules().items():
            module.load_state_dict(state[name])

    def optimizer_state_dict(self) -> dict[str, Any]:
        state = {name: opt.state_dict() for name, opt in self.optimizers().items()}
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def load_optimizer_state_dict(self, state: dict[str, Any]) -> None:
        for name, opt in self.optimizers().items():
            opt.load_state_dict(state[name])
        if self.scheduler is not None and "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])

    def artifacts(self) -> dict[str, Any]:
        """Files the run saves beside model.pt each time it saves it: {file name: JSON-able data}, for what
        the weights alone do not tell a person. By default the architecture of a network that records one
        (`architecture_record`: MetaNAS's search, the `searched` backbone), as architecture.json."""
        for module in self.modules().values():
            record = getattr(module, "architecture_record", None)
            if callable(record):
                return {ARCHITECTURE_FILE: record()}
        return {}

    def parameter_count(self) -> int:
        return sum(p.numel() for m in self.modules().values() for p in m.parameters())

    def autocast(self):
        """Mixed precision where the run asked for it (bf16 on AMX CPUs and recent GPUs)."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        if not self.channels_last:
            return x
        x = x.contiguous(memory_format=torch.channels_last)
        if x.dim() == 4 and x.shape[1] == 1:
            # One channel: NCHW and channels-last strides address the same memory and torch keeps the NCHW
            # ones, so a convolution whose weight lost its channels-last strides (MAML's adapted weights,
            # p - lr * g) ran NCHW, and the max-pool after it 20x slower. Explicit strides keep it channels-last.
            n, _, h, w = x.shape
            x = x.as_strided(x.shape, (h * w, 1, w, 1))
        return x

    def use_channels_last(self) -> None:
        """Store conv weights channels-last (faster convolutions on CPU and GPU)."""
        self.channels_last = True
        for module in self.modules().values():
            module.to(memory_format=torch.channels_last)

    @staticmethod
    def check_finite(loss: torch.Tensor) -> None:
        """Refuse to step on a NaN or infinite loss, so the weights stay the last good ones."""
        value = loss.detach().float().item()
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"The training loss became {value} (not a finite number); training stopped before "
                "applying that update. Try a lower learning rate."
            )


class SoftmaxPredictor(Predictor):
    """A predictor given as a function from query images to logits."""

    def __init__(self, logits_fn, chunk: int = 512) -> None:
        self.logits_fn = logits_fn
        self.chunk = chunk

    def predict_proba(self, query_x: torch.Tensor) -> torch.Tensor:
        parts = [self.logits_fn(query_x[i:i + self.chunk]).float().softmax(dim=1) for i in range(0, len(query_x), self.chunk)]
        return torch.cat(parts) if parts else torch.empty(0)
