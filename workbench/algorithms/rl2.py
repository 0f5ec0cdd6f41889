"""RL²: a recurrent policy that learns each new episode's classes from rewards, within its state.

Papers: Duan, Schulman, Chen, Bartlett, Sutskever and Abbeel 2016, "RL²: Fast Reinforcement
Learning via Slow Reinforcement Learning"; Wang, Kurth-Nelson, Tirumala, Soyer, Leibo, Munos,
Blundell, Kumaran and Botvinick 2016, "Learning to reinforcement learn"; the active task from
Woodward and Finn 2017, "Active One-shot Learning".

Promise: slow, outer-loop reinforcement learning (A2C over many episodes) trains a recurrent
policy whose *state* is a fast learner: within one episode, with no weight update, it learns
which label the episode gives each class, from the rewards of its own guesses (bandit) or from
the labels it chooses to ask for (active). Each episode's class-to-label assignment is fresh
(the sampler draws the classes and their order anew), so nothing but the state can carry it.

Trials: the images of an episode, one per trial. At trial t the policy sees the image (through
the `backbone` encoder) with its previous action and reward (and, active, the label its last
"ask" revealed), the previous image and that image bound to what the feedback showed about its
label; see _rl2_policy.py for the network (and why the binding is an input), _rl2_trials.py for
the two tasks' rewards, _rl2_update.py for the update.
- meta_train: each episode's support and query images together, in a random order, are one
  sequence of trials; actions are sampled from the policy; one A2C update (GAE, entropy bonus)
  from the whole batch. Episodes of the same ways and length play as one batch. The reported
  loss is the mean regret per trial (the reward lost against an agent that always guesses right,
  the measure Duan et al. report for bandits): the A2C loss itself is not a progress measure (its
  policy term's sign follows the advantages). Accuracy is the share of trials answered by a right
  guess (an "ask" is not one).
- adapt: the labelled support images play first, in a fixed shuffled order (adapting twice gives
  the same state), as the task answers them: active, every support trial is an "ask" whose answer
  is the label; bandit, the agent makes its own greedy guess and is told the reward the label gives
  it (`support_feedback=own`, the bandit as trained), or is fed as having guessed each label right
  (`right`, which hands it every label). Each query is then one more trial from the state after
  the support, on its own (predictions never depend on other queries or their order); its
  probabilities are the softmax over the episode's class guesses, "ask" left out.
The action space has `max_ways` guesses (+ ask); an episode with fewer classes masks the rest,
one with more is refused.

Deviations: images are encoded by a workbench backbone trained jointly (batch norm on the
batch's statistics in training, running statistics when adapting) rather than fed raw; A2C
(one update per batch of fresh episodes) rather than TRPO (Duan et al.) or Q-learning (Woodward
and Finn); the active task's reward for a wrong guess is the `wrong_reward` setting (-1 by
default, the paper's), shared with the bandit; the core is given the previous image and its
outer product with the last feedback's label evidence (the papers leave that binding to the core).
The entropy bonus defaults to 0.3: in the active task asking (-0.05) beats a random guess (-1/3) at
once, and with 0.01 the policy stopped guessing before it had learnt to use a revealed label; on the
3-way bandit toy 0.3 did as well as 0.01 or better (later trials 0.89 against 0.82 right after 200
updates). Woodward and Finn report, on Omniglot 3-way
episodes of 30 trials, ~ 90% accuracy on guessed trials with labels asked for mostly at a class's
first presentations; Duan et al. and Wang et al. report bandit, not image, results.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from workbench.algorithms._backbone import backbone_choice, build_backbone
from workbench.algorithms._rl2_policy import RecurrentPolicy, State
from workbench.algorithms._rl2_trials import Payoffs, Trials, forced, greedy, right_guess, run_trials, sample
from workbench.algorithms._rl2_update import a2c_loss
from workbench.algorithms.backbone_settings import BACKBONE_ARCHITECTURE
from workbench.algorithms.base import Algorithm, StepStats
from workbench.algorithms.classifiers import AdaptedClassifier
from workbench.algorithms.hyperparams import HyperParam
from workbench.algorithms.registry import register
from workbench.data.episode import Episode
from workbench.errors import ConfigError

ADAPT_ORDER_SEED = 0  # adapt shuffles the support set in the same order every time


class TooManyWaysError(ConfigError):
    """An episode has more classes than the policy has guess actions."""


class RL2Classifier(AdaptedClassifier):
    """The policy's state after the support trials; each query is one more trial from it."""

    def __init__(self, encoder: nn.Module, policy: RecurrentPolicy, state: State, feedback: torch.Tensor, ways: int) -> None:
        super().__init__()
        self.encoder, self.policy, self.ways, self.parts = encoder, policy, ways, len(state)
        for i, tensor in enumerate(state):
            self.register_buffer(f"state_{i}", tensor)
        self.register_buffer("feedback", feedback)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        with self.autocast():  # the encoder only: the recurrent core runs in fp32
            features = self.encoder(images).float()
        batch = len(features)
        state = tuple(getattr(self, f"state_{i}").expand(batch, -1).contiguous() for i in range(self.parts))
        logits, _, _ = self.policy(features, self.feedback.expand(batch, -1), state, self.ways)
        return logits[:, :self.ways]  # the class guesses; "ask" is not a class


@register
class RL2(Algorithm):
    name = "rl2"
    title = "RL² (recurrent policy, learns from rewards)"
    summary = ("A recurrent policy trained by reinforcement learning to learn each episode's labels from rewards "
               "or by asking (Duan et al. 2016; Wang et al. 2016; Woodward & Finn 2017).")
    hyperparams = (
        HyperParam("task", "choice", "bandit",
                   "bandit: guess a class, rewarded for a right guess, never shown the label. active: guess, or ask "
                   "for the label at a small cost (Woodward & Finn 2017).", choices=("bandit", "active"), label="Task"),
        HyperParam("lr", "float", 1e-3, "Adam learning rate.", 1e-6, 1.0, log_scale=True),
        HyperParam("max_ways", "int", 10, "Class-guess actions: the most classes an episode may have.", 2, 1000),
        HyperParam("core", "choice", "gru", "Recurrent core of the policy.", choices=("gru", "lstm"), label="Recurrent core"),
        HyperParam("hidden_size", "int", 128, "Units of the recurrent core (its state is the within-episode memory).",
                   8, 4096, label="Core size"),
        HyperParam("key_size", "int", 32, "Units of the image embedding the core sees and binds to the labels of "
                   "the last trial's feedback.", 2, 4096, label="Image key size"),
        HyperParam("gamma", "float", 0.5, "Discount of future rewards within an episode.", 0.0, 1.0, label="Discount"),
        HyperParam("gae_lambda", "float", 0.95, "GAE lambda: 0 one-step advantages, 1 whole-episode returns.", 0.0, 1.0,
                   label="GAE lambda"),
        HyperParam("entropy_weight", "float", 0.3, "Weight of the entropy bonus (keeps the policy exploring).", 0.0, 10.0,
                   label="Entropy bonus"),
        HyperParam("value_weight", "float", 0.5, "Weight of the critic's squared error in the loss.", 0.0, 100.0,
                   label="Value loss weight"),
        HyperParam("wrong_reward", "float", -1.0, "Reward of a wrong guess (a right one earns +1).", -1.0, 0.0,
                   label="Wrong-guess reward"),
        HyperParam("ask_cost", "float", 0.05, "Active task: what asking for a label costs (reward -ask_cost).", 0.0, 1.0,
                   label="Cost of asking"),
        HyperParam("support_feedback", "choice", "own",
                   "Bandit, when adapting: the support trials earn the rewards of the agent's own guesses (own), or are "
                   "fed as right guesses, which shows it every label (right). The active task always asks.",
                   choices=("own", "right"), after_training=True, label="Support as"),
        HyperParam("grad_clip", "float", 1.0, "Clip the gradient norm to this (0: no clipping).", 0.0, 1e6),
        backbone_choice("conv4", "Image encoder in front of the recurrent core."),
        BACKBONE_ARCHITECTURE,
    )
    default_steps = 10000  # reinforcement learning from rewards is slow; one update is cheap

    def __init__(self, in_channels, image_size, hparams=None, device="cpu", precision="fp32") -> None:
        super().__init__(in_channels, image_size, hparams, device, precision)
        hp = self.hparams
        self.backbone = build_backbone(hp, in_channels, image_size, self.device)
        self.policy = RecurrentPolicy(self.backbone.feature_dim, hp["max_ways"], hp["hidden_size"], hp["core"],
                                      active=hp["task"] == "active", key_size=hp["key_size"]).to(self.device)
        self.payoffs = Payoffs(1.0, hp["wrong_reward"], hp["ask_cost"])
        self.optimizer = torch.optim.Adam([*self.backbone.parameters(), *self.policy.parameters()], lr=hp["lr"])

    def modules(self) -> dict[str, nn.Module]:
        return {"backbone": self.backbone, "policy": self.policy}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.optimizer}

    # --- trials ------------------------------------------------------------
    def _check_ways(self, ways: int) -> None:
        if ways > self.hparams["max_ways"]:
            raise TooManyWaysError(
                f"RL² was built with {self.hparams['max_ways']} class-guess actions ('max_ways'), but the episode has "
                f"{ways} classes; train a model with a larger 'max_ways'."
            )

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.backbone(self.prepare(x)).float()

    def play(self, images: torch.Tensor, labels: torch.Tensor, ways: int, choose=greedy) -> Trials:
        """Play one sequence of trials (images (T, C, S, S), labels (T,)) in the given order, without learning:
        what the agent did at each trial (the benchmarks read accuracy and asking by presentation from it)."""
        self._check_ways(ways)
        self.train_mode(False)
        with torch.no_grad():
            return run_trials(self.policy, self._encode(images)[None], labels.to(self.device)[None], ways,
                              self.payoffs, choose)

    def _support_chooser(self):
        if self.policy.active:
            return forced(self.policy.ask)
        return right_guess if self.hparams["support_feedback"] == "right" else greedy

    # --- the interface ---------------------------------------------------
    def meta_train(self, episodes: list[Episode]) -> StepStats:
        self.train_mode(True)
        self.optimizer.zero_grad(set_to_none=True)
        hp = self.hparams
        total, right, count = 0.0, 0, 0
        for group in _same_shape(episodes):
            self.between_episodes()
            ways = group[0].ways
            self._check_ways(ways)
            images, labels = zip(*(_shuffled_trials(episode) for episode in group))
            images, labels = torch.stack(images), torch.stack(labels)
            batch, steps = labels.shape
            features = self._encode(images.flatten(0, 1)).view(batch, steps, -1)
            trials = run_trials(self.policy, features, labels, ways, self.payoffs, sample)
            losses = a2c_loss(trials.log_probs, trials.values, trials.entropies, trials.rewards, hp["gamma"],
                              hp["gae_lambda"], hp["value_weight"], hp["entropy_weight"])
            loss = losses.sum() / len(episodes)  # each episode's share of the batch mean
            self.check_finite(loss)
            loss.backward()
            total += (self.payoffs.right - trials.rewards).sum().item() / steps  # mean regret per trial
            right += (trials.actions == labels).sum().item()
            count += labels.numel()
        if hp["grad_clip"] > 0:
            nn.utils.clip_grad_norm_([*self.backbone.parameters(), *self.policy.parameters()], hp["grad_clip"])
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return StepStats(total / len(episodes), right / max(count, 1))

    def adapt(self, support_x, support_y, ways) -> RL2Classifier:
        self._check_ways(ways)
        generator = torch.Generator().manual_seed(ADAPT_ORDER_SEED)
        order = torch.randperm(len(support_y), generator=generator)
        trials = self.play(support_x[order.to(support_x.device)], support_y[order.to(support_y.device)], ways,
                           self._support_chooser())
        return RL2Classifier(self.backbone, self.policy, trials.state, trials.feedback, ways).runs_like(self)


def _shuffled_trials(episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
    """Support and query images together, in a random order: an episode's trials."""
    images = torch.cat([episode.support_x, episode.query_x])
    labels = torch.cat([episode.support_y, episode.query_y])
    order = torch.randperm(len(labels), device=labels.device)
    return images[order], labels[order]


def _same_shape(episodes: list[Episode]) -> list[list[Episode]]:
    """Episodes grouped by (ways, trials, image shape), so each group plays as one batch."""
    groups: dict[tuple, list[Episode]] = defaultdict(list)
    for episode in episodes:
        key = (episode.ways, len(episode.support_y) + len(episode.query_y), tuple(episode.support_x.shape[1:]))
        groups[key].append(episode)
    return list(groups.values())
