"""The policy-gradient update of RL²: advantage actor-critic (A2C) with GAE and an entropy bonus.

Why our own ~40 lines and not TorchRL's `GAE` / `A2CLoss` (or SB3): `meta_train` already
holds the whole rollout (one pass over a batch of episodes, tens of trials each, with the
graph to the weights), so the update is a few tensor lines over (episodes, trials) arrays.
TorchRL would want its environment/TensorDict machinery around that and would add a
heavy dependency (torchrl + tensordict) to a base install that must stay lean; SB3 owns
its own training loop and does not fit a one-update-per-call interface at all.
A2C rather than PPO: `meta_train` makes *one* update from fresh on-policy episodes, which
is exactly A2C (Mnih et al. 2016, the method Wang et al. 2016 trained with); PPO's
several epochs over one rollout would need the recurrent pass re-run per epoch.

Promises:
- `gae` is Schulman et al. 2016's generalised advantage estimate, the episode ending
  after its last trial (no bootstrap beyond it);
- `a2c_loss` is, per episode, the mean over trials of the policy-gradient term
  (-log pi(a_t) * A_t, advantages fixed), plus `value_weight` times half the squared
  error of the value against the GAE return, minus `entropy_weight` times the
  policy's entropy; the loss of a batch is the mean over its episodes. No advantage
  normalisation across the batch, so each episode's loss is its own and the gradient
  of a batch is the mean of its episodes' gradients (what distributed training sums).
"""

from __future__ import annotations

import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages, returns), each (B, T), of rewards and values (B, T); the value after the last trial is 0."""
    values = values.detach()
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    next_value = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
        next_value = values[:, t]
    return advantages, advantages + values


def a2c_loss(log_probs: torch.Tensor, values: torch.Tensor, entropies: torch.Tensor, rewards: torch.Tensor,
             gamma: float, lam: float, value_weight: float, entropy_weight: float) -> torch.Tensor:
    """The A2C loss of each episode (B,), from per-trial tensors (B, T) of one on-policy rollout."""
    advantages, returns = gae(rewards, values, gamma, lam)
    policy_term = -(log_probs * advantages).mean(1)
    value_term = 0.5 * (values - returns).pow(2).mean(1)
    return policy_term + value_weight * value_term - entropy_weight * entropies.mean(1)
