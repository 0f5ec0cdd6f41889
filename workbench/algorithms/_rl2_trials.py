"""An episode of RL² as a sequence of trials: what the agent does, what each action earns.

Two tasks over the same image trials (each trial: one image of one of the episode's classes):
- bandit (Duan et al. 2016 / Wang et al. 2016 applied to classification): the action
  is a class guess; a right guess earns `right` (+1), a wrong one `wrong` (0 or -1).
  The label is never shown: the agent learns the episode's labelling from rewards.
- active (Woodward & Finn 2017, "Active One-shot Learning"): the actions are the
  class guesses plus "ask"; asking earns `-ask_cost` and shows the true label at the
  next trial; a right guess earns +1, a wrong one `wrong` (-1 in the paper).

`run_trials` plays a batch of episodes trial by trial with a given way of choosing
actions (sampling for training, the greedy guess, forced "ask" or forced right
guesses for feeding a labelled support set), and records what a policy-gradient
update and the benchmarks need. Choosing happens without gradient; log-probabilities,
values and entropies keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from workbench.algorithms._rl2_policy import RecurrentPolicy, State

# (masked logits (B, actions), true labels (B,)) -> actions (B,)
Chooser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Payoffs:
    """What each outcome of a trial earns."""

    right: float = 1.0
    wrong: float = -1.0
    ask_cost: float = 0.05


@dataclass
class Trials:
    """Per trial (B, T): the action, its reward, log-probability, entropy, the value; and where the sequence ended."""

    actions: torch.Tensor
    rewards: torch.Tensor
    log_probs: torch.Tensor
    entropies: torch.Tensor
    values: torch.Tensor
    state: State
    feedback: torch.Tensor  # what the trial after the last one is told (B, feedback_dim)


def rewards_of(actions: torch.Tensor, labels: torch.Tensor, payoffs: Payoffs, ask: int | None) -> torch.Tensor:
    """The reward of each action: right or wrong guess, or (active task) the cost of asking."""
    rewards = torch.where(actions == labels, payoffs.right, payoffs.wrong)
    if ask is not None:
        rewards = torch.where(actions == ask, -payoffs.ask_cost, rewards)
    return rewards.float()


def sample(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Training: an action drawn from the policy."""
    return torch.multinomial(logits.float().softmax(1), 1).squeeze(1)


def greedy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The policy's most likely action (deterministic)."""
    return logits.argmax(1)


def forced(action: int) -> Chooser:
    """The same action at every trial (feeding a support set as "ask" in the active task)."""
    return lambda logits, labels: torch.full_like(labels, action)


def right_guess(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The true label, as if the agent had guessed right."""
    return labels


def run_trials(policy: RecurrentPolicy, features: torch.Tensor, labels: torch.Tensor, ways: int, payoffs: Payoffs,
               choose: Chooser, state: State | None = None, feedback: torch.Tensor | None = None) -> Trials:
    """Play trials: features (B, T, d) and labels (B, T) in trial order; continues `state` when given."""
    batch, steps = labels.shape
    device = features.device
    state = policy.initial_state(batch, device) if state is None else state
    feedback = policy.initial_feedback(batch, device) if feedback is None else feedback
    ask = policy.ask if policy.active else None
    records: dict[str, list[torch.Tensor]] = {k: [] for k in ("actions", "rewards", "log_probs", "entropies", "values")}
    for t in range(steps):
        logits, value, state = policy(features[:, t], feedback, state, ways)
        with torch.no_grad():
            action = choose(logits, labels[:, t])
        log_p = logits.float().log_softmax(1)
        reward = rewards_of(action, labels[:, t], payoffs, ask)
        records["actions"].append(action)
        records["rewards"].append(reward)
        records["log_probs"].append(log_p.gather(1, action[:, None]).squeeze(1))
        records["entropies"].append(-(log_p.exp() * log_p).sum(1))
        records["values"].append(value)
        feedback = policy.feedback(action, reward, labels[:, t], features[:, t])
    empty = features.new_zeros(batch, 0)
    stacked = {k: torch.stack(v, 1) if v else empty for k, v in records.items()}
    if not records["actions"]:
        stacked["actions"] = labels.new_zeros(batch, 0)
    return Trials(**stacked, state=state, feedback=feedback)
