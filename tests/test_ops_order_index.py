"""Order statistics (median, nanmedian, kthvalue) and the index writes (index_add, index_copy,
index_fill and their in-place forms): values, indices, dtypes and error classes against
torch where it is installed, every VJP gradchecked in float64 on hypothesis shapes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from torch_twins import raises_as_torch, torch_or_skip

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def distinct(shape, seed):
    """Distinct values (a shuffled range): order statistics have one answer, ties none."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 3 - 2


def with_nans(shape, seed):
    data = np.random.default_rng(seed).integers(-3, 4, shape).astype(np.float64)
    data[np.random.default_rng(seed + 1).random(shape) < 0.3] = np.nan
    return data


def same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- median, nanmedian, kthvalue ----------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_order_statistics_match_torch(shape, seed, data):
    torch = torch_or_skip()
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    k = data.draw(st.integers(1, shape[dim]))
    tied = with_nans(shape, seed)
    for array in (distinct(shape, seed), tied):
        x, t = mg.tensor(array), torch.tensor(array)
        same(mg.median(x), torch.median(t))
        same(mg.nanmedian(x), torch.nanmedian(t))
        for ours, theirs in ((x.median(dim, keepdim), t.median(dim, keepdim)),
                             (x.nanmedian(dim, keepdim), t.nanmedian(dim, keepdim)),
                             (mg.kthvalue(x, k, dim, keepdim=keepdim), torch.kthvalue(t, k, dim, keepdim=keepdim))):
            same(ours.values, theirs.values)
            if array is not tied:  # distinct values: one right index
                same(ours.indices, theirs.indices)
            else:  # ties may take any of their indices (torch promises none): it must hold the value
                kept = ours.indices if keepdim else ours.indices.unsqueeze(dim)
                picked = np.take_along_axis(array, kept.numpy(), dim)
                np.testing.assert_array_equal(picked if keepdim else picked.squeeze(dim), ours.values.numpy())


def test_median_is_the_lower_one_and_keeps_integer_dtypes():
    torch = torch_or_skip()
    for values in ([1, 2, 3, 4], [[1, 5], [2, 3]]):
        same(mg.median(mg.tensor(values)), torch.median(torch.tensor(values)))
        same(mg.median(mg.tensor(values), 0).values, torch.median(torch.tensor(values), 0).values)
    assert mg.median(mg.tensor([1.0, 2.0, 3.0, 4.0])).item() == 2.0
    result = mg.tensor([[3.0, 1.0, 2.0]]).median(dim=1)
    assert result.values.tolist() == [2.0] and result.indices.tolist() == [2]
    assert type(result).__name__ == "median"
    values, indices = mg.kthvalue(mg.tensor([5.0, 1.0, 4.0]), 3)
    assert values.item() == 5.0 and indices.item() == 0
    assert mg.median(mg.tensor(5.0), 0).indices.item() == 0
    assert np.isnan(mg.median(mg.zeros(2, 0)).item())
    assert mg.median(mg.tensor([], dtype=mg.int64)).item() == torch.median(torch.tensor([], dtype=torch.int64)).item()
    assert mg.median(mg.zeros(0, 3), 1).values.shape == (0,)
    assert mg.nanmedian(mg.tensor([[np.nan, np.nan], [1.0, 2.0]]), 1).indices.tolist() == [0, 0]


@pytest.mark.parametrize("call", [lambda m: m.median(m.zeros(2, 0), 1), lambda m: m.median(m.zeros(2, 3), 2),
                                  lambda m: m.kthvalue(m.zeros(2, 3), 4, 1), lambda m: m.kthvalue(m.zeros(2, 3), 0),
                                  lambda m: m.median(m.tensor([True, False]))])
def test_order_statistic_errors_are_torchs(call):
    raises_as_torch(call)


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_order_statistic_gradients(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    k = data.draw(st.integers(1, shape[dim]))
    x = mg.tensor(distinct(shape, seed), requires_grad=True)
    assert mg.gradcheck(lambda x: mg.median(x, dim, keepdim).values * 1.5, [x])
    assert mg.gradcheck(lambda x: mg.nanmedian(x, dim, keepdim).values, [x])
    assert mg.gradcheck(lambda x: mg.kthvalue(x, k, dim, keepdim).values, [x])
    assert mg.gradcheck(lambda x: mg.median(x) * 2, [x])


def test_global_median_shares_its_gradient_among_ties_astorch_or_skip():
    torch = torch_or_skip()
    for values in ([1.0, 2.0, 2.0, 3.0], [1.0, np.nan, np.nan], [2.0, 2.0, 2.0, 3.0]):
        for name in ("median", "nanmedian"):
            x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
            getattr(mg, name)(x).backward()
            getattr(torch, name)(t).backward()
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ---- index_add, index_copy, index_fill ---------------------------------------------------------
def _case(data, shape, seed, repeats=True):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    count = data.draw(st.integers(0, 2 * n if repeats else n))
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, count) if repeats else rng.permutation(n)[:count]
    source_shape = list(shape)
    source_shape[dim] = count
    return dim, index.astype(np.int64), rng.uniform(-2, 2, shape), rng.uniform(-2, 2, source_shape)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_index_writes_match_torch(shape, seed, data):
    torch = torch_or_skip()
    dim, index, x, source = _case(data, shape, seed, repeats=False)
    ours = [mg.tensor(a, requires_grad=True) for a in (x, source)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, source)]
    i, ti = mg.tensor(index), torch.tensor(index)
    for fn in (lambda m, a, b, i: m.index_add(a, dim, i, b, alpha=-1.5),
               lambda m, a, b, i: m.index_copy(a, dim, i, b),
               lambda m, a, b, i: a.index_fill(dim, i, 0.25) * b.sum(),
               lambda m, a, b, i: a.index_fill(dim, i, b.sum())):
        y, expected = fn(mg, *ours, i), fn(torch, *theirs, ti)
        np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
        weights = np.random.default_rng(seed).uniform(-1, 1, x.shape)
        grads = torch.autograd.grad((expected * torch.tensor(weights)).sum(), theirs)
        (y * mg.tensor(weights)).sum().backward()
        for mine, reference in zip(ours, grads):
            np.testing.assert_allclose(mine.grad.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)
            mine.grad = None


@settings(max_examples=20, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_index_write_gradients(shape, seed, data):
    dim, index, x, source = _case(data, shape, seed)
    x, source = mg.tensor(x, requires_grad=True), mg.tensor(source, requires_grad=True)
    i = mg.tensor(index)
    value = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda x, s: mg.index_add(x, dim, i, s, alpha=2.0), [x, source])
    assert mg.gradcheck(lambda x, v: mg.index_fill(x, dim, i, v), [x, value])
    unique = mg.tensor(np.unique(index))  # index_copy with a repeated index is undefined
    copied = mg.tensor(source.numpy().take(np.arange(len(np.unique(index))), axis=dim), requires_grad=True)
    assert mg.gradcheck(lambda x, s: mg.index_copy(x, dim, unique, s), [x, copied])


def test_index_writes_in_place_and_on_scalars():
    torch = torch_or_skip()
    x, t = mg.zeros(3, 4), torch.zeros(3, 4)
    for m, a in ((mg, x), (torch, t)):
        a.index_add_(0, m.tensor([0, 2, 0], dtype=m.int32), m.ones(3, 4), alpha=2)
        a.index_fill_(1, m.tensor([-1]), 7)
        a.index_copy_(1, m.tensor([1]), m.full((3, 1), 3.0))
    same(x, t)
    for call in (lambda m: m.tensor(1.0).index_add(0, m.tensor([0]), m.tensor(2.0)),
                 lambda m: m.tensor(1.0).index_copy(0, m.tensor([0]), m.tensor(2.0)),
                 lambda m: m.tensor(1.0).index_fill(0, m.tensor([0]), 3),
                 lambda m: m.zeros(3, dtype=m.long).index_fill(0, m.tensor([0]), 2.5)):
        same(call(mg), call(torch))
    w = mg.zeros(2, 3, requires_grad=True)
    source = mg.ones(2, 1, requires_grad=True)
    y = w * 1
    y.index_add_(1, mg.tensor([2]), source, alpha=3)
    y.sum().backward()
    assert source.grad.tolist() == [[3.0], [3.0]] and w.grad.tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([3]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([-1]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([0.0]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([0, 1]), m.ones(1, 4)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([0]), m.ones(1, 4, dtype=m.float64)),
    lambda m: m.zeros(3, 4).index_add(0, m.tensor([0]), m.ones(1, 3)),
    lambda m: m.zeros(3, 4).index_fill(1, m.tensor([4]), 5),
    lambda m: m.zeros(3, 4).index_fill(1, m.tensor([0]), m.tensor([2.0])),
    lambda m: m.zeros(3, 4).index_copy(1, m.tensor([-1]), m.ones(3, 1)),
    lambda m: m.zeros(3, 4).index_copy(1, m.tensor([0, 3]), m.ones(3, 3)),
    lambda m: m.zeros(3, dtype=m.long).index_add(0, m.tensor([0]), m.ones(1)),
    lambda m: m.zeros(3, 4).index_add(2, m.tensor([0]), m.ones(1, 4)),
    lambda m: m.zeros(3).index_fill(0, m.tensor([1], dtype=m.int32), 2),
    lambda m: m.zeros(3).index_copy(0, m.tensor([1], dtype=m.int32), m.ones(1)),
    lambda m: m.zeros(3).index_copy(0, m.tensor([[1]]), m.ones(1)),
    lambda m: m.zeros(3).index_add(0, m.tensor([[1]]), m.ones(1)),
    lambda m: m.zeros(3).index_fill(0, m.tensor([[1]]), 1)])
def test_index_write_errors_are_torchs(call):
    raises_as_torch(call)
