"""rot90, tensor_split, kron, cross (torch.cross and linalg.cross), cdist and the norms of
torch.linalg (vector_norm, matrix_norm, norm; torch.norm's other orders): values, shapes,
dtypes and error classes against torch where it is installed, VJPs gradchecked in float64
on hypothesis shapes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from torch_twins import raises_as_torch, torch_or_skip


def data_of(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def same_as_torch(fn, arrays, atol=1e-10):
    """fn(library, *tensors) on minigrad and torch in float64: equal shapes, dtypes, values, and
    the gradients of a weighted sum."""
    torch = torch_or_skip()
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, expected = fn(mg, *ours), fn(torch, *theirs)
    if isinstance(y, tuple):
        assert len(y) == len(expected)
        y, expected = mg.cat([t.reshape(-1) for t in y]), torch.cat([t.reshape(-1) for t in expected])
    assert tuple(y.shape) == tuple(expected.shape)
    assert str(y.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), atol=atol, rtol=1e-9)
    weights = np.random.default_rng(1).uniform(-1, 1, tuple(y.shape))
    grads = torch.autograd.grad((expected * torch.tensor(weights)).sum(), theirs, allow_unused=True)
    (y * mg.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, grads):
        expected_grad = np.zeros(mine.shape) if reference is None else reference.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad.numpy()
        np.testing.assert_allclose(got, expected_grad, atol=1e-8, rtol=1e-7)


shapes = hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4)


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_rot90_tensor_split_and_kron_match_torch(shape, seed, data):
    ndim = len(shape)
    d0 = data.draw(st.integers(-ndim, ndim - 1))
    d1 = data.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != d0 % ndim))
    k = data.draw(st.integers(-5, 5))
    same_as_torch(lambda m, x: m.rot90(x, k, [d0, d1]), [data_of(shape, seed)])
    sections = data.draw(st.integers(1, 6))
    cuts = data.draw(st.lists(st.integers(-6, 6), max_size=4))
    same_as_torch(lambda m, x: m.tensor_split(x, sections, dim=d0), [data_of(shape, seed)])
    same_as_torch(lambda m, x: x.tensor_split(cuts, d1), [data_of(shape, seed)])
    other = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    same_as_torch(lambda m, a, b: m.kron(a, b), [data_of(shape, seed), data_of(other, seed + 1)])


def test_rearrangement_details_are_torchs():
    torch = torch_or_skip()
    for cuts in (torch.tensor(3), torch.tensor([1, 3])):
        ours = mg.tensor_split(mg.arange(7), mg.tensor(cuts.numpy()))
        assert [t.tolist() for t in ours] == [t.tolist() for t in torch.tensor_split(torch.arange(7), cuts)]
    assert mg.kron(mg.ones(2, 3, dtype=mg.int64), mg.ones(4)).dtype == mg.float32
    for keyword in (dict(sections=3), dict(indices=[2, 5])):
        assert [t.tolist() for t in mg.tensor_split(mg.arange(7), **keyword)] == \
            [t.tolist() for t in torch.tensor_split(torch.arange(7), **keyword)]
    assert mg.rot90(mg.arange(6).reshape(2, 3), 4).tolist() == [[0, 1, 2], [3, 4, 5]]
    for call in (lambda m: m.rot90(m.ones(2, 3), 1, [0, 0]), lambda m: m.rot90(m.ones(2, 3), 1, [0]),
                 lambda m: m.rot90(m.ones(2), 1), lambda m: m.tensor_split(m.arange(7), 0),
                 lambda m: m.rot90(m.ones(2, 3), 1, [0, 2])):
        raises_as_torch(call)


@settings(max_examples=20, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2**16), data=st.data())
def test_cross_matches_torch(shapes, seed, data):
    ndim = len(shapes.result_shape)
    a_shape, b_shape = ([1] * (ndim - len(s)) + list(s) for s in shapes.input_shapes)  # torch: same ndim
    dim = data.draw(st.integers(-ndim, ndim - 1))
    a_shape[dim] = b_shape[dim] = 3  # size 3 along dim in both (a broadcast 1 is refused, as torch)
    arrays = [data_of(a_shape, seed), data_of(b_shape, seed + 1)]
    same_as_torch(lambda m, a, b: m.linalg.cross(a, b, dim=dim), arrays)
    same_as_torch(lambda m, a, b: m.cross(a, b, dim), arrays)
    assert mg.gradcheck(lambda a, b: mg.linalg.cross(a, b, dim=dim), [mg.tensor(a, requires_grad=True)
                                                                       for a in arrays])


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
def test_cross_defaults_and_errors_are_torchs():
    same_as_torch(lambda m, a, b: m.cross(a, b), [data_of((3, 4), 0), data_of((3, 4), 1)])
    raises_as_torch(lambda m: m.linalg.cross(m.ones(3, 4), m.ones(3, 4)))
    raises_as_torch(lambda m: m.linalg.cross(m.ones(4, 3), m.ones(4, 1)))
    raises_as_torch(lambda m: m.linalg.cross(m.ones(3), m.ones(3, dtype=m.float64)))
    raises_as_torch(lambda m: m.linalg.cross(m.ones(3), m.ones(1, 3)))


ORDS = [2, 1, 3, 0.5, 0, math.inf, -math.inf, 1.5, -1]


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_vector_norm_matches_torch_and_gradchecks(shape, seed, data):
    ord = data.draw(st.sampled_from(ORDS))
    dims = data.draw(st.one_of(st.none(), st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    keepdim = data.draw(st.booleans())
    array = data_of(shape, seed, 0.2, 2.0) * np.random.default_rng(seed).choice([-1, 1], shape)
    same_as_torch(lambda m, x: m.linalg.vector_norm(x, ord, dims, keepdim), [array])
    if ord != 0:
        x = mg.tensor(array, requires_grad=True)
        assert mg.gradcheck(lambda x: mg.linalg.vector_norm(x, ord, dims, keepdim), [x])


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       data=st.data())
def test_matrix_norm_matches_torch_and_gradchecks(shape, seed, data):
    torch = torch_or_skip()
    ord = data.draw(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]))
    ndim = len(shape)
    d0 = data.draw(st.integers(-ndim, ndim - 1))
    d1 = data.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != d0 % ndim))
    keepdim = data.draw(st.booleans())
    array = data_of(shape, seed)
    same_as_torch(lambda m, a: m.linalg.matrix_norm(a, ord, (d0, d1), keepdim), [array], atol=1e-9)
    if ord in ("nuc", 2, -2):  # distinct, nonzero singular values: the derivative exists there
        moved = np.moveaxis(array, (d0, d1), (-2, -1))
        s = np.linalg.svd(moved, compute_uv=False)
        if s.min() < 0.1 or (s.shape[-1] > 1 and np.diff(s, axis=-1).max() > -0.1):
            return
    a = mg.tensor(array, requires_grad=True)
    assert mg.gradcheck(lambda a: mg.linalg.matrix_norm(a, ord, (d0, d1), keepdim), [a])
    same_as_torch(lambda m, a: m.linalg.norm(a, ord if ndim == 2 else None), [array], atol=1e-9)
    assert torch is not None


def test_norm_dispatch_and_errors_are_torchs():
    array = data_of((2, 3), 0)
    for call in (lambda m, x: m.linalg.norm(x), lambda m, x: m.linalg.norm(x, dim=1),
                 lambda m, x: m.linalg.norm(x, 3, dim=0), lambda m, x: m.linalg.norm(x, "nuc"),
                 lambda m, x: m.linalg.norm(x[0], math.inf), lambda m, x: m.norm(x, 1, dim=1),
                 lambda m, x: m.norm(x, "nuc"), lambda m, x: m.norm(x, math.inf),
                 lambda m, x: x.norm(p=3)):
        same_as_torch(call, [array], atol=1e-6)
    for call in (lambda m: m.linalg.vector_norm(m.tensor([1, 2])), lambda m: m.linalg.vector_norm(m.ones(2), "fro"),
                 lambda m: m.linalg.norm(m.ones(2, 2, 2), 2), lambda m: m.linalg.matrix_norm(m.ones(2), "fro"),
                 lambda m: m.linalg.matrix_norm(m.ones(2, 2), 3), lambda m: m.linalg.norm(m.ones(2, 3), "fro", dim=1),
                 lambda m: m.linalg.vector_norm(m.zeros(0, 3), math.inf),
                 lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.float64), dtype=m.float32)):
        raises_as_torch(call)
    assert mg.linalg.vector_norm(mg.zeros(0, 3), math.inf, dim=1).shape == (0,)
    assert mg.linalg.vector_norm(mg.ones(2), dtype=mg.float64).dtype == mg.float64
    x = mg.zeros(3, requires_grad=True)
    mg.linalg.vector_norm(x, 3).backward()  # the kink at 0: gradient 0, as torch
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@settings(max_examples=20, deadline=None)
@given(batch=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, min_side=1, max_side=3),
       sizes=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3)), seed=st.integers(0, 2**16),
       p=st.sampled_from([2.0, 1.0, 3.0, 0.0, math.inf, 0.5]))
def test_cdist_matches_torch_and_gradchecks(batch, sizes, seed, p):
    rows1, rows2, columns = sizes
    b1, b2 = batch.input_shapes
    arrays = [data_of(b1 + (rows1, columns), seed), data_of(b2 + (rows2, columns), seed + 1)]
    same_as_torch(lambda m, a, b: m.cdist(a, b, p=p, compute_mode="donot_use_mm_for_euclid_dist"), arrays,
                  atol=1e-9)
    if p != 0:
        leaves = [mg.tensor(a, requires_grad=True) for a in arrays]
        assert mg.gradcheck(lambda a, b: mg.cdist(a, b, p), leaves)


def test_cdist_details_are_torchs():
    same_as_torch(lambda m, a, b: m.cdist(a, b), [data_of((2, 3), 0), data_of((2, 3), 0)])  # zero distances
    for call in (lambda m: m.cdist(m.ones(2, 3), m.ones(3, 4)), lambda m: m.cdist(m.ones(3), m.ones(3, 3)),
                 lambda m: m.cdist(m.ones(2, 3), m.ones(3, 3), p=-1),
                 lambda m: m.cdist(m.ones(2, 3, dtype=m.long), m.ones(3, 3, dtype=m.long))):
        raises_as_torch(call)
