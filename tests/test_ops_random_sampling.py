"""The samplers: x.normal_(), uniform_(), exponential_(), bernoulli_(), bernoulli, normal and
multinomial. Their distributions are checked by statistics on fixed seeds (not against torch's
numbers, which come from another generator): every mean within 5 standard errors. Errors,
dtypes, shapes and the (zero) gradients are torch's, where torch is installed."""
import math

import numpy as np
import pytest

import minigrad as mg
from torch_twins import raises_as_torch, torch_or_skip

N = 40_000


def close_to(values, expected_mean, expected_var):
    """The sample mean within 5 standard errors of the expected one."""
    values = np.asarray(values, dtype=np.float64)
    assert abs(values.mean() - expected_mean) <= 5 * math.sqrt(expected_var / values.size), values.mean()


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_fills_have_their_distributions_and_keep_the_tensor(dtype):
    mg.manual_seed(0)
    x = mg.zeros(N, dtype=dtype)
    array = x.array
    assert x.normal_(2.0, 3.0) is x and x.array is array and x.dtype == dtype and x._version == 1
    close_to(x.numpy(), 2.0, 9.0)
    close_to((x.numpy() - 2.0) ** 2, 9.0, 2 * 81.0)  # the variance: E(z²)=σ², Var(z²)=2σ⁴
    x.uniform_(-1.0, 3.0)
    assert x.numpy().min() >= -1.0 and x.numpy().max() < 3.0
    close_to(x.numpy(), 1.0, 16 / 12)
    x.uniform_(**{"from": 5.0, "to": 6.0})
    assert 5.0 <= x.numpy().min() and x.numpy().max() < 6.0
    x.exponential_(4.0)
    assert x.numpy().min() >= 0
    close_to(x.numpy(), 0.25, 1 / 16)
    x.bernoulli_(0.3)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    close_to(x.numpy(), 0.3, 0.21)
    x.bernoulli_(mg.tensor(np.tile([0.0, 1.0, 0.5, 0.9], N // 4), dtype=dtype))
    values = x.numpy().reshape(-1, 4)
    assert (values[:, 0] == 0).all() and (values[:, 1] == 1).all()
    close_to(values[:, 2], 0.5, 0.25)
    close_to(values[:, 3], 0.9, 0.09)
    assert x._version == 6


def test_a_seed_repeats_the_draws_and_a_generator_is_its_own_stream():
    def draws():
        return [mg.zeros(5).normal_().numpy(), mg.zeros(5).uniform_().numpy(),
                mg.zeros(5).exponential_().numpy(), mg.bernoulli(mg.full((5,), 0.5)).numpy(),
                mg.normal(mg.zeros(5), 1.0).numpy(), mg.multinomial(mg.ones(5), 5).numpy(),
                mg.multinomial(mg.ones(5), 8, True).numpy()]
    mg.manual_seed(3)
    first = draws()
    mg.manual_seed(3)
    for a, b in zip(first, draws()):
        np.testing.assert_array_equal(a, b)
    mine = np.random.default_rng(7)
    own = mg.zeros(5).normal_(generator=mine).numpy()
    assert not np.array_equal(own, first[0])
    np.testing.assert_array_equal(mg.zeros(5).normal_(generator=np.random.default_rng(7)).numpy(), own)


def test_bernoulli_and_normal_draw_per_element():
    mg.manual_seed(1)
    p = mg.tensor([0.0, 0.2, 1.0], dtype=mg.float64)
    draws = np.stack([mg.bernoulli(p).numpy() for _ in range(4000)])
    assert draws.dtype == np.float64 and (draws[:, 0] == 0).all() and (draws[:, 2] == 1).all()
    close_to(draws[:, 1], 0.2, 0.16)
    assert mg.bernoulli(mg.zeros(3), 1.0).tolist() == [1.0, 1.0, 1.0]
    mean, std = mg.tensor([[-1.0], [4.0]]), mg.tensor([0.0, 1.0, 2.0])
    samples = np.stack([mg.normal(mean, std).numpy() for _ in range(4000)])
    assert samples.shape == (4000, 2, 3)
    assert (samples[:, :, 0] == [-1.0, 4.0]).all()  # std 0: the mean itself
    for i, m in enumerate([-1.0, 4.0]):
        for j, s in enumerate([1.0, 2.0], start=1):
            close_to(samples[:, i, j], m, s * s)
    assert mg.normal(mean, 2.0).shape == (2, 1) and mg.normal(0.0, std).shape == (3,)
    made = mg.normal(1.0, 2.0, (N,), dtype=mg.float64)
    assert made.dtype == mg.float64
    close_to(made.numpy(), 1.0, 4.0)


def test_multinomial_with_replacement_follows_the_weights():
    mg.manual_seed(2)
    weights = np.array([0.0, 1.0, 2.0, 5.0])
    rows = mg.multinomial(mg.tensor(np.stack([weights, weights[::-1]])), N // 2, replacement=True)
    assert rows.shape == (2, N // 2) and rows.dtype == mg.int64
    for row, w in zip(rows.numpy(), (weights, weights[::-1])):
        p = w / w.sum()
        assert not (row == np.flatnonzero(p == 0)[0]).any()  # a weight of 0 is never drawn
        for category in range(4):
            close_to(row == category, p[category], p[category] * (1 - p[category]))


def test_multinomial_without_replacement_draws_each_category_once():
    mg.manual_seed(4)
    weights = np.array([1.0, 2.0, 0.0, 5.0])
    picks = mg.multinomial(mg.tensor(np.tile(weights, (N // 4, 1))), 3).numpy()
    assert picks.shape == (N // 4, 3)
    assert all(len(set(row)) == 3 for row in picks[:200])
    assert not (picks == 2).any()  # three positive weights: the zero is never needed
    p = weights / weights.sum()
    for category in (0, 1, 3):  # the first pick is a draw from the weights
        close_to(picks[:, 0] == category, p[category], p[category] * (1 - p[category]))
    # the second pick, given the first: P(second = 1 | first = 3) = 2 / (1 + 2)
    second = picks[picks[:, 0] == 3, 1]
    close_to(second == 1, 2 / 3, 2 / 9)
    everything = mg.multinomial(mg.tensor(weights), 4).numpy()
    assert sorted(everything) == [0, 1, 2, 3] and everything[-1] == 2  # the zero comes last, as in torch


def test_samples_carry_zero_gradients_as_torchs():
    torch = torch_or_skip()
    for make in (lambda m, a, b: m.normal(a, b), lambda m, a, b: m.normal(a, 2.0) * b,
                 lambda m, a, b: m.bernoulli(a.sigmoid()) * b):
        ours = [mg.zeros(3, requires_grad=True), mg.ones(3, requires_grad=True)]
        theirs = [torch.zeros(3, requires_grad=True), torch.ones(3, requires_grad=True)]
        make(mg, *ours).sum().backward()
        make(torch, *theirs).sum().backward()
        assert not theirs[0].grad.any()  # what went into the sampler gets zeros, in both
        assert ours[0].grad is not None and not ours[0].grad.numpy().any()
    w = mg.ones(3, requires_grad=True)
    y = w * 2
    y.normal_()
    y.sum().backward()  # the old values of y no longer matter: w gets zeros, as in torch
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    assert mg.zeros(3, dtype=mg.int64).bernoulli_(0.5).dtype == mg.int64


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(3, dtype=m.long).normal_(), lambda m: m.zeros(3, dtype=m.long).uniform_(),
    lambda m: m.zeros(3, dtype=m.long).exponential_(), lambda m: m.zeros(3).normal_(0, -1),
    lambda m: m.zeros(3).uniform_(2, 1), lambda m: m.zeros(3).exponential_(0), lambda m: m.zeros(3).bernoulli_(2),
    lambda m: m.zeros(3).bernoulli_(m.tensor([0.5, 2.0, 0.1])), lambda m: m.zeros(3, requires_grad=True).normal_(),
    lambda m: m.normal(m.zeros(2), -m.ones(2)), lambda m: m.normal(m.zeros(2, dtype=m.long), m.ones(2)),
    lambda m: m.multinomial(m.tensor([0.0, 1, 2]), 0), lambda m: m.multinomial(m.tensor([0.0, 1, 2]), 4),
    lambda m: m.multinomial(m.tensor([0.0, -1, 2]), 1), lambda m: m.multinomial(m.tensor([0.0, 0, 0]), 1),
    lambda m: m.multinomial(m.ones(2, 2, 2), 1), lambda m: m.multinomial(m.tensor([1, 2]), 1)])
def test_sampler_errors_are_torchs(call):
    raises_as_torch(call)
