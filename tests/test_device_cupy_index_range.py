"""Integer indices out of range on a GPU: CuPy does not check them, it wraps them around
(its documentation, "Differences between CuPy and NumPy"), so every op that indexes with
user-given integers checks their range itself, queued on the device and raised at the next
read (``backend.defer_check``), with PyTorch's exception class and message; on the CPU the
same error is raised at once. In-range (and, where PyTorch takes them, negative) indices
give the CPU's answer, and no op reads from the device. Runs where ``import cupy`` finds
CuPy or the stand-in (``tests/test_device_standin.py`` arranges the stand-in)."""
import numpy as np
import pytest

import cupy
import minigrad as mg
import minigrad.functional as F
from minigrad import backend

STANDIN = getattr(cupy, "STANDIN", False)
DATA = np.arange(12, dtype=np.float32).reshape(3, 4) - 5


@pytest.fixture(autouse=True)
def nothing_left_queued():
    backend._deferred.clear()  # checks an earlier test queued and never read
    yield
    backend._deferred.clear()


def reads():
    """Reads from the device since the last reset: copies, scalars, implicit syncs."""
    if not STANDIN:
        return 0
    totals = cupy._counts.totals()
    return totals["d2h"] + totals["scalar"] + totals["sync"]


def x_on(device):
    return mg.tensor(DATA, device=device)


def ix(values, device):
    return mg.tensor(values, dtype=mg.int64, device=device)


def put(x, index, value):
    y = x.clone()
    y[index] = value
    return y


def unpool(device, where):
    values = mg.ones(1, 1, 1, 2, device=device)
    return F.max_unpool2d(values, ix(np.reshape(where, (1, 1, 1, 2)), device), 2, output_size=(2, 4))


# (name, op(device, index values) → Tensor, out-of-range index values, exception, message)
CASES = [
    ("getitem", lambda d, i: x_on(d)[ix(i, d)], [0, 5], IndexError,
     "getitem: index 5 is out of bounds for dimension 0 with size 3"),
    ("getitem, below -size", lambda d, i: x_on(d)[ix(i, d)], [-4, 1], IndexError,
     "getitem: index -4 is out of bounds for dimension 0 with size 3"),
    ("getitem, second dim", lambda d, i: x_on(d)[1:, ix(i, d)], [3, 4], IndexError,
     "getitem: index 4 is out of bounds for dimension 1 with size 4"),
    ("getitem, after an ellipsis", lambda d, i: x_on(d)[..., ix(i, d)], [-5], IndexError,
     "getitem: index -5 is out of bounds for dimension 1 with size 4"),
    ("setitem", lambda d, i: put(x_on(d), ix(i, d), 1.0), [3], IndexError,
     "setitem: index 3 is out of bounds for dimension 0 with size 3"),
    ("setitem, a tuple key", lambda d, i: put(x_on(d), (ix([0, 1], d), ix(i, d)), 1.0), [1, 9], IndexError,
     "setitem: index 9 is out of bounds for dimension 1 with size 4"),
    ("index_put", lambda d, i: mg.ops.index_put(x_on(d), ix(i, d), mg.zeros(4, device=d)), [7], IndexError,
     "setitem: index 7 is out of bounds for dimension 0 with size 3"),
    ("index_select", lambda d, i: x_on(d).index_select(1, ix(i, d)), [0, 4], IndexError,
     "index_select: index 4 is out of range for dimension 1 with size 4"),
    ("index_select, negative", lambda d, i: x_on(d).index_select(0, ix(i, d)), [-1], IndexError,
     "index_select: index -1 is out of range for dimension 0 with size 3"),
    ("take", lambda d, i: x_on(d).take(ix(i, d)), [[0, 12]], IndexError,
     "take: index 12 is out of range for a tensor of 12 elements"),
    ("take, below -numel", lambda d, i: mg.take(x_on(d), ix(i, d)), [-13], IndexError,
     "take: index -13 is out of range for a tensor of 12 elements"),
    ("gather", lambda d, i: x_on(d).gather(1, ix(i, d)), [[0], [4], [1]], RuntimeError,
     "gather: index 4 is out of bounds for dimension 1 with size 4"),
    ("gather, negative", lambda d, i: mg.gather(x_on(d), 0, ix(i, d)), [[-1, 0, 0, 0]], RuntimeError,
     "gather: index -1 is out of bounds for dimension 0 with size 3"),
    ("scatter", lambda d, i: x_on(d).scatter(0, ix(i, d), 1.0), [[3, 0, 0, 0]], RuntimeError,
     "scatter: index 3 is out of bounds for dimension 0 with size 3"),
    ("scatter_", lambda d, i: x_on(d).scatter_(1, ix(i, d), mg.ones(3, 1, device=d)), [[0], [-2], [0]],
     RuntimeError, "scatter: index -2 is out of bounds for dimension 1 with size 4"),
    ("scatter_add", lambda d, i: x_on(d).scatter_add(1, ix(i, d), mg.ones(3, 1, device=d)), [[0], [1], [6]],
     RuntimeError, "scatter_add: index 6 is out of bounds for dimension 1 with size 4"),
    ("scatter_reduce", lambda d, i: x_on(d).scatter_reduce(0, ix(i, d), mg.ones(1, 4, device=d), "amax"),
     [[0, 3, 0, 0]], RuntimeError, "scatter_reduce: index 3 is out of bounds for dimension 0 with size 3"),
    ("take_along_dim", lambda d, i: mg.take_along_dim(x_on(d), ix(i, d), 1), [[0], [4], [0]], RuntimeError,
     "take_along_dim: index 4 is out of bounds for dimension 1 with size 4"),
    ("take_along_dim, flattened", lambda d, i: mg.take_along_dim(x_on(d), ix(i, d)), [-1], RuntimeError,
     "take_along_dim: index -1 is out of bounds for dimension 0 with size 12"),
    ("max_unpool2d", unpool, [1, 8], RuntimeError,
     r"max_unpool2d: found an invalid max index 8 \(output planes are of size 2x4\)"),
]


@pytest.mark.parametrize("name, op, bad, error, message", CASES, ids=[c[0] for c in CASES])
def test_an_index_out_of_range_raises_at_once_on_the_cpu(name, op, bad, error, message):
    with pytest.raises(error, match=message):
        op("cpu", bad)


@pytest.mark.parametrize("name, op, bad, error, message", CASES, ids=[c[0] for c in CASES])
def test_an_index_out_of_range_raises_at_the_next_read_on_the_device(name, op, bad, error, message):
    if STANDIN:
        cupy._counts.reset()
    out = op("cuda", bad)  # queued: the op itself neither raises nor waits for the device
    assert reads() == 0, cupy._counts.counts()
    assert backend._deferred
    with pytest.raises(error, match=message):
        out.numpy()
    assert not backend._deferred  # read once, then forgotten: the next read is clean
    assert np.isfinite(x_on("cuda").sum().item())


def test_the_error_comes_with_any_read_from_the_device():
    picked = x_on("cuda")[ix([0, 3], "cuda")]
    total = x_on("cuda").sum() * 2  # not made from the bad index
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        total.item()
    assert picked.shape == (2, 4)


# (name, op(device, index values) → Tensor, in-range index values, negative ones included where torch takes them)
GOOD = [
    ("getitem", lambda d, i: x_on(d)[ix(i, d)], [2, -3, -1, 0]),
    ("getitem, mixed key", lambda d, i: x_on(d)[1, :, None][ix(i, d)], [[-4, 3], [0, 1]]),
    ("setitem", lambda d, i: put(x_on(d), (slice(None), ix(i, d)), 0.5), [-1, 0, -4]),
    ("index_select", lambda d, i: x_on(d).index_select(1, ix(i, d)), [3, 0, 3]),
    ("take", lambda d, i: x_on(d).take(ix(i, d)), [[-12, 11], [-1, 0]]),
    ("gather", lambda d, i: x_on(d).gather(1, ix(i, d)), [[3, 3], [0, 1], [2, 0]]),
    ("scatter", lambda d, i: x_on(d).scatter(0, ix(i, d), 9.0), [[2, 1, 0, 2]]),
    ("scatter_add", lambda d, i: x_on(d).scatter_add(1, ix(i, d), mg.ones(3, 2, device=d)), [[0, 0], [3, 1], [2, 2]]),
    ("take_along_dim", lambda d, i: mg.take_along_dim(x_on(d), ix(i, d), 1), [[-1], [0], [-4]]),
    ("take_along_dim, flattened", lambda d, i: mg.take_along_dim(x_on(d), ix(i, d)), [11, 0, 5]),
    ("max_unpool2d", unpool, [7, 0]),
] + [(f"scatter_reduce {reduce}{'' if include_self else ', include_self=False'}",
      lambda d, i, r=reduce, s=include_self: x_on(d).scatter_reduce(
          0, ix(i, d), mg.tensor(np.arange(8.0, dtype=np.float32).reshape(2, 4) - 3, device=d), r, include_self=s),
      [[2, 0, 0, 2], [2, 2, 1, 2]])
     for reduce in ("sum", "mean", "amax", "amin") for include_self in (True, False)]


@pytest.mark.parametrize("name, op, good", GOOD, ids=[c[0] for c in GOOD])
def test_indices_in_range_give_the_cpus_answer_without_a_read(name, op, good):
    cpu = op("cpu", good).numpy()
    if STANDIN:
        cupy._counts.reset()
    gpu = op("cuda", good)
    assert reads() == 0, cupy._counts.counts()
    np.testing.assert_array_equal(gpu.numpy(), cpu)  # the read raises if a queued check failed


def test_gradients_through_checked_indices_match_the_cpu():
    def grads(device):
        x = mg.tensor(DATA, requires_grad=True, device=device)
        index = ix([[3, -1], [0, 1], [2, 0]], device)
        loss = (x[ix([-1, 0, 0], device)].sum() + x.gather(1, index.abs()).sum() + mg.take_along_dim(x, index, 1).sum()
                + x.scatter_reduce(1, index.abs(), x[:, :2] * 2, "mean").sum())
        loss.backward()
        return x.grad.numpy()
    np.testing.assert_array_equal(grads("cuda"), grads("cpu"))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "bool"])
def test_scatter_add_of_integers_matches_the_cpu(dtype):
    """CuPy's scatter_add has no int64 (or narrower) kernel: minigrad adds int64 as uint64
    and narrower types through int32, with the CPU's result, overflow included."""
    start = np.array([[0, 1, 2], [3, 4, 5]]).astype(dtype)
    src = np.array([[1, 1], [0, 1]]).astype(dtype) if dtype == "bool" else np.array([[-7, 2**14], [5, 1]]).astype(dtype)

    def make(device):
        return mg.tensor(start, device=device).scatter_add(1, ix([[2, 2], [0, 1]], device),
                                                          mg.tensor(src, device=device)).numpy()
    np.testing.assert_array_equal(make("cuda"), make("cpu"))


def test_scatter_reduce_keeps_nans_and_reads_only_for_prod():
    x = np.array([1.0, np.nan, 3.0, 4.0], dtype=np.float32)
    src = np.array([np.nan, 5.0, 0.5, 2.0], dtype=np.float32)
    index = [0, 1, 2, 2]
    for reduce in ("amax", "amin", "prod"):
        cpu = mg.tensor(x).scatter_reduce(0, ix(index, "cpu"), mg.tensor(src), reduce).numpy()
        inputs = mg.tensor(x, device="cuda"), ix(index, "cuda"), mg.tensor(src, device="cuda")
        if STANDIN:
            cupy._counts.reset()
        gpu = inputs[0].scatter_reduce(0, inputs[1], inputs[2], reduce)
        # prod has no CuPy kernel: it goes through the host (a read, which waits for the device)
        assert (reads() > 0) == (reduce == "prod" and STANDIN), cupy._counts.counts()
        np.testing.assert_array_equal(gpu.numpy(), cpu)


@pytest.mark.skipif(not STANDIN, reason="checks the stand-in itself")
def test_the_standin_wraps_out_of_range_indices_as_cupy_does():
    import cupyx
    a = cupy.arange(3)
    assert a[cupy.asarray([1, 3, -4])].tolist() == [1, 0, 2]
    assert cupy.take(a, cupy.asarray([5])).tolist() == a.take(cupy.asarray([5])).tolist() == [2]
    b = cupy.zeros((2, 3))
    b[..., cupy.asarray([3])] = 7
    assert b[:, 0].tolist() == [7, 7]
    c = cupy.zeros(3, dtype=np.float32)
    cupyx.scatter_add(c, cupy.asarray([3, 3]), cupy.ones(2, dtype=np.float32))
    assert c.tolist() == [2, 0, 0]
    with pytest.raises(TypeError, match="scatter_add only supports"):
        cupyx.scatter_add(cupy.zeros(3, dtype=np.int64), cupy.asarray([0]), cupy.ones(1, dtype=np.int64))
    with pytest.raises(IndexError):  # a plain int is checked on the host, as CuPy does
        a[3]
