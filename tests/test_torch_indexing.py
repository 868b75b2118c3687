"""Indexing as PyTorch reads it: keys mixing ints, slices, None, Ellipsis and index
tensors give torch's shape, values and gradients (hypothesis-drawn keys), setitem
writes where torch writes, and wrong keys raise torch's exception classes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")


@st.composite
def keys(draw, unique=False):
    """A shape and a key over it: each dim gets an int, a slice or an index list; a None or
    an Ellipsis may be inserted; ints and lists are what NumPy and PyTorch disagree on.
    ``unique``: no list names a place twice (so no place is written twice by setitem)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5)))
    index_shape = draw(st.sampled_from([(2,), (3,), (2, 2), (1,)]))
    count = draw(st.integers(1, len(shape)))
    ellipsis = count < len(shape) and draw(st.booleans())  # then the key indexes the last dims
    parts = []
    for n in (shape[len(shape) - count:] if ellipsis else shape[:count]):
        kind = draw(st.sampled_from(["int", "slice", "list", "list"]))
        if kind == "list" and unique and np.prod(index_shape) > n:
            kind = "slice"
        if kind == "int":
            parts.append(("int", draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            start, stop = draw(st.integers(0, n)), draw(st.integers(0, n))
            parts.append(("slice", (start, stop, draw(st.integers(1, 2)))))
        else:
            size = int(np.prod(index_shape))
            values = st.lists(st.integers(-n, n - 1), min_size=size, max_size=size,
                              unique_by=(lambda v: v % n) if unique else None)
            parts.append(("list", draw(values), index_shape))
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), ("none",))
    if ellipsis:
        parts.insert(0, ("ellipsis",))
    return shape, parts


def build(parts, lib):
    key = []
    for part in parts:
        if part[0] == "int":
            key.append(part[1])
        elif part[0] == "slice":
            key.append(slice(*part[1]))
        elif part[0] == "list":
            key.append(lib.tensor(np.array(part[1]).reshape(part[2])))
        elif part[0] == "none":
            key.append(None)
        else:
            key.append(Ellipsis)
    return tuple(key)


@given(case=keys(), seed=st.integers(0, 2 ** 16))
def test_mixed_keys_match_torch_forward_and_backward(case, seed):
    shape, parts = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = theirs_x[build(parts, torch)]
    ours_x = mg.tensor(x, requires_grad=True)
    ours = ours_x[build(parts, mg)]
    assert ours.shape == tuple(theirs.shape), (parts, ours.shape, theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    w = rng.standard_normal(tuple(theirs.shape))
    (theirs * torch.tensor(w)).sum().backward()
    (ours * mg.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy())


@given(case=keys(unique=True), seed=st.integers(0, 2 ** 16))
def test_mixed_keys_setitem_match_torch(case, seed):
    shape, parts = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    theirs = torch.tensor(x)
    value = rng.standard_normal(tuple(theirs[build(parts, torch)].shape))
    theirs[build(parts, torch)] = torch.tensor(value)
    ours = mg.tensor(x)
    ours[build(parts, mg)] = mg.tensor(value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_the_tinygrad_key():
    x = np.arange(2 * 5 * 12 * 4 * 6, dtype=np.float64).reshape(2, 5, 12, 4, 6)
    idx = [0, 2, 3, 1]
    ours = mg.tensor(x)[1, :, 3:11:2, mg.tensor(idx), 0:2]
    theirs = torch.tensor(x)[1, :, 3:11:2, torch.tensor(idx), 0:2]
    assert ours.shape == tuple(theirs.shape) == (5, 4, 4, 2)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert mg.tensor(x)[mg.tensor(1), :, mg.tensor([0, 1])].shape == (5, 2, 4, 6)  # a 0-d index is an int


@pytest.mark.parametrize("key", [
    lambda lib: 5,                                   # out of range
    lambda lib: (0, 0, 0),                           # too many indices
    lambda lib: lib.tensor([0, 7]),                  # an index tensor out of range
    lambda lib: lib.tensor([0.0, 1.0]),              # float index tensor
    lambda lib: lib.tensor([True, False]),           # mask of the wrong length
    lambda lib: (lib.tensor([0, 1]), lib.tensor([0, 1, 2])),  # index tensors that do not broadcast
])
def test_bad_keys_raise_index_error_as_torch(key):
    with pytest.raises(IndexError):
        torch.zeros(3, 4)[key(torch)]
    with pytest.raises(IndexError):
        mg.zeros(3, 4)[key(mg)]


@pytest.mark.parametrize("key", [
    lambda lib: (1, slice(None), lib.tensor([0, 2, 0])),
    lambda lib: (lib.tensor([[1], [0]]), 0, slice(None), lib.tensor([2, 1])),
    lambda lib: (Ellipsis, 1, lib.tensor([0, 1])),
])
def test_mixed_keys_gradcheck_getitem_and_setitem(key):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 4, 3)), requires_grad=True)
    selection = tuple(torch.zeros(2, 3, 4, 3)[key(torch)].shape)
    v = mg.tensor(rng.standard_normal(selection), requires_grad=True)
    assert mg.gradcheck(lambda t: t[key(mg)], [x])
    assert mg.gradcheck(lambda t, u: mg.ops.index_put(t, key(mg), u), [x, v])


@pytest.mark.parametrize("call", [
    lambda lib, x, i: x.index_select(0, i([5])),
    lambda lib, x, i: x.index_select(0, i([-1])),  # no negative index (torch: IndexError on dim 0, another class on 1)
    lambda lib, x, i: lib.take(x, i([12])),
    lambda lib, x, i: lib.take(x, i([-13])),
    lambda lib, x, i: x.gather(1, i([[4]] * 3)),
    lambda lib, x, i: x.gather(0, i([[-1] * 4])),          # neither do gather and the scatters
    lambda lib, x, i: x.scatter(0, i([[3, 0, 0, 0]]), 1.0),
    lambda lib, x, i: x.scatter_add(1, i([[-1]] * 3), lib.ones(3, 1)),
    lambda lib, x, i: x.scatter_reduce(1, i([[4]] * 3), lib.ones(3, 1), "amax"),
    lambda lib, x, i: lib.take_along_dim(x, i([-1])),
    lambda lib, x, i: x[i([3])],
    lambda lib, x, i: x[:, i([-5])],
], ids=["index_select", "index_select-negative", "take", "take-below", "gather", "gather-negative", "scatter",
        "scatter_add-negative", "scatter_reduce", "take_along_dim-flat-negative", "getitem", "getitem-below"])
def test_indices_out_of_range_raise_torchs_exception_class(call):
    def run(lib):
        x = lib.zeros(3, 4)
        with pytest.raises(Exception) as raised:
            call(lib, x, lambda values: lib.tensor(values))
        return raised.type
    assert run(mg) is run(torch)


def test_negative_indices_where_torch_takes_them():
    x = np.arange(12.0).reshape(3, 4)
    for call in (lambda lib, t: t[lib.tensor([-1, -3])], lambda lib, t: lib.take(t, lib.tensor([-12, -1])),
                 lambda lib, t: lib.take_along_dim(t, lib.tensor([[-1], [-4], [0]]), 1)):
        np.testing.assert_array_equal(call(mg, mg.tensor(x)).numpy(), call(torch, torch.tensor(x)).numpy())
