"""The recurrent policy of RL² (Duan et al. 2016; Wang et al. 2016): one trial at a time.

Promise: at trial t the policy sees the trial's image features together with what
the last trial taught it (its previous action, the reward that action earned, in
the active task of Woodward & Finn 2017 the label it asked for, and the previous
trial's image features), updates a recurrent state (GRU or LSTM), and gives logits
over its actions and a value (the critic's estimate of the return still to come).
All learning *within* an episode lives in that state: the weights change only
between episodes.

The core's input at trial t, every image through the same embedding (a linear map
to `key_size` units and layer norm, so images and feedback enter at one scale):
- the embedding of image t (what to answer now);
- the feedback of trial t-1: one-hot action, reward, revealed label (active);
- the embedding of image t-1 and its outer product with the *evidence* of trial
  t-1 about labels (+1 at a label the ask revealed or a guess earned a reward for,
  the wrong-guess reward at a label guessed wrongly). Feedback concerns image t-1
  while the core already sees image t: without the image t-1 part the core has to
  carry image t-1 through its state and learn a multiplicative binding of that
  memory with the label, which a GRU learns slowly (measured on the 3-way toy of
  tests/core/test_rl2.py: supervised, 200 updates to bind; under policy gradients
  none within 300, so the active agent settled on always asking first). With the
  outer product, "this image has that label" is one linear input to write.

The action slots are `max_ways` class guesses, plus one "ask" slot in the active
task. An episode with fewer classes masks the guesses it does not have, so one
trained network serves any ways up to `max_ways`.

All tensors carry a leading batch dimension: a batch of episodes steps together in
training, and the queries of an adapted predictor step together from one state.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MASKED = -1e9  # logit of an action the episode does not have: probability exactly 0, entropy term 0 (not NaN)

State = tuple[torch.Tensor, ...]  # (h,) for a GRU, (h, c) for an LSTM; each (B, hidden)


class RecurrentPolicy(nn.Module):
    """Image features + last trial's feedback -> recurrent core -> action logits and a value."""

    def __init__(self, feature_dim: int, max_ways: int, hidden: int, core: str = "gru", active: bool = False,
                 key_size: int = 32) -> None:
        super().__init__()
        self.max_ways, self.active, self.core_kind, self.feature_dim = max_ways, active, core, feature_dim
        self.actions = max_ways + (1 if active else 0)
        # Feedback: one-hot previous action, previous reward, (active) the one-hot label revealed by asking,
        # and the previous trial's image features.
        self.signal_dim = self.actions + 1 + (max_ways if active else 0)
        self.feedback_dim = self.signal_dim + feature_dim
        self.embed = nn.Sequential(nn.Linear(feature_dim, key_size), nn.LayerNorm(key_size))
        cell = {"gru": nn.GRUCell, "lstm": nn.LSTMCell}[core]
        self.core = cell(2 * key_size + self.signal_dim + key_size * max_ways, hidden)
        self.policy = nn.Linear(hidden, self.actions)
        self.value = nn.Linear(hidden, 1)
        with torch.no_grad():  # start near the uniform policy and a zero value (no early commitment)
            self.policy.weight.mul_(0.1)
            self.policy.bias.zero_()
            self.value.weight.mul_(0.1)
            self.value.bias.zero_()

    @property
    def ask(self) -> int:
        """The index of the "ask" action (active task only)."""
        return self.max_ways

    def initial_state(self, batch: int, device: torch.device) -> State:
        h = torch.zeros(batch, self.core.hidden_size, device=device)
        return (h,) if self.core_kind == "gru" else (h, h.clone())

    def initial_feedback(self, batch: int, device: torch.device) -> torch.Tensor:
        """Before the first trial nothing was done: all zeros."""
        return torch.zeros(batch, self.feedback_dim, device=device)

    def feedback(self, actions: torch.Tensor, rewards: torch.Tensor, labels: torch.Tensor,
                 features: torch.Tensor) -> torch.Tensor:
        """What the next trial is told about this one (B, feedback_dim): the label only where the action asked,
        and the trial's image features."""
        parts = [F.one_hot(actions, self.actions).float(), rewards[:, None].float()]
        if self.active:
            asked = (actions == self.ask).float()[:, None]
            parts.append(F.one_hot(labels, self.max_ways).float() * asked)
        parts.append(features.float())
        return torch.cat(parts, 1)

    def evidence(self, signal: torch.Tensor) -> torch.Tensor:
        """What the last trial showed about its image's label (B, max_ways): the guessed slot times the reward
        it earned, plus (active) the revealed one-hot label."""
        guessed = signal[:, :self.max_ways] * signal[:, self.actions:self.actions + 1]
        if not self.active:
            return guessed
        return guessed + signal[:, self.actions + 1:]

    def mask(self, logits: torch.Tensor, ways: int) -> torch.Tensor:
        """Guesses of classes beyond `ways` are impossible (the ask slot stays)."""
        if ways >= self.max_ways:
            return logits
        unused = torch.zeros(self.actions, dtype=torch.bool, device=logits.device)
        unused[ways:self.max_ways] = True
        return logits.masked_fill(unused, MASKED)

    def forward(self, features: torch.Tensor, feedback: torch.Tensor, state: State, ways: int):
        """One trial for a batch: -> masked action logits (B, actions), values (B,), next state."""
        signal, previous = feedback[:, :self.signal_dim], feedback[:, self.signal_dim:]
        # Before the first trial there is no previous image: its key stays zero, not the embedding of zeros.
        seen = signal.abs().sum(1, keepdim=True).gt(0).float()
        previous = self.embed(previous) * seen
        binding = (previous[:, :, None] * self.evidence(signal)[:, None, :]).flatten(1)
        x = torch.cat([self.embed(features), signal, previous, binding], 1)
        if self.core_kind == "gru":
            state = (self.core(x, state[0]),)
        else:
            state = self.core(x, (state[0], state[1]))
        h = state[0]
        return self.mask(self.policy(h), ways), self.value(h).squeeze(1), state
