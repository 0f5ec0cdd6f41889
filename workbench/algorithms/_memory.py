"""The external memory of MANN (Santoro et al. 2016): content-based reads, LRUA writes.

Kept apart from the algorithm so its rules can be tested on their own:
- read: each head's weights are a softmax over the cosine similarity of its key
  with the key half of every memory row (paper eq. 2-3), optionally sharpened
  by a learned strength; the read returns both halves of the rows (key, value);
- write: least-recently-used access. A head writes its key to a mix, through a
  learned sigmoid gate, of the rows it wrote last step and the least-used rows
  (eq. 7); before writing, the least-used row is erased (both halves); usage
  decays by gamma and grows with every read and write (eq. 5);
- value (not in the paper): the value given at a step (MANN gives the label
  input, which belongs to the previous image) is added to the value half of the
  rows the previous step's keys were written to, with the same weights, so a row
  ends up holding an image's key next to that image's label.

Order within a step: read, then write. Each step reads the memory the earlier
steps left, so a query recalls the support images, not its own key (read after
the write, a key always finds itself at cosine 1). The paper reads after the
write, so its last-step read weights point at the row just written; the gate
here mixes the last step's *write* weights to keep that behaviour: the step
after an image can add its key, which carries that image's label, to the row
the image was written to.

All tensors carry a leading batch dimension, so a batch of independent
sequences (the queries of an episode, each continuing the same support
sequence) runs in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

INITIAL_STRENGTH = 9.0  # 1 + softplus(9) ~ 10
MEMORY_INIT = 1e-6  # rows start (almost) empty: reading them gives ~0, and every empty row matches a key alike


@dataclass
class MemoryState:
    """Everything carried from one time step to the next (batch B, heads H, rows N, width M)."""

    hidden: torch.Tensor  # controller LSTM h (B, hidden)
    cell: torch.Tensor  # controller LSTM c (B, hidden)
    memory: torch.Tensor  # (B, N, M)
    usage: torch.Tensor  # (B, N)
    read_weights: torch.Tensor  # (B, H, N), last step's
    write_weights: torch.Tensor  # (B, H, N), last step's
    reads: torch.Tensor  # (B, H * (M + V)), last step's read vectors (keys then values)
    values: torch.Tensor  # (B, N, V), the value half of each row

    def expand(self, batch: int) -> "MemoryState":
        """The same state repeated `batch` times: independent continuations of one sequence."""
        return MemoryState(*(t.expand(batch, *t.shape[1:]) for t in (
            self.hidden, self.cell, self.memory, self.usage, self.read_weights, self.write_weights, self.reads,
            self.values)))


def least_used(usage: torch.Tensor, count: int) -> torch.Tensor:
    """1 on the `count` rows of smallest usage, 0 elsewhere (B, N): the paper's w^lu."""
    rows = usage.topk(count, dim=1, largest=False).indices
    return torch.zeros_like(usage).scatter_(1, rows, 1.0)


class MemoryController(nn.Module):
    """An LSTM controller reading and writing a key/value external memory, one time step at a time.

    Each row holds a key (width M, written by the controller, matched by cosine) and a value
    (width V, here the label input: written one step after the key, to the rows that key went to).
    """

    def __init__(
        self, input_dim: int, outputs: int, hidden: int, rows: int, width: int, heads: int, gamma: float,
        learned_strength: bool = False, value_dim: int = 0, value_gain: float = 0.0, gate_bias: float = 0.0,
    ) -> None:
        super().__init__()
        self.rows, self.width, self.heads, self.gamma, self.value_dim = rows, width, heads, gamma, value_dim
        read_dim = heads * (width + value_dim)
        self.controller = nn.LSTMCell(input_dim + read_dim, hidden)
        self.key = nn.Linear(hidden, heads * width)
        self.gate = nn.Linear(hidden, heads)  # the interpolation gate alpha of each head (eq. 7)
        with torch.no_grad():
            self.gate.bias.fill_(gate_bias)
        self.output = nn.Linear(hidden + read_dim, outputs)
        if value_dim and value_gain:
            # Start with the value read passed straight to the output (value slot i -> logit i, summed over
            # heads): the recalled label is then the prediction from the first update on, and training
            # sharpens the reads that recall it instead of first discovering where the label is.
            with torch.no_grad():
                block = self.output.weight[:, hidden + heads * width:].view(outputs, heads, value_dim)
                block.zero_()
                slots = min(outputs, value_dim)
                block[torch.arange(slots), :, torch.arange(slots)] = value_gain
        # Optional key strength beta >= 1 per head (as in the NTM): sharpens the read softmax.
        self.strength = nn.Linear(hidden, heads) if learned_strength else None
        if self.strength is not None:
            # Start sharp (beta ~ 10): a read spread evenly over all rows carries no signal to learn from.
            with torch.no_grad():
                self.strength.bias.fill_(INITIAL_STRENGTH)

    def initial_state(self, batch: int, device: torch.device) -> MemoryState:
        h = torch.zeros(batch, self.controller.hidden_size, device=device)
        return MemoryState(
            h, h.clone(),
            torch.full((batch, self.rows, self.width), MEMORY_INIT, device=device),
            torch.zeros(batch, self.rows, device=device),
            torch.zeros(batch, self.heads, self.rows, device=device),
            torch.zeros(batch, self.heads, self.rows, device=device),
            torch.zeros(batch, self.heads * (self.width + self.value_dim), device=device),
            torch.zeros(batch, self.rows, self.value_dim, device=device),
        )

    def forward(
        self, x: torch.Tensor, state: MemoryState, value: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, MemoryState]:
        """One time step: input (B, input_dim), value (B, V) for the rows last step wrote -> logits (B, outputs), next state."""
        batch = x.shape[0]
        h, c = self.controller(torch.cat([x, state.reads], 1), (state.hidden, state.cell))
        keys = torch.tanh(self.key(h)).view(batch, self.heads, self.width)
        alpha = torch.sigmoid(self.gate(h))[:, :, None]

        # Content read (eq. 2-4) of the memory as the earlier steps left it: softmax over cosine similarity
        # of the keys (sharpened only if asked); a read returns both halves of the rows it weights.
        similarity = F.cosine_similarity(keys[:, :, None, :], state.memory[:, None, :, :], dim=3, eps=1e-8)
        if self.strength is not None:
            similarity = similarity * (1 + F.softplus(self.strength(h)))[:, :, None]
        read_weights = similarity.softmax(dim=2)
        key_reads = torch.einsum("bhn,bnm->bhm", read_weights, state.memory).reshape(batch, -1)
        value_reads = torch.einsum("bhn,bnv->bhv", read_weights, state.values).reshape(batch, -1)
        reads = torch.cat([key_reads, value_reads], 1)

        # LRUA write (eq. 6-8): last step's written rows or the least-used rows; erase the least-used row first.
        previous_least_used = least_used(state.usage, self.heads)
        write_weights = alpha * state.write_weights + (1 - alpha) * previous_least_used[:, None, :]
        keep = 1 - F.one_hot(state.usage.argmin(1), self.rows).to(x.dtype)[:, :, None]
        memory = state.memory * keep + torch.einsum("bhn,bhm->bnm", write_weights, keys)
        values = state.values * keep
        if value is not None and self.value_dim:
            # The value arrives one step after its key (the label comes one step late): it goes to the rows,
            # with the weights, that last step's keys went to (mean over heads).
            values = values + state.write_weights.mean(1)[:, :, None] * value[:, None, :]

        usage = self.gamma * state.usage + read_weights.sum(1) + write_weights.sum(1)
        logits = self.output(torch.cat([h, reads], 1))
        return logits, MemoryState(h, c, memory, usage, read_weights, write_weights, reads, values)
