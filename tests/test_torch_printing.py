"""A tensor looks as it does in PyTorch: repr (numbers, summarisation, suffixes), Size,
dtypes, format(), grad_fn and its next_functions, and the checks on assigning .grad."""
import pickle

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(0)
ARRAYS = {
    "0-d int": np.array(3), "0-d float": np.array(2.5), "0-d tiny": np.array(1e-9), "0-d negative zero": np.array(-0.0),
    "0-d bool": np.array(True), "int matrix": np.arange(12).reshape(3, 4), "large ints": np.array([-1, 2 ** 40]),
    "2000 ints": np.arange(2000).reshape(40, 50), "4x12 floats": _rng.standard_normal((4, 12)).astype(np.float32),
    "3-d float64": _rng.standard_normal((2, 3, 4)), "span > 1000": np.array([1e10, 1.0, 3]),
    "small": np.array([1e-5, 1]), "nan inf": np.array([np.nan, np.inf, -np.inf, 1.5]), "nan": np.array([np.nan, 2.0]),
    "empty 2-d": np.zeros((0, 3)), "empty": np.zeros(0), "empty int64": np.zeros(0, np.int64),
    "empty int32": np.zeros((2, 0), np.int32), "bool": np.array([True, False]),
    "1001 floats": _rng.standard_normal(1001).astype(np.float32),
    "2400 floats": _rng.standard_normal((30, 40, 2)).astype(np.float32), "1e5": np.array([100000.0, 2.0]),
    "1e8": np.array([123456789.0, 1.0]), "whole floats": np.array([1.0, 2.0, 3.0]),
    "int32": np.arange(5, dtype=np.int32), "uint8": np.arange(5, dtype=np.uint8),
    "float16": np.array([0.1, 0.2], np.float16), "wide floats": (_rng.standard_normal(200) * 1e3).astype(np.float32),
    "zeros": np.zeros((3, 3)), "1e-3 and 5": np.array([[1e-3, 5.0]]), "4-d": np.ones((2, 2, 2, 2)),
    "1200 ints in 3-d": np.arange(1200).reshape(2, 3, 200),
}


def torch_repr(value):
    return repr(value).replace("torch.", "minigrad.")


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_repr_is_torch_repr(name):
    array = ARRAYS[name]
    assert repr(mg.tensor(array)) == torch_repr(torch.from_numpy(array.copy()))
    assert str(mg.tensor(array)) == repr(mg.tensor(array))


def test_repr_suffixes_grad_fn_and_requires_grad():
    ours, theirs = mg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    assert repr(ours) == torch_repr(theirs) == "tensor([1., 1.], requires_grad=True)"
    assert repr(ours * 2) == torch_repr(theirs * 2) == "tensor([2., 2.], grad_fn=<MulBackward0>)"
    assert repr((ours + 1).sum()) == torch_repr((theirs + 1).sum())
    assert repr(ours.double() * 2) == "tensor([2., 2.], dtype=minigrad.float64, grad_fn=<MulBackward0>)"
    with mg.no_grad():
        assert repr(ours * 2) == "tensor([2., 2.])"


def test_set_printoptions_as_torch():
    x = np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6)  # float32: no dtype= suffix, whose length differs
    try:
        for options in ({"precision": 2}, {"threshold": 5}, {"edgeitems": 1, "threshold": 5}, {"profile": "short"},
                        {"sci_mode": True}, {"linewidth": 40}):
            mg.set_printoptions(**options)
            torch.set_printoptions(**options)
            assert repr(mg.tensor(x)) == torch_repr(torch.tensor(x)), options
            mg.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    finally:
        mg.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_size_is_a_tuple_that_prints_as_torch():
    x = mg.zeros(3, 4)
    assert isinstance(x.shape, mg.Size) and isinstance(x.shape, tuple) and x.size() == x.shape == (3, 4)
    assert repr(x.shape) == str(x.shape) == f"{x.shape}" == "minigrad.Size([3, 4])" == torch_repr(torch.zeros(3, 4).shape)
    assert repr(mg.tensor(1.0).shape) == "minigrad.Size([])"
    assert isinstance(x.shape[1:], mg.Size) and x.shape[1:] == (4,) and x.shape[-1] == 4
    assert x.shape + (1,) == (3, 4, 1) and isinstance(x.shape + (1,), mg.Size)
    assert isinstance((1,) + x.shape, mg.Size) and x.shape.numel() == 12 and x.size(1) == 4
    assert pickle.loads(pickle.dumps(x.shape)) == (3, 4)


def test_dtypes_print_as_torch_and_stay_numpy_dtypes():
    x = mg.zeros(2)
    assert str(x.dtype) == repr(mg.float32) == "minigrad.float32" == torch_repr(torch.float32)
    assert x.dtype is mg.float32 and x.dtype == mg.float32 and x.dtype == np.float32 and np.float32 == x.dtype
    assert x.dtype == np.dtype("float32") and np.dtype("float32") == x.dtype and x.dtype == "float32"
    assert x.dtype != mg.float64 and x.dtype != None and mg.float64 != None  # noqa: E711 (np.dtype(None) is float64)
    assert np.dtype(x.dtype) == np.float32 and np.zeros(2, dtype=mg.int64).dtype == np.int64
    assert {np.dtype("float32"): 1}[x.dtype] == 1 and {mg.float32: 1}[np.dtype("float32")] == 1
    assert mg.tensor([1, 2]).numpy().astype(mg.float64).dtype == np.float64
    assert x.dtype.is_floating_point and not mg.int64.is_floating_point and mg.int64.is_signed
    assert x.dtype.itemsize == 4 and x.dtype.kind == "f"
    assert pickle.loads(pickle.dumps(mg.int32)) is mg.int32
    assert [str(d) for d in (mg.float16, mg.float64, mg.int8, mg.uint8, mg.int16, mg.int32, mg.bool)] == \
        [torch_repr(d) for d in (torch.float16, torch.float64, torch.int8, torch.uint8, torch.int16, torch.int32,
                                 torch.bool)]


def test_format_of_0d_tensors_as_torch():
    for value in (mg.tensor(1), mg.tensor(2.0), mg.tensor(0.123456), mg.tensor(True)):
        twin = torch.tensor(value.item())
        for spec in ("", ".2f", ">6", ".3e"):
            if spec in (".2f", ".3e") and value.dtype == mg.bool:
                continue
            assert format(value, spec) == format(twin, spec), (value, spec)
    assert f"{mg.tensor(1)}" == "1" and "{:.2f}".format(mg.tensor(2.0)) == "2.00"
    assert f"{mg.tensor([1, 2])}" == "tensor([1, 2])"
    with pytest.raises(TypeError):
        format(mg.tensor([1.0, 2.0]), ".2f")


def test_grad_fn_and_next_functions_as_torch():
    a, b = mg.ones(3, requires_grad=True), mg.ones(3)
    y = (a * b + 1).sum()
    ta, tb = torch.ones(3, requires_grad=True), torch.ones(3)
    ty = (ta * tb + 1).sum()

    def names(fn):  # the graph as nested names, None where torch has None
        if fn is None:
            return None
        return type(fn).__name__, [(names(f), i) for f, i in fn.next_functions]
    assert names(y.grad_fn) == names(ty.grad_fn)
    assert a.grad_fn is None and b.grad_fn is None and y.grad_fn == y.grad_fn
    leaf = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert leaf.variable is a and leaf.name() == "torch::autograd::AccumulateGrad" and leaf.next_functions == ()
    assert repr(y.grad_fn).startswith("<SumBackward0 object at 0x") and y.grad_fn.name() == "SumBackward0"
    assert isinstance(y.grad_fn, type((a * 2).sum().grad_fn)) and not isinstance(y.grad_fn, type((a * 2).grad_fn))
    assert not y.is_leaf and a.is_leaf and y.requires_grad


def test_assigning_grad_checks_as_torch():
    a, t = mg.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    for bad, error in ((0.0, TypeError), (np.zeros(3), TypeError), ("x", TypeError)):
        with pytest.raises(error, match="assigned grad expected to be a Tensor or None"):
            a.grad = bad
        with pytest.raises(error, match="assigned grad expected to be a Tensor or None"):
            t.grad = bad if not isinstance(bad, np.ndarray) else bad
    with pytest.raises(RuntimeError, match="size"):
        a.grad = mg.zeros(4)
    with pytest.raises(RuntimeError, match="dtype"):
        a.grad = mg.zeros(3, dtype=mg.float64)
    a.grad = mg.ones(3)
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    a.grad = None
    assert a.grad is None
