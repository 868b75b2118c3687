"""Numerics at the edges, as PyTorch: binary_cross_entropy at p = 0 and 1, creation
functions that would overflow, samplers that yield non-integers, and softmax and the
reductions over a 0-length dimension. Each case is compared with torch where it is
installed, and holds its own expectation without it."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.data import DataLoader, TensorDataset


# ---- binary_cross_entropy: torch's log clamp at −100 and its gradient ------------------------
P = [0.0, 1.0, 0.5, 1e-30, 0.0, 1.0, 0.3]
Y = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.7]


def _bce(module, functional, reduction):
    p = module.tensor(P, requires_grad=True)
    y = module.tensor(Y, requires_grad=True)
    loss = functional.binary_cross_entropy(p, y, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), p.grad.numpy(), y.grad.numpy()


def test_binary_cross_entropy_at_zero_and_one_has_finite_loss_and_input_gradient():
    loss, gp, _ = _bce(mg, F, "none")
    assert np.isfinite(loss).all() and np.isfinite(gp).all()
    # torch's backward: (p − y) / max(p(1 − p), 1e−12)
    np.testing.assert_allclose(gp[:2], [-1e12, 1e12], rtol=1e-6)
    np.testing.assert_allclose(loss[:2], [100, 100])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_matches_torch_values_and_gradients(reduction):
    torch = pytest.importorskip("torch")
    ours, theirs = _bce(mg, F, reduction), _bce(torch, torch.nn.functional, reduction)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)


def test_binary_cross_entropy_gradcheck_inside_the_interval():
    p = mg.tensor([0.2, 0.6, 0.9], dtype=mg.float64, requires_grad=True)
    y = mg.tensor([0.1, 1.0, 0.0], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), (p, y))


def test_saturated_sigmoid_trains_with_finite_gradient():
    x = mg.tensor([20.0, -20.0], requires_grad=True)  # float32 sigmoid is exactly 1.0 and ~0 here
    F.binary_cross_entropy(mg.sigmoid(x), mg.tensor([0.0, 1.0])).backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---- creation functions refuse overflow ------------------------------------------------------
# (expression, what torch does: an exception class, or None for a value)
OVERFLOW = [
    ("m.tensor([2**63])", ValueError), ("m.tensor(2**63)", ValueError), ("m.tensor([-2**63 - 1])", ValueError),
    ("m.tensor([[1], [2**63]])", ValueError), ("m.tensor([True, 2**63])", ValueError),
    ("m.as_tensor([2**63])", ValueError),
    ("m.tensor([300], dtype=m.uint8)", RuntimeError), ("m.tensor([-256], dtype=m.uint8)", RuntimeError),
    ("m.tensor([200], dtype=m.int8)", RuntimeError), ("m.tensor([2**31], dtype=m.int32)", RuntimeError),
    ("m.tensor([300.5], dtype=m.uint8)", RuntimeError), ("m.tensor([float('nan')], dtype=m.int64)", RuntimeError),
    ("m.full((2,), 1e40, dtype=m.float32)", RuntimeError), ("m.full((2,), 1e40)", RuntimeError),
    ("m.full((2,), 300, dtype=m.uint8)", RuntimeError), ("m.full((2,), 2**63)", RuntimeError),
    ("m.full((2,), 70000, dtype=m.float16)", RuntimeError), ("m.full((2,), float('nan'), dtype=m.int64)", RuntimeError),
    ("m.full_like(m.zeros(2), 1e40)", RuntimeError),
    ("m.arange(0, 2**63)", RuntimeError), ("m.arange(2**63)", RuntimeError), ("m.arange(0, 2**64, 2**62)", OverflowError),
    ("m.arange(0, 1e40)", RuntimeError), ("m.arange(0, float('inf'))", RuntimeError),
    ("m.linspace(0, 1e40, 3)", RuntimeError), ("m.linspace(0, 300, 3, dtype=m.uint8)", RuntimeError),
    # what torch accepts stays accepted, with torch's values
    ("m.tensor([-1], dtype=m.uint8)", None), ("m.tensor([1e40], dtype=m.float32)", None),
    ("m.tensor([1.0, 2**63])", None), ("m.Tensor([2**63])", None), ("m.tensor([2**64], dtype=m.float32)", None),
    ("m.full((2,), -200, dtype=m.uint8)", None), ("m.full((2,), 3.5, dtype=m.int64)", None),
    ("m.full((2,), float('inf'))", None), ("m.full((2,), 1e300, dtype=m.float64)", None),
    ("m.arange(2**62, 2**62 + 3)", None), ("m.tensor([2**63 - 1, -2**63])", None),
]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e40 → inf, as torch
@pytest.mark.parametrize("expression, expected", OVERFLOW, ids=[e for e, _ in OVERFLOW])
def test_creation_overflow_as_torch(expression, expected):
    m = mg
    if expected is None:
        ours = eval(expression)
        torch = pytest.importorskip("torch")
        m = torch
        theirs = eval(expression)
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    with pytest.raises(expected, match="overflow|Overflow|too big|invalid size|unsupported range"):
        eval(expression)
    try:
        import torch
    except ImportError:
        return
    m = torch
    with pytest.raises(expected):
        eval(expression)


# ---- a sampler's indices must be integers ---------------------------------------------------------
class _Yields:
    def __init__(self, *indices):
        self.indices = indices

    def __iter__(self):
        return iter(self.indices)

    def __len__(self):
        return len(self.indices)


@pytest.mark.parametrize("bad", [1.5, 2.0, "1", None, True, mg.tensor(1.0)])
def test_sampler_yielding_a_non_integer_is_refused(bad):
    dataset = TensorDataset(mg.arange(4.0))
    loader = DataLoader(dataset, batch_size=2, sampler=_Yields(0, bad))
    with pytest.raises(TypeError, match="sampler yielded .* at position 1"):
        list(loader)


def test_sampler_integers_of_every_kind_are_served():
    dataset = TensorDataset(mg.arange(4.0))
    loader = DataLoader(dataset, batch_size=4, sampler=_Yields(3, np.int64(1), mg.tensor(2), np.uint8(0)))
    (batch,) = next(iter(loader))
    np.testing.assert_array_equal(batch.numpy(), [3.0, 1.0, 2.0, 0.0])


# ---- 0-length dimensions ----------------------------------------------------------------------------
EMPTY_VALUES = ["m.zeros(0, 3).softmax(0)", "m.zeros(0, 3).softmax(1)", "m.zeros(3, 0).softmax(1)",
                "m.zeros(3, 0).log_softmax(1)", "m.zeros(3, 0).log_softmax(0)", "m.zeros(0).logsumexp(0)",
                "m.zeros(0, 3).logsumexp(0)", "m.zeros(0).sum()", "m.zeros(0).mean()", "m.zeros(0, 3).mean(0)",
                "m.zeros(0, 3).sum(0)", "m.zeros(0).prod()", "m.zeros(0, 3).amax(1)", "m.zeros(0, 3).max(1).values",
                "m.zeros(0, 3).max(1).indices", "m.zeros(0, 3).argmax(1)"]
EMPTY_ERRORS = {"m.zeros(0).max()": RuntimeError, "m.zeros(0).min()": RuntimeError, "m.zeros(0).amax()": RuntimeError,
                "m.zeros(0, 3).max(0)": IndexError, "m.zeros(0, 3).amax(0)": IndexError,
                "m.zeros(0).argmax()": IndexError, "m.zeros(0).argmax(0)": IndexError,
                "m.zeros(0, 3).argmax(0)": IndexError, "m.zeros(0, 3).min(dim=0)": IndexError,
                "m.zeros(0, 3).amin(dim=(0, 1))": IndexError}


def _outcome(m, expression):
    try:
        out = eval(expression)
    except (RuntimeError, IndexError) as error:
        return type(error)
    return str(out.dtype).split(".")[-1], tuple(out.shape), out.numpy()  # torch.float32, minigrad.float32


@pytest.mark.parametrize("expression", EMPTY_VALUES + list(EMPTY_ERRORS))
def test_zero_length_reductions_as_torch(expression):
    ours = _outcome(mg, expression)
    if expression in EMPTY_ERRORS:
        assert ours is EMPTY_ERRORS[expression]
    else:
        assert not isinstance(ours, type), f"{expression} raised {ours.__name__}"
    torch = pytest.importorskip("torch")
    theirs = _outcome(torch, expression)
    if isinstance(theirs, type):
        assert ours is theirs
        return
    assert ours[:2] == theirs[:2]
    np.testing.assert_array_equal(ours[2], theirs[2])


def test_softmax_over_an_empty_dim_has_an_empty_gradient():
    x = mg.zeros(3, 0, requires_grad=True)
    F.softmax(x, dim=1).sum().backward()
    assert x.grad.shape == (3, 0)
