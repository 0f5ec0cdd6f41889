"""Memory-Augmented Neural Network (Santoro, Bartunov, Botvinick, Wierstra and Lillicrap, ICML 2016).

Promise: an LSTM controller with an external memory, read by content and
written by least-recently-used access (LRUA), learns to bind an image to its
label the moment it sees them and to recall that binding for later images of
the same class: it learns new classes with no weight update at all.

Sequence protocol (as in the paper): the input at time t is image_t together
with the one-hot label of time t-1, so the label of an image is shown one step
after the image. Within this interface:
- meta_train: the episode's support images, in a random order, are one
  sequence, followed by one blank image (zeros) that carries the last support
  label, so every support label reaches the memory before any query; every
  query then continues that sequence on its own (with no label: the last one
  was already shown). The loss is on the queries, and (with `support_loss`) on
  support images whose class already appeared earlier in the sequence.
- adapt: the support set runs through the controller and memory the same way
  (in a fixed shuffled order, so adapting twice gives the same state), and the
  predictor continues from that state once per query, each query on its own:
  a prediction never depends on the other queries.
The one-hot label input and the output have `max_ways` slots; an episode uses
the first `ways` of them (so ways > max_ways is refused).

Deviations from the paper, each because the paper's version did not learn
within a short CPU budget (on the tests' glyph task its query loss stayed at
ln 5 for 200 meta-updates: the label reached the matching row only as a small
part of the next step's 40-wide tanh key, and the output layer needed ~200
updates to find it there):
- Key/value rows. Each memory row has a key half (the controller's key, matched
  by cosine, as in the paper) and a value half that holds the label input
  itself. The label arrives one step after its image, so the value is written
  one step after its key, with the same weights that key was written with (so
  to that image's rows); a read returns both halves with the same weights. In
  the paper the label can reach the image's row only through the controller's
  next key (its LRUA gate mixes in the last step's read weights).
- The output layer starts with the recalled label passed to the logits
  (`value_gain`: label slot i -> logit i, per read head); all of it is trained.
- The LRUA gate starts closed (`gate_bias` -4: each image goes to fresh rows);
  at 0 (the neutral start) half of every key and label lands on the previous
  image's rows, and a recalled row mixes two labels.
- Reads are sharpened by a learned key strength (`key_strength=learned`, NTM
  style, starting near 10); the paper's plain softmax over cosine similarity
  (`none`) spreads a read over all rows at the start.
- Each step reads the memory before writing it, and the LRUA gate mixes the
  last step's write weights, not its read weights (see _memory.py: in the
  paper's read-after-write order a key finds itself, so a query would recall
  its own key).
- Images are encoded by a Conv4 (64 filters, trained jointly; batch norm on
  batch statistics in training and running statistics when adapting), not fed
  as flattened 20x20 pixels; the paper trains 5-way episodes with 10 instances
  per class in one long sequence, here episodes are split into support and
  queries. Optimiser Adam 1e-3 (the paper used RMSProp at a smaller rate for
  ~10^5 episodes). Memory sizes are the paper's (128 rows x 40, 4 read heads,
  controller 200 units, usage decay 0.95). Mixed precision applies to the Conv4
  only; controller and memory run in fp32 (cosine reads over near-empty rows
  lose too much in bf16).
What stays: a controller with an external memory, content-based reads, LRUA
writes, labels one step late, and no weight update when adapting.

Paper, Omniglot: no 5-way 1-shot figure; accuracy by instance number in
5-way episodes with one-hot labels (Table 1): 36.4% (1st instance),
82.8% (2nd), 91.0% (3rd), 92.6% (4th), 94.9% (5th), 98.1% (10th). The 2nd
instance is the comparable 1-shot figure (one labelled example seen before).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dataclasses import astuple, fields

from workbench.algorithms._backbone import backbone_choice, build_backbone
from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms._memory import MemoryController, MemoryState
from workbench.algorithms.classifiers import AdaptedClassifier
from workbench.algorithms.episodic import EpisodicAlgorithm
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.errors import ConfigError

ADAPT_ORDER_SEED = 0  # adapt shuffles the support set in the same order every time


def query_logits(core: MemoryController, state: MemoryState, features: torch.Tensor, max_ways: int, ways: int) -> torch.Tensor:
    """Each query continues the support sequence on its own (a batch of independent next steps)."""
    batch = len(features)
    inputs = torch.cat([features, features.new_zeros(batch, max_ways)], 1)
    logits, _ = core(inputs, state.expand(batch))
    return logits[:, :ways]


class MemoryClassifier(AdaptedClassifier):
    """The controller's state after reading the support sequence; each query is one more step from it."""

    def __init__(self, encoder: nn.Module, core: MemoryController, state: MemoryState, max_ways: int, ways: int) -> None:
        super().__init__()
        self.encoder, self.core, self.max_ways, self.ways = encoder, core, max_ways, ways
        for field, tensor in zip(fields(MemoryState), astuple(state)):
            self.register_buffer(f"state_{field.name}", tensor)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():  # the encoder only: controller and memory run in fp32
            features = self.encoder(images).float()
        state = MemoryState(*(getattr(self, f"state_{field.name}") for field in fields(MemoryState)))
        return query_logits(self.core, state, features, self.max_ways, self.ways)


@register
class MANN(EpisodicAlgorithm):
    name = "mann"
    title = "MANN (memory-augmented network)"
    summary = "LSTM controller with an external memory, LRU writes, labels one step late (Santoro et al. 2016)."
    hyperparams = (
        HyperParam("lr", "float", 1e-3, "Adam learning rate.", 1e-6, 1.0, log_scale=True),
        HyperParam("max_ways", "int", 20, "Width of the one-hot label input and output: the most classes an episode may have.", 2, 1000),
        HyperParam("controller_size", "int", 200, "Units of the LSTM controller.", 8, 4096),
        HyperParam("memory_rows", "int", 128, "Rows (slots) of the external memory.", 4, 4096),
        HyperParam("memory_width", "int", 40, "Width of the key half of each memory row (the value half holds max_ways label slots).", 4, 1024),
        HyperParam("read_heads", "int", 4, "Read (and write) heads.", 1, 16),
        HyperParam("usage_decay", "float", 0.95, "Decay gamma of the usage weights (LRUA).", 0.0, 1.0),
        HyperParam("key_strength", "choice", "learned", "Read softmax over cosine similarity sharpened by a learned strength (NTM), or plain (paper).", choices=("learned", "none")),
        HyperParam("value_gain", "float", 3.0, "Initial weight from each recalled label slot to its output logit (0: learned from zero).", 0.0, 100.0),
        HyperParam("gate_bias", "float", -4.0, "Initial bias of the LRUA gate (negative: each image starts going to fresh rows; 0: half to the last written rows).", -20.0, 20.0),
        HyperParam("support_loss", "bool", True, "Also train on support images whose class appeared earlier in the sequence."),
        HyperParam("grad_clip", "float", 10.0, "Clip the gradient norm to this (0: no clipping).", 0.0, 1e6),
        backbone_choice("conv4", "Image encoder in front of the controller."),
        BACKBONE_ARCHITECTURE,
    )

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        hp = self.hparams
        if hp["read_heads"] > hp["memory_rows"]:
            raise ConfigError(f"'read_heads' of mann ({hp['read_heads']}) cannot exceed 'memory_rows' ({hp['memory_rows']}).")
        self.encoder = build_backbone(hp, in_channels, image_size, self.device)
        self.core = MemoryController(
            self.encoder.feature_dim + hp["max_ways"], hp["max_ways"], hp["controller_size"],
            hp["memory_rows"], hp["memory_width"], hp["read_heads"], hp["usage_decay"],
            learned_strength=hp["key_strength"] == "learned", value_dim=hp["max_ways"], value_gain=hp["value_gain"],
            gate_bias=hp["gate_bias"],
        ).to(self.device)
        self.optimizer = torch.optim.Adam([*self.encoder.parameters(), *self.core.parameters()], lr=hp["lr"])

    def modules(self) -> dict[str, nn.Module]:
        return {"encoder": self.encoder, "core": self.core}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    # --- the sequence ------------------------------------------------------
    def _check_ways(self, ways: int) -> None:
        if ways > self.hparams["max_ways"]:
            raise ConfigError(
                f"MANN was built for at most {self.hparams['max_ways']} ways (its label input has that many slots), "
                f"but the episode has {ways}; train a model with a larger 'max_ways'."
            )

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.encoder(self.prepare(x)).float()

    def _run_support(self, features: torch.Tensor, labels: torch.Tensor, ways: int):
        """Feed the support sequence, then one blank image with the last label; returns the state and the per-step logits."""
        one_hot = F.one_hot(labels, self.hparams["max_ways"]).float()
        previous = torch.cat([one_hot.new_zeros(1, one_hot.shape[1]), one_hot])  # labels one step late
        features = torch.cat([features, features.new_zeros(1, features.shape[1])])
        state: MemoryState = self.core.initial_state(1, features.device)
        logits = []
        for t in range(len(features)):
            out, state = self.core(torch.cat([features[t:t + 1], previous[t:t + 1]], 1), state, value=previous[t:t + 1])
            logits.append(out[:, :ways])
        return state, torch.cat(logits[:-1])

    # --- the interface ---------------------------------------------------
    def episode_loss(self, episode):
        ways = episode.ways
        self._check_ways(ways)
        order = torch.randperm(len(episode.support_y), device=episode.support_y.device)
        support_y, query_y = episode.support_y[order], episode.query_y
        features = self._encode(torch.cat([episode.support_x[order], episode.query_x]))
        n = len(order)
        state, support_logits = self._run_support(features[:n], support_y, ways)
        logits = query_logits(self.core, state, features[n:], self.hparams["max_ways"], ways)
        loss = F.cross_entropy(logits, query_y)
        if self.hparams["support_loss"]:
            seen = _seen_before(support_y, ways)
            if seen.any():
                support_part = F.cross_entropy(support_logits[seen], support_y[seen], reduction="sum")
                loss = (loss * len(query_y) + support_part) / (len(query_y) + int(seen.sum()))
        return loss, logits

    def adapt(self, support_x, support_y, ways) -> MemoryClassifier:
        self._check_ways(ways)
        self.train_mode(False)
        support_y = support_y.to(self.device)
        generator = torch.Generator().manual_seed(ADAPT_ORDER_SEED)
        order = torch.randperm(len(support_y), generator=generator).to(self.device)
        with torch.no_grad():
            state, _ = self._run_support(self._encode(support_x[order.to(support_x.device)]), support_y[order], ways)
        return MemoryClassifier(self.encoder, self.core, state, self.hparams["max_ways"], ways).runs_like(self)


def _seen_before(labels: torch.Tensor, ways: int) -> torch.Tensor:
    """True where a label already occurred earlier in the sequence (a second or later presentation)."""
    one_hot = F.one_hot(labels, ways)
    return (one_hot.cumsum(0) - one_hot)[torch.arange(len(labels)), labels] > 0
