"""erfc, erfinv, lgamma, digamma (and torch.special's names for them), searchsorted,
bucketize, histc, bincount, and ``~`` on a float tensor: values, dtypes and error classes
against torch where it is installed; the special functions' VJPs gradchecked in float64 on
hypothesis shapes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from torch_twins import raises_as_torch, torch_or_skip

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


# where each function is smooth, for gradchecks: (low, high), and values to avoid
DOMAINS = {"erfc": (-3.0, 3.0), "erfinv": (-0.95, 0.95), "lgamma": (-3.0, 5.0), "digamma": (-3.0, 5.0)}


def away_from_poles(name, data):
    if name in ("lgamma", "digamma"):  # poles at 0, −1, −2, …
        near = np.abs(data - np.round(data)) < 0.1
        data = np.where(near & (data < 0.5), data + 0.3, data)
    return data


@pytest.mark.parametrize("name", DOMAINS)
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_special_functions_match_torch_and_gradcheck(name, shape, seed):
    torch = torch_or_skip()
    low, high = DOMAINS[name]
    data = away_from_poles(name, np.random.default_rng(seed).uniform(low, high, shape))
    x, t = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, expected = getattr(mg, name)(x), getattr(torch, name)(t)
    assert y.dtype == mg.float64 and y.shape == tuple(expected.shape)
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-10)
    fn = getattr(mg, name)
    assert mg.gradcheck(fn, [mg.tensor(data, requires_grad=True)])
    if name in ("erfc", "erfinv"):  # their derivatives are built from differentiable ops
        assert mg.gradgradcheck(fn, [mg.tensor(data, requires_grad=True)])


def test_special_functions_at_their_edges_are_torchs():
    torch = torch_or_skip()
    edges = {"erfc": [-np.inf, np.inf, np.nan, 0.0, 30.0, -30.0],
             "erfinv": [1.0, -1.0, 1.5, -2.0, 0.0, 1 - 1e-15, -(1 - 1e-12), 1e-300, np.nan],
             "lgamma": [0.0, -1.0, -2.0, -0.5, 1.0, 2.0, 1e-8, 1e3, np.inf, -np.inf],
             "digamma": [0.0, -1.0, -7.0, -0.5, 1.0, 1e-8, 1e3, 1e8, -1e-3]}
    for name, values in edges.items():
        ours = getattr(mg, name)(mg.tensor(values, dtype=mg.float64)).numpy()
        theirs = getattr(torch, name)(torch.tensor(values, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, err_msg=name)
    for name in edges:  # integers give the default float dtype, as torch's
        ours = getattr(mg, name)(mg.tensor([1, 0]))
        theirs = getattr(torch, name)(torch.tensor([1, 0]))
        assert ours.dtype == mg.float32
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    for ours, theirs in (("gammaln", "gammaln"), ("psi", "psi"), ("erfinv", "erfinv"), ("expit", "expit")):
        x = np.array([0.25, 0.5])
        np.testing.assert_allclose(getattr(mg.special, ours)(mg.tensor(x)).numpy(),
                                   getattr(torch.special, theirs)(torch.tensor(x)).numpy(), rtol=1e-12)
    assert mg.tensor([0.5]).erfinv().item() == pytest.approx(0.4769362762044699, rel=1e-7)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(0, 3), n=st.integers(1, 6), m=st.integers(1, 5),
       right=st.booleans(), out_int32=st.booleans())
def test_searchsorted_and_bucketize_match_torch(seed, rows, n, m, right, out_int32):
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    leading = (2,) * rows
    sequence = np.sort(rng.integers(0, 6, leading + (n,)).astype(np.float64), axis=-1)  # repeats included
    values = rng.integers(-1, 8, leading + (m,)).astype(np.float64)
    kwargs = dict(right=right, out_int32=out_int32)
    ours = mg.searchsorted(mg.tensor(sequence), mg.tensor(values), **kwargs)
    theirs = torch.searchsorted(torch.tensor(sequence), torch.tensor(values), **kwargs)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    side = "right" if right else "left"
    np.testing.assert_array_equal(mg.searchsorted(mg.tensor(sequence), mg.tensor(values), side=side).numpy(),
                                  theirs.numpy())
    shuffled = rng.permuted(sequence, axis=-1)
    sorter = np.argsort(shuffled, axis=-1, kind="stable")
    np.testing.assert_array_equal(
        mg.searchsorted(mg.tensor(shuffled), mg.tensor(values), right=right, sorter=mg.tensor(sorter)).numpy(),
        torch.searchsorted(torch.tensor(shuffled), torch.tensor(values), right=right,
                           sorter=torch.tensor(sorter)).numpy())
    boundaries = sequence.reshape(-1, n)[0]
    np.testing.assert_array_equal(mg.bucketize(mg.tensor(values), mg.tensor(boundaries), right=right).numpy(),
                                  torch.bucketize(torch.tensor(values), torch.tensor(boundaries), right=right).numpy())


def test_searchsorted_scalars_and_errors_are_torchs():
    torch = torch_or_skip()
    assert mg.searchsorted(mg.tensor([1.0, 2, 3]), 2.0).item() == torch.searchsorted(
        torch.tensor([1.0, 2, 3]), 2.0).item()
    assert mg.bucketize(2.0, mg.tensor([1.0, 3, 5])).shape == ()
    for call in (lambda m: m.searchsorted(m.tensor([1.0, 2, 3]), m.tensor([2.0]), right=True, side="left"),
                 lambda m: m.searchsorted(m.tensor([[1.0, 2, 3]]), m.tensor([2.0])),
                 lambda m: m.bucketize(m.tensor([2.0]), m.tensor([[1.0, 3]]))):
        raises_as_torch(call)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), size=st.integers(0, 30), bins=st.integers(1, 7),
       bounds=st.sampled_from([(0, 0), (0, 3), (-1.5, 2.5), (2, 2), (1, 4)]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_histc_matches_torch(seed, size, bins, bounds, dtype):
    torch = torch_or_skip()
    data = (np.random.default_rng(seed).integers(-4, 10, size) / 2).astype(dtype)  # values on bin edges
    low, high = bounds
    ours = mg.histc(mg.tensor(data), bins=bins, min=low, max=high)
    theirs = torch.histc(torch.tensor(data), bins=bins, min=low, max=high)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), size=st.integers(0, 20), minlength=st.integers(0, 12),
       weights=st.sampled_from([None, "float32", "float64", "int64"]))
def test_bincount_matches_torch(seed, size, minlength, weights):
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 9, size)
    w = None if weights is None else rng.uniform(-2, 2, size).astype(weights)
    ours = mg.bincount(mg.tensor(data), None if w is None else mg.tensor(w), minlength=minlength)
    theirs = torch.bincount(torch.tensor(data), None if w is None else torch.tensor(w), minlength=minlength)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(mg.tensor(data).bincount().numpy(), torch.tensor(data).bincount().numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.histc(m.tensor([1, 2]), bins=2), lambda m: m.histc(m.tensor([1.0, 2]), bins=0),
    lambda m: m.histc(m.tensor([1.0, 2]), bins=2, min=3, max=1), lambda m: m.bincount(m.tensor([-1, 3, 1])),
    lambda m: m.bincount(m.tensor([[1]])), lambda m: m.bincount(m.tensor([1.0])),
    lambda m: m.bincount(m.tensor([1, 2]), m.tensor([1.0])), lambda m: m.bincount(m.tensor([1, 2]), minlength=-1),
    lambda m: ~m.ones(2), lambda m: m.bitwise_not(m.ones(2))])
def test_binning_and_invert_errors_are_torchs(call):
    raises_as_torch(call)
