"""RL² (workbench/algorithms/rl2.py): it learns inside an episode from rewards alone, the active agent
asks for what it has not seen, and the pieces (advantages, masking, refusals, adapt) keep their promises.

The toy task: classes are flat images of one brightness each (black, white, ...), with a fresh
class-to-label assignment per episode, so the first trial can only be a guess and anything better
later comes from what the agent learnt within the episode. The suite every algorithm passes is
tests/core/test_algorithms.py (run it with -k rl2)."""

import pytest
import torch

from workbench import catalogue
from workbench.algorithms._rl2_policy import RecurrentPolicy
from workbench.algorithms._rl2_trials import Payoffs, forced, rewards_of, run_trials
from workbench.algorithms._rl2_update import a2c_loss, gae
from workbench.data.episode import Episode
from workbench.errors import WorkbenchError

SIZE = 8  # the smallest image conv4_strided takes: the toy needs no detail, and the tests stay fast
TOY = {"backbone": "conv4_strided", "hidden_size": 32, "lr": 1e-2}


def toy_episode(generator: torch.Generator, ways: int = 2, per_class: int = 5) -> Episode:
    """`ways` flat-brightness classes, labels assigned at random; one support image per class."""
    levels = torch.randperm(ways, generator=generator).float() / (ways - 1)
    images = levels[:, None, None, None, None].expand(ways, per_class, 1, SIZE, SIZE)
    labels = torch.arange(ways)[:, None].expand(ways, per_class)
    support = (images[:, :1].reshape(-1, 1, SIZE, SIZE), labels[:, :1].reshape(-1))
    query = (images[:, 1:].reshape(-1, 1, SIZE, SIZE), labels[:, 1:].reshape(-1))
    return Episode(*support, *query, tuple(f"c{i}" for i in range(ways)))


def trained(task: str, ways: int, updates: int, batch: int = 16, **hp):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    algorithm = catalogue.get("rl2")(1, SIZE, {**TOY, "task": task, "max_ways": ways, **hp}, "cpu", "fp32")
    for _ in range(updates):
        algorithm.meta_train([toy_episode(generator, ways) for _ in range(batch)])
    return algorithm


def play_many(algorithm, ways: int, episodes: int = 200):
    """Greedy play of shuffled toy sequences: (actions, labels, presentation number), each (episodes, trials)."""
    generator = torch.Generator().manual_seed(1)
    actions, labels, shown = [], [], []
    for _ in range(episodes):
        episode = toy_episode(generator, ways)
        x, y = torch.cat([episode.support_x, episode.query_x]), torch.cat([episode.support_y, episode.query_y])
        order = torch.randperm(len(y), generator=generator)
        y = y[order]
        actions.append(algorithm.play(x[order], y, ways).actions[0])
        labels.append(y)
        one_hot = torch.nn.functional.one_hot(y, ways)
        shown.append(one_hot.cumsum(0)[torch.arange(len(y)), y])
    return torch.stack(actions), torch.stack(labels), torch.stack(shown)


def test_the_bandit_agent_learns_the_episode_from_rewards_alone():
    algorithm = trained("bandit", 2, updates=200)
    actions, labels, _ = play_many(algorithm, 2)
    right = (actions == labels).float().mean(0)
    # The first trial is a coin toss (the labels are new each episode); the later ones use its reward.
    assert 0.35 < right[0] < 0.65
    assert right[1:].mean() > right[0] + 0.15, right.tolist()


def test_the_active_agent_asks_for_what_it_cannot_know_and_then_guesses_right():
    # The default entropy bonus (0.3) keeps it guessing while it learns to bind labels to images; with 0.01 the
    # ask action's early lead (-0.05 against a random guess's -1/3) ended all guessing first.
    algorithm = trained("active", 3, updates=100, batch=32)
    actions, labels, shown = play_many(algorithm, 3)
    asked = actions == algorithm.policy.ask
    # At the first trial nothing is known: ask (a guess is right 1 time in 3). A later new class need not be asked
    # for: a guess's reward tells as much (3-way, wrong -1), and the last class is the label left over.
    assert asked[:, 0].float().mean() > 0.8, asked[:, 0].float().mean()
    first, later = asked[shown == 1].float().mean(), asked[shown >= 3].float().mean()
    assert later < 0.1 and later < first - 0.2, (first, later)  # a class it has seen: no more asking
    guesses = ~asked & (shown >= 3)
    assert (actions == labels)[guesses].float().mean() > 0.9  # and what it then guesses is right


def test_advantages_and_returns_are_generalised_advantage_estimates():
    rewards = torch.tensor([[1.0, 0.0, 2.0]])
    values = torch.tensor([[0.5, 1.0, 0.0]])
    advantages, returns = gae(rewards, values, gamma=0.5, lam=0.5)
    deltas = [1 + 0.5 * 1.0 - 0.5, 0 + 0.5 * 0.0 - 1.0, 2.0]  # r + gamma V' - V, nothing after the last trial
    expected = [deltas[0] + 0.25 * (deltas[1] + 0.25 * deltas[2]), deltas[1] + 0.25 * deltas[2], deltas[2]]
    assert torch.allclose(advantages, torch.tensor([expected]))
    assert torch.allclose(returns, advantages + values)
    # With lambda 1 the return is the discounted sum of rewards: 1 + 0.5 * 0 + 0.25 * 2.
    assert gae(rewards, values, 0.5, 1.0)[1][0, 0].item() == pytest.approx(1.5)


def test_the_loss_pushes_up_actions_with_positive_advantage_only():
    log_probs = torch.zeros(1, 2, requires_grad=True)
    values = torch.zeros(1, 2)
    rewards = torch.tensor([[1.0, -1.0]])
    loss = a2c_loss(log_probs, values, torch.zeros(1, 2), rewards, 0.0, 0.0, 0.5, 0.01)
    loss.sum().backward()
    assert log_probs.grad[0, 0] < 0 < log_probs.grad[0, 1]  # descent raises the rewarded action, lowers the other


def test_rewards_and_what_asking_reveals():
    payoffs = Payoffs(1.0, -1.0, 0.05)
    actions, labels = torch.tensor([0, 1, 3]), torch.tensor([0, 2, 1])
    assert rewards_of(actions, labels, payoffs, ask=3).tolist() == pytest.approx([1.0, -1.0, -0.05])
    policy = RecurrentPolicy(4, max_ways=3, hidden=8, active=True)
    feedback = policy.feedback(actions, rewards_of(actions, labels, payoffs, 3), labels, torch.zeros(3, 4))
    revealed = feedback[:, policy.actions + 1:policy.signal_dim]
    assert revealed[:2].abs().sum() == 0  # a guess reveals nothing
    assert revealed[2].tolist() == [0.0, 1.0, 0.0]  # an ask shows the true label


def test_unused_classes_are_never_chosen_and_ask_stays():
    policy = RecurrentPolicy(4, max_ways=5, hidden=8, active=True)
    features, labels = torch.randn(3, 6, 4), torch.randint(0, 2, (3, 6))
    trials = run_trials(policy, features, labels, 2, Payoffs(), lambda logits, y: logits.argmax(1))
    logits, _, _ = policy(features[:, 0], policy.initial_feedback(3, torch.device("cpu")), policy.initial_state(3, "cpu"), 2)
    probs = logits.softmax(1)
    assert probs[:, 2:5].sum() == 0 and (probs[:, 5] > 0).all()
    assert ((trials.actions < 2) | (trials.actions == policy.ask)).all()
    forced_ask = run_trials(policy, features, labels, 2, Payoffs(), forced(policy.ask))
    assert (forced_ask.rewards == -0.05).all()


def test_more_ways_than_guess_actions_is_refused_in_words():
    algorithm = catalogue.get("rl2")(1, SIZE, {**TOY, "max_ways": 3})
    episode = toy_episode(torch.Generator().manual_seed(0), ways=4)
    with pytest.raises(WorkbenchError, match="3 class-guess actions.*4 classes.*larger 'max_ways'"):
        algorithm.adapt(episode.support_x, episode.support_y, 4)
    with pytest.raises(WorkbenchError, match="max_ways"):
        algorithm.meta_train([episode])


@pytest.mark.parametrize("task, feedback", [("active", "own"), ("bandit", "own"), ("bandit", "right"), ("active", "right")])
def test_adapt_continues_from_the_support_and_leaves_ask_out(task, feedback):
    algorithm = catalogue.get("rl2")(1, SIZE, {**TOY, "task": task, "support_feedback": feedback, "core": "lstm"})
    episode = toy_episode(torch.Generator().manual_seed(0), ways=3)
    predictor = algorithm.adapt(episode.support_x, episode.support_y, 3)
    probs = predictor.predict_proba(episode.query_x)
    assert probs.shape == (len(episode.query_x), 3) and torch.allclose(probs.sum(1), torch.ones(len(probs)))
    last = predictor.feedback[0]
    if task == "active":  # the last support trial asked, and its label is what the queries are told
        revealed = last[algorithm.policy.actions + 1:algorithm.policy.signal_dim]
        assert last[algorithm.policy.ask] == 1 and revealed.sum() == 1
    elif feedback == "right":  # fed as a right guess: reward +1
        assert last[algorithm.policy.actions] == 1
    # Other labels for the same support images give another state: the support is what it read.
    other = algorithm.adapt(episode.support_x.flip(0), episode.support_y, 3).predict_proba(episode.query_x)
    assert not torch.equal(other, probs)


def test_embedding_is_the_image_encoders():
    algorithm = catalogue.get("rl2")(1, SIZE, TOY)
    features = algorithm.embed(torch.rand(3, 1, SIZE, SIZE))
    assert features.shape == (3, algorithm.backbone.feature_dim)
