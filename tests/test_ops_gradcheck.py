"""Every op's VJP against central finite differences in float64, on shapes drawn by
hypothesis (broadcasting pairs included), and its second derivative (grad of grad)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import ops

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)


def leaf(shape, seed, low=-2.0, high=2.0):
    data = np.random.default_rng(seed).uniform(low, high, shape)
    return mg.tensor(data, requires_grad=True)


def check_both(fn, *inputs):
    assert mg.gradcheck(fn, list(inputs))
    assert mg.gradgradcheck(fn, list(inputs))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "where": lambda a, b: mg.where(a.array > 0, a, b),
}


@pytest.mark.parametrize("name", BINARY)
@given(shapes=pairs, seed=st.integers(0, 2**16))
def test_binary_ops_with_broadcasting(name, shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    positive = name in ("div", "pow")  # keep away from the poles and from log of negatives
    a = leaf(a_shape, seed, 0.5, 2.0) if name == "pow" else leaf(a_shape, seed)
    b = leaf(b_shape, seed + 1, 0.5, 2.0) if positive else leaf(b_shape, seed + 1)
    check_both(BINARY[name], a, b)


UNARY = {
    "neg": (lambda x: -x, -2, 2),
    "exp": (lambda x: x.exp(), -2, 2),
    "log": (lambda x: x.log(), 0.5, 3),
    "sqrt": (lambda x: x.sqrt(), 0.5, 3),
    "tanh": (lambda x: x.tanh(), -2, 2),
    "sigmoid": (lambda x: x.sigmoid(), -3, 3),
    "relu": (lambda x: x.relu(), -2, 2),
    "abs": (lambda x: x.abs(), -2, 2),
    "clip": (lambda x: x.clip(-1.0, 1.0), -2, 2),
    "square": (lambda x: x ** 2, -2, 2),
    "scalar_ops": (lambda x: 3.0 - 2.0 / (x * x + 1.0), -2, 2),
}


@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unary_ops(name, shape, seed):
    fn, low, high = UNARY[name]
    x = leaf(shape, seed, low, high)
    if name in ("relu", "abs", "clip"):  # keep finite differences off the kinks
        x.array[np.abs(x.array) < 1e-3] = 0.5
        x.array[np.abs(np.abs(x.array) - 1) < 1e-3] = 0.5
    check_both(fn, x)


axes = st.one_of(st.none(), st.integers(-3, 2))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "logsumexp"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), axis=axes,
       keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions(name, shape, axis, keepdims, seed):
    if axis is not None:
        axis = axis % len(shape)
    x = leaf(shape, seed)
    check_both(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16))
def test_softmax_family(name, shape, seed):
    x = leaf(shape, seed)
    check_both(lambda t: getattr(t, name)(axis=-1), x)


@given(shapes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
       batch=st.sampled_from([(), (2,), (3, 1)]), seed=st.integers(0, 2**16))
def test_matmul(shapes, batch, seed):
    n, k, m = shapes
    a, b = leaf(batch + (n, k), seed), leaf((k, m), seed + 1)
    check_both(lambda a, b: a @ b, a, b)


def test_matmul_vectors():
    a, b, v = leaf((3, 4), 1), leaf((4,), 2), leaf((3,), 3)
    check_both(lambda a, b: a @ b, a, b)
    check_both(lambda v, a: v @ a, v, a)
    check_both(lambda b: b @ b, b)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16))
def test_shape_ops(shape, seed):
    x = leaf(shape, seed)
    check_both(lambda t: t.reshape(-1), x)
    check_both(lambda t: t.transpose(0, -1), x)
    check_both(lambda t: t.T, x)
    check_both(lambda t: t.permute(*reversed(range(t.ndim))) * 2, x)
    check_both(lambda t: t[..., :1] * t[..., -1:], x)


def test_getitem_integer_arrays_with_repeats():
    x = leaf((4, 3), 0)
    rows = np.array([0, 2, 2, 3])
    cols = np.array([1, 0, 0, 2])
    check_both(lambda t: t[rows, cols] ** 2, x)
    check_both(lambda t: t[[3, 3, 1]] * t[[0, 1, 2]], x)
    check_both(lambda t: t[t.array > 0] ** 3, x)  # boolean mask


@given(seed=st.integers(0, 2**16), axis=st.integers(0, 1))
def test_concatenate_and_stack(seed, axis):
    a, b = leaf((2, 3), seed), leaf((2, 3), seed + 1)
    check_both(lambda a, b: mg.concatenate([a, b * b], axis=axis), a, b)
    check_both(lambda a, b: mg.stack([a, b, a * b], axis=axis), a, b)


def test_casts_and_broadcast_to():
    x = leaf((3, 1), 0)
    check_both(lambda t: ops.broadcast_to(t, (2, 3, 4)) ** 2, x)
    check_both(lambda t: ops.sum_to(t * t, (1, 1)), x)
    check_both(lambda t: t.double() * 2, x)


def test_composite_expression_gradgrad():
    """A small network's loss: the Hessian-vector product matches finite differences."""
    x, w = leaf((4, 3), 0), leaf((3, 2), 1)
    labels = np.array([0, 1, 1, 0])
    check_both(lambda x, w: mg.functional.cross_entropy((x @ w).tanh(), labels), x, w)
