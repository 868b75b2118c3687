"""Initialisers against the variance formulas of the lecture notes."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import init


def big(shape=(400, 600)):
    return mg.tensor(np.zeros(shape, dtype=np.float64))


@pytest.mark.parametrize("fill", [init.xavier_normal_, init.xavier_uniform_])
def test_xavier_variance(fill):
    w = fill(big(), generator=np.random.default_rng(0))
    fan_out, fan_in = w.shape
    assert np.isclose(w.numpy().var(), 2 / (fan_in + fan_out), rtol=0.02)
    assert abs(w.numpy().mean()) < 1e-3


@pytest.mark.parametrize("fill", [init.kaiming_normal_, init.kaiming_uniform_])
def test_he_variance(fill):
    w = fill(big(), nonlinearity="relu", generator=np.random.default_rng(0))
    assert np.isclose(w.numpy().var(), 2 / w.shape[1], rtol=0.02)
    w = fill(big(), mode="fan_out", nonlinearity="relu", generator=np.random.default_rng(1))
    assert np.isclose(w.numpy().var(), 2 / w.shape[0], rtol=0.02)


def test_conv_fans_include_the_receptive_field():
    assert init.calculate_fan_in_and_fan_out(big((16, 3, 5, 5))) == (75, 400)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(big((5,)))


def test_gains():
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(big(), mode="fan_avg")


def test_simple_fills_and_seeding():
    w = big((3, 4))
    assert (init.constant_(w, 2.5).numpy() == 2.5).all()
    assert (init.ones_(w).numpy() == 1).all() and (init.zeros_(w).numpy() == 0).all()
    mg.manual_seed(7)
    a = init.normal_(big((3, 4))).numpy().copy()
    mg.manual_seed(7)
    assert np.array_equal(a, init.normal_(big((3, 4))).numpy())
    u = init.uniform_(big(), -0.5, 0.25).numpy()
    assert u.min() >= -0.5 and u.max() <= 0.25


def test_against_pytorch_formulas():
    torch = pytest.importorskip("torch")
    for name in ["linear", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
