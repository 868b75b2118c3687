"""kernels.batchnorm: the cpu face against the reference on hypothesis-drawn
(N, C) and (N, C, H, W) shapes (batch of 1, odd sizes, non-contiguous input,
float32/float64); the reference against PyTorch; bad input."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels.batchnorm
from kernels.batchnorm import cpu, reference

EPS = 1e-5


@st.composite
def cases(draw):
    """x (possibly a transposed view), weight, bias, gy of x's dtype."""
    rank = draw(st.sampled_from([2, 4]))
    c = draw(st.integers(1, 4))
    spatial = (draw(st.integers(1, 5)), draw(st.integers(1, 5))) if rank == 4 else ()
    n = draw(st.integers(1, 4))
    if n * int(np.prod(spatial)) < 2:  # a variance needs two values
        n = 2
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (n, c) + spatial
    if rank == 4 and draw(st.booleans()):
        x = rng.standard_normal((n, c, shape[3], shape[2])).swapaxes(2, 3)
    else:
        x = rng.standard_normal(shape)
    x = (3 * x + rng.uniform(-2, 2, (1, c) + (1,) * len(spatial))).astype(dtype)  # per-channel offsets
    weight, bias = (rng.standard_normal(c).astype(dtype) for _ in range(2))
    return x, weight, bias, rng.standard_normal(shape).astype(dtype)


def tolerance(dtype):
    return dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def as_3d(a):
    return np.ascontiguousarray(a).reshape(a.shape[0], a.shape[1], -1)


@given(case=cases())
def test_cpu_matches_reference(case):
    x, weight, bias, gy = case
    mean, var = kernels.batchnorm.statistics(x)
    assert mean.dtype == var.dtype == x.dtype and mean.shape == (x.shape[1],)
    for got, want in zip((mean, var), reference.statistics(as_3d(x))):
        np.testing.assert_allclose(got, want, **tolerance(x.dtype))
    y = kernels.batchnorm.normalize(x, mean, var, weight, bias, EPS)
    assert y.shape == x.shape and y.dtype == x.dtype
    np.testing.assert_allclose(as_3d(y), reference.normalize(as_3d(x), mean, var, weight, bias, EPS),
                               **tolerance(x.dtype))
    got = kernels.batchnorm.backward(gy, x, mean, var, weight, EPS)
    want = reference.backward(as_3d(gy), as_3d(x), mean, var, weight, EPS)
    assert got[0].shape == x.shape and all(g.dtype == x.dtype for g in got)
    np.testing.assert_allclose(as_3d(got[0]), want[0], **tolerance(x.dtype))
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, **tolerance(x.dtype))


def test_normalised_output_has_zero_mean_unit_variance():
    x = np.random.default_rng(0).normal(5.0, 3.0, (64, 3, 4, 4))
    y = kernels.batchnorm.normalize(x, *kernels.batchnorm.statistics(x))  # no affine: γ = 1, β = 0
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-5)  # σ²/(σ² + eps)


def test_without_weight_the_sums_are_still_returned():
    rng = np.random.default_rng(1)
    x, gy = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    mean, var = kernels.batchnorm.statistics(x)
    gx, gweight, gbias = kernels.batchnorm.backward(gy, x, mean, var)
    want = reference.backward(gy[..., None], x[..., None], mean, var, np.ones(2), EPS)
    np.testing.assert_allclose(gx, want[0][..., 0])
    np.testing.assert_allclose(gbias, gy.sum(axis=0))
    np.testing.assert_allclose(gweight, want[1])


def test_float32_statistics_are_accumulated_accurately():
    # a large offset: a naive float32 running sum of 131072 values would be off by about 1e-3
    x = (1000 + np.random.default_rng(2).standard_normal((128, 1, 32, 32))).astype(np.float32)
    mean, var = cpu.statistics(as_3d(x))
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(), rtol=1e-7)
    np.testing.assert_allclose(var, x.astype(np.float64).var(), rtol=1e-4)


@given(case=cases())
def test_reference_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, weight, bias, gy = (a.astype(np.float64) for a in case)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True, eps=EPS)
    yt.backward(torch.tensor(gy))
    mean, var = reference.statistics(as_3d(x))
    np.testing.assert_allclose(reference.normalize(as_3d(x), mean, var, weight, bias, EPS),
                               as_3d(yt.detach().numpy()), rtol=1e-10, atol=1e-10)
    gx, gweight, gbias = reference.backward(as_3d(gy), as_3d(x), mean, var, weight, EPS)
    np.testing.assert_allclose(gx, as_3d(xt.grad.numpy()), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gweight, wt.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gbias, bt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_bad_input_is_refused():
    x = np.zeros((4, 3, 2, 2))
    mean, var = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match=r"batch_norm statistics: expects \(N, C\).*got shape \(4,\)"):
        kernels.batchnorm.statistics(np.zeros(4))
    with pytest.raises(ValueError, match=r"expects \(N, C\).*got shape \(1, 2, 3, 4, 5\)"):
        kernels.batchnorm.statistics(np.zeros((1, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match="has no values"):
        kernels.batchnorm.statistics(np.zeros((0, 3)))
    with pytest.raises(TypeError, match=r"batch_norm statistics: supports float32 and float64 arrays, got \['int64'\]"):
        kernels.batchnorm.statistics(np.zeros((4, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\) for an input with 3 channels"):
        kernels.batchnorm.normalize(x, mean, var, np.ones(2))
    with pytest.raises(TypeError, match="batch_norm: arrays must share one dtype"):
        kernels.batchnorm.normalize(x, mean.astype(np.float32), var)
    with pytest.raises(ValueError, match="batch_norm: eps must be positive, got 0"):
        kernels.batchnorm.normalize(x, mean, var, eps=0)
    with pytest.raises(ValueError, match=r"batch_norm backward: gradient of shape \(4, 3\) "
                                         r"for an input of shape \(4, 3, 2, 2\)"):
        kernels.batchnorm.backward(np.zeros((4, 3)), x, mean, var)
