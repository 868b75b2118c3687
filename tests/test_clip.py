"""Gradient clipping: by total norm (returns it) and by value; against hand numbers and
torch.nn.utils (skipped without PyTorch)."""
import math

import numpy as np
import pytest

from minigrad import optim
from minigrad.tensor import Tensor


def with_grads(*grads):
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g)), requires_grad=True)
        p.grad = Tensor(np.array(g, dtype=np.float64))
        params.append(p)
    return params


def test_clip_grad_norm_scales_all_gradients_together():
    # ‖[3, 4, 12]‖₂ = 13; max_norm 6.5 halves every gradient (up to the 1e-6 guard)
    params = with_grads([3.0, 4.0], [12.0])
    total = optim.clip_grad_norm_(params, max_norm=6.5)
    # a 0-d tensor of the gradients' dtype, as torch returns (``.item()`` for the number)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float64 and total.item() == 13.0
    scale = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.array, [3 * scale, 4 * scale], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.array, [12 * scale], rtol=1e-15)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = with_grads([3.0, 4.0])
    assert optim.clip_grad_norm_(params, max_norm=10.0).item() == 5.0
    np.testing.assert_array_equal(params[0].grad.array, [3.0, 4.0])


@pytest.mark.parametrize("norm_type,total", [(1, 19.0), (math.inf, 12.0), (3, (27 + 64 + 1728) ** (1 / 3))])
def test_clip_grad_norm_other_norms(norm_type, total):
    params = with_grads([3.0, -4.0], [-12.0])
    assert optim.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type).item() == pytest.approx(total, rel=1e-14)
    np.testing.assert_allclose(params[1].grad.array, [-12.0 / (total + 1e-6)], rtol=1e-14)


def test_clip_grad_norm_accepts_one_tensor_and_skips_missing_gradients():
    (p,) = with_grads([0.0, 2.0])
    q = Tensor(np.ones(2), requires_grad=True)
    assert optim.clip_grad_norm_(p, 1.0).item() == 2.0
    assert optim.clip_grad_norm_([q, p], 1.0).item() == pytest.approx(1.0, rel=1e-5)
    assert q.grad is None
    assert optim.clip_grad_norm_([q], 1.0).item() == 0.0


def test_clip_grad_norm_non_finite():
    params = with_grads([1.0, math.nan])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is nan"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isnan(optim.clip_grad_norm_(params, 1.0).item())
    assert np.isnan(params[0].grad.array).all()  # as in PyTorch: NaN spreads, never hides


def test_clipping_gradients_of_a_shared_vjp_scales_each_once():
    # the VJP of (a + b) hands a and b the same array; backward gives each leaf its own copy
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    (3 * (a + b)).sum().backward()
    assert a.grad.array is not b.grad.array and a.grad.array.flags.writeable
    total = optim.clip_grad_norm_([a, b], max_norm=3.0)
    assert total.item() == pytest.approx(6.0)
    np.testing.assert_allclose(a.grad.array, [1.5, 1.5], rtol=1e-6)
    np.testing.assert_allclose(b.grad.array, [1.5, 1.5], rtol=1e-6)
    optim.clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(a.grad.array, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.array, [1.0, 1.0])


def test_clip_grad_value():
    params = with_grads([3.0, -0.5, -7.0], [[0.25, 2.0]])
    optim.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.array, [1.0, -0.5, -1.0])
    np.testing.assert_array_equal(params[1].grad.array, [[0.25, 1.0]])


def test_clip_keeps_dtype():
    p = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.array([30.0, 40.0], dtype=np.float32))
    optim.clip_grad_norm_([p], 5.0)
    assert p.grad.dtype == np.float32
    optim.clip_grad_value_([p], 1.0)
    assert p.grad.dtype == np.float32


@pytest.mark.parametrize("call,message", [
    (lambda ps: optim.clip_grad_norm_(ps, -1.0), "invalid max_norm=-1.0"),
    (lambda ps: optim.clip_grad_norm_(ps, 1.0, norm_type=0), "invalid norm_type=0.0"),
    (lambda ps: optim.clip_grad_norm_(ps, 1.0, norm_type=-2), "invalid norm_type=-2.0"),
    (lambda ps: optim.clip_grad_value_(ps, -0.5), "invalid clip_value=-0.5"),
])
def test_invalid_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(with_grads([1.0]))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) for s in [(5, 4), (4,), ()]]
    ours = with_grads(*grads)
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for q, g in zip(theirs, grads):
        q.grad = torch.tensor(g)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-13) and total.dtype == np.float64
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.array, q.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(1).normal(size=(6, 3))
    (p,) = with_grads(g)
    q = torch.zeros(6, 3, dtype=torch.float64, requires_grad=True)
    q.grad = torch.tensor(g)
    optim.clip_grad_value_([p], 0.7)
    torch.nn.utils.clip_grad_value_([q], 0.7)
    np.testing.assert_array_equal(p.grad.array, q.grad.numpy())
