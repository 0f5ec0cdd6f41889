"""What sets MANN, Meta-LSTM and LEO apart from the rest of the registry."""

import math

import pytest
import torch
import torch.nn.functional as F

from workbench import catalogue
from workbench.algorithms.mann import MANN, query_logits
from workbench.algorithms._memory import MemoryController, least_used
from workbench.algorithms.meta_lstm import CoordinateLSTM, preprocess
from workbench.errors import ConfigError


def glyph_like(n, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_lru_writes_go_to_the_least_used_rows():
    torch.manual_seed(0)
    core = MemoryController(8, 3, 16, rows=6, width=4, heads=1, gamma=0.95)
    with torch.no_grad():
        core.gate.bias.fill_(-50.0)  # gate ~ 0: write only to the least-used row, never to last step's read rows
    state = core.initial_state(1, "cpu")
    written = []
    for t in range(3):
        before = state.memory.clone()
        _, state = core(torch.randn(1, 8), state)
        changed = ((state.memory - before).abs().sum(2) > 1e-4)[0]
        written.append(int(changed.nonzero()[0]))
        assert int(changed.sum()) == 1
    assert len(set(written)) == 3  # each step a fresh, unused row
    usage = torch.tensor([[0.5, 0.1, 0.9, 0.05]])
    assert least_used(usage, 2).tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_a_step_reads_the_memory_before_its_own_write_and_the_next_step_can_add_to_that_row():
    torch.manual_seed(0)
    core = MemoryController(8, 3, 16, rows=6, width=4, heads=1, gamma=0.95)
    state = core.initial_state(1, "cpu")
    _, state = core(torch.randn(1, 8), state)
    # The first step reads the empty memory, not the key it has just written.
    assert state.reads.abs().max() < 1e-5 and state.memory.abs().max() > 1e-3
    first_row = int(state.write_weights[0, 0].argmax())
    with torch.no_grad():
        core.gate.bias.fill_(50.0)  # gate ~ 1: write where the last step wrote
    before = state.memory.clone()
    _, state = core(torch.randn(1, 8), state)
    changed = ((state.memory - before).abs().sum(2) > 1e-4)[0]
    assert changed.nonzero().flatten().tolist() == [first_row]


def test_a_label_given_one_step_late_lands_in_the_value_half_of_its_images_rows():
    torch.manual_seed(0)
    core = MemoryController(8, 3, 16, rows=8, width=4, heads=1, gamma=0.95, value_dim=3, gate_bias=-50.0)
    labels = [2, 0, 1]
    late = [torch.zeros(1, 3)] + [F.one_hot(torch.tensor([y]), 3).float() for y in labels]  # label of step t-1
    state = core.initial_state(1, "cpu")
    rows = []
    for t in range(len(late)):
        _, state = core(torch.randn(1, 8), state, value=late[t])
        rows.append(int(state.write_weights[0, 0].argmax()))
    for t, label in enumerate(labels):
        assert torch.allclose(state.values[0, rows[t]], F.one_hot(torch.tensor(label), 3).float(), atol=1e-4)


def test_mann_sees_each_label_one_step_after_its_image():
    torch.manual_seed(0)
    mann = MANN(1, 28, {"max_ways": 5})
    mann.train_mode(False)
    features = mann._encode(glyph_like(4))
    labels_a, labels_b = torch.tensor([0, 1, 2, 0]), torch.tensor([0, 1, 2, 1])  # differ only in the last label
    with torch.no_grad():
        state_a, logits_a = mann._run_support(features, labels_a, 3)
        state_b, logits_b = mann._run_support(features, labels_b, 3)
        query = mann._encode(glyph_like(2, seed=1))
        query_a = query_logits(mann.core, state_a, query, 5, 3)
        query_b = query_logits(mann.core, state_b, query, 5, 3)
    # The last label cannot change any support step's output: it is shown with the next (blank) image,
    # whose write the queries then read.
    assert logits_a.shape == (4, 3) and torch.equal(logits_a, logits_b)
    assert not torch.allclose(state_a.memory, state_b.memory)
    assert not torch.allclose(state_a.values, state_b.values)  # the last label is stored with the last image
    assert not torch.allclose(query_a, query_b)


def test_mann_refuses_more_ways_than_its_label_slots():
    mann = MANN(1, 28, {"max_ways": 5})
    with pytest.raises(ConfigError, match="at most 5 ways"):
        mann.adapt(glyph_like(6), torch.arange(6), 6)


def test_meta_lstm_preprocesses_like_andrychowicz_and_starts_as_small_sgd_steps():
    values = preprocess(torch.tensor([1.0, -math.exp(-3), 0.0, 1e-6]))
    assert torch.allclose(values[0], torch.tensor([0.0, 1.0]))
    assert torch.allclose(values[1], torch.tensor([-0.3, -1.0]))
    assert torch.allclose(values[2], torch.tensor([-1.0, 0.0]))
    assert torch.allclose(values[3], torch.tensor([-1.0, 1e-6 * math.exp(10)]))
    torch.manual_seed(0)
    optimiser = CoordinateLSTM(20)
    theta, grad = torch.randn(100), torch.randn(100)
    new, (_, _, forget, inputs) = optimiser.step(theta, grad, torch.tensor(1.0), optimiser.initial_state(100, "cpu"))
    # At the start the forget gate keeps the parameters and the input gate is a small learning rate.
    assert forget.min() > 0.95 and inputs.max() < 0.05
    assert torch.allclose(new, forget * theta - inputs * grad)


def test_meta_lstm_saves_its_learned_optimiser():
    algorithm = catalogue.get("meta_lstm")(1, 28, {"inner_steps": 1})
    state = algorithm.state_dict()
    assert "meta_learner" in state and any("forget" in key for key in state["meta_learner"])


def test_leo_adapts_deterministically_and_its_orthogonality_penalty_vanishes_on_orthogonal_rows():
    torch.manual_seed(0)
    leo = catalogue.get("leo")(1, 28)
    support, labels = glyph_like(6), torch.tensor([0, 0, 1, 1, 2, 2])
    queries = glyph_like(3, seed=2)
    first = leo.adapt(support, labels, 3).predict_proba(queries)
    second = leo.adapt(support, labels, 3).predict_proba(queries)
    assert torch.equal(first, second)
    with torch.no_grad():
        latent = leo.latent.decoder.weight.shape[1]
        leo.latent.decoder.weight.zero_()
        leo.latent.decoder.weight[:latent] = torch.eye(latent)
    assert float(leo.latent.orthogonality().detach()) < 1e-8


def _episode(support, labels, queries, ways):
    from workbench.data.episode import Episode

    return Episode(support, labels, queries, torch.arange(len(queries)) % ways, tuple(f"c{i}" for i in range(ways)))
