"""kernels.relu: the cpu face against the reference (any shape, non-contiguous,
float32/float64, NaN and zeros), the reference against PyTorch, bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kernels.relu
from kernels.relu import cpu, reference

arrays = st.tuples(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5),
                   st.sampled_from([np.float32, np.float64]), st.integers(0, 2**16), st.booleans())


def make(shape, dtype, seed, transposed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x[rng.random(shape) < 0.2] = 0  # exact zeros: the kink, where the gradient is 0
    return x.T if transposed else x


@given(case=arrays)
def test_cpu_matches_reference(case):
    shape, dtype, seed, transposed = case
    x = make(shape, dtype, seed, transposed)
    y = cpu.forward(x)
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y, reference.forward(x))
    gy = make(shape, dtype, seed + 1, transposed)
    gx = cpu.backward(gy, y)
    assert gx.dtype == x.dtype
    np.testing.assert_array_equal(gx, reference.backward(gy, y))


def test_by_hand_nan_and_zero():
    x = np.array([-1.0, 0.0, 2.0, np.nan])
    y = kernels.relu.forward(x)
    np.testing.assert_array_equal(y, [0.0, 0.0, 2.0, np.nan])
    np.testing.assert_array_equal(kernels.relu.backward(np.full(4, 3.0), y), [0.0, 0.0, 3.0, 0.0])


@given(case=arrays)
def test_reference_matches_torch(case):
    torch = pytest.importorskip("torch")
    shape, dtype, seed, transposed = case
    x = make(shape, np.float64, seed, transposed)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.relu(xt)
    gy = make(shape, np.float64, seed + 1, transposed)
    yt.backward(torch.tensor(gy))
    y = reference.forward(x)
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(reference.backward(gy, y), xt.grad.numpy())


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match=r"relu: supports float32 and float64 arrays, got \['int64'\]"):
        kernels.relu.forward(np.arange(3))
    with pytest.raises(TypeError, match="relu backward: arrays must share one dtype"):
        kernels.relu.backward(np.zeros(3, np.float32), np.zeros(3))
    with pytest.raises(ValueError, match=r"relu backward: gradient of shape \(2,\) for an output of shape \(3,\)"):
        kernels.relu.backward(np.zeros(2), np.zeros(3))
