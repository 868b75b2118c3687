"""PyTorch's calling habits: keyword names (input=, other=, ...), out=, div's rounding_mode,
Tensor.sum_to_size, and randomness (unseeded runs differ, manual_seed reproduces)."""
import inspect
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops.base import TAKES_OUT

torch = pytest.importorskip("torch")


def test_keyword_names_as_torch():
    a, b = mg.tensor([[1.0, 2.0], [3.0, 4.0]]), mg.tensor([[0.5, -1.0], [2.0, 1.0]])
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    calls = [
        lambda lib, x, y: lib.matmul(input=x, other=y), lambda lib, x, y: lib.add(input=x, other=y, alpha=2),
        lambda lib, x, y: lib.sub(x, other=y, alpha=3), lambda lib, x, y: lib.mul(input=x, other=y),
        lambda lib, x, y: lib.div(input=x, other=y), lambda lib, x, y: lib.pow(input=x, exponent=y),
        lambda lib, x, y: lib.mm(input=x, mat2=y), lambda lib, x, y: lib.maximum(input=x, other=y),
        lambda lib, x, y: lib.where(x > 1, input=x, other=y), lambda lib, x, y: lib.sum(input=x, dim=1),
        lambda lib, x, y: lib.clamp(input=x, min=1.5), lambda lib, x, y: lib.exp(input=x),
        lambda lib, x, y: lib.cat(tensors=[x, y], dim=1), lambda lib, x, y: lib.gather(input=x, dim=1,
                                                                                       index=lib.tensor([[1], [0]])),
        lambda lib, x, y: x.add(other=y), lambda lib, x, y: x.matmul(other=y), lambda lib, x, y: x.sum(dim=0),
        lambda lib, x, y: lib.dot(input=x[0], tensor=y[0]), lambda lib, x, y: lib.outer(input=x[0], vec2=y[0]),
    ]
    for call in calls:
        np.testing.assert_allclose(call(mg, a, b).numpy(), call(torch, ta, tb).numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="both"):
        mg.add(a=a, input=a, other=b)


def test_out_as_torch():
    a, b = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([4.0, 5.0, 6.0])
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    for name, args in [("add", (0,)), ("sub", (0,)), ("mul", (0,)), ("div", (0,)), ("exp", ()), ("log", ()),
                       ("maximum", (0,))]:
        def call(lib, x, y, **kw):
            return getattr(lib, name)(x, *((y,) if args else ()), **kw)
        out, their_out = mg.empty(3), torch.empty(3)
        assert call(mg, a, b, out=out) is out
        call(torch, ta, tb, out=their_out)
        np.testing.assert_allclose(out.numpy(), their_out.numpy(), rtol=1e-6, err_msg=name)
    m, tm = mg.tensor([[1.0, 5.0], [3.0, 2.0]]), torch.tensor([[1.0, 5.0], [3.0, 2.0]])
    for call in [lambda lib, x, o: lib.sum(x, 1, out=o), lambda lib, x, o: lib.mean(x, 0, out=o),
                 lambda lib, x, o: lib.matmul(x, x, out=o), lambda lib, x, o: lib.cat([x, x], out=o),
                 lambda lib, x, o: lib.stack([x, x], 1, out=o), lambda lib, x, o: lib.zeros(2, 3, out=o),
                 lambda lib, x, o: lib.ones((2,), out=o), lambda lib, x, o: lib.arange(0.0, 5.0, 0.5, out=o),
                 lambda lib, x, o: lib.amax(x, 1, out=o)]:
        out, their_out = mg.empty(0), torch.empty(0)
        call(mg, m, out), call(torch, tm, their_out)
        assert out.shape == tuple(their_out.shape)
        np.testing.assert_allclose(out.numpy(), their_out.numpy())
    values, indices = mg.empty(0), mg.empty(0, dtype=mg.int64)
    got = mg.max(m, 1, out=(values, indices))
    assert got.values is values and got.indices is indices and indices.tolist() == [1, 0]
    assert values.tolist() == torch.max(tm, 1).values.tolist()


def test_out_is_resized_with_a_warning_or_refused_as_torch():
    out = mg.zeros(2)
    version = out._version
    with pytest.warns(UserWarning, match="resized"):
        mg.add(mg.ones(3), 1, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0] and out._version > version
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.add(mg.ones(3), 1, out=mg.empty(0))  # an empty out is resized silently
    with pytest.raises(RuntimeError, match="can't be cast"):
        mg.add(mg.ones(2), 1, out=mg.zeros(2, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        mg.add(mg.ones(2, requires_grad=True), 1, out=mg.zeros(2))
    with mg.no_grad():
        mg.add(mg.ones(2, requires_grad=True), 1, out=mg.zeros(2))
    with pytest.raises(TypeError, match="'out' must be Tensor"):
        mg.add(mg.ones(2), 1, out=np.zeros(2))


def test_out_where_torch_has_it():
    """Every function minigrad gives out= has an out= overload in torch's operator schemas."""
    for name in sorted(TAKES_OUT):
        assert hasattr(mg, name), name
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + name)
        # an out= overload writes into keyword-only arguments (out, or values/indices for sort, max, ...)
        assert any(a.kwarg_only and a.alias_info is not None and a.alias_info.is_write
                   for s in schemas for a in s.arguments), name


@given(a=st.lists(st.integers(-20, 20), min_size=1, max_size=6), b=st.integers(-7, 7).filter(bool),
       mode=st.sampled_from(["trunc", "floor"]), floating=st.booleans())
def test_div_rounding_mode_as_torch(a, b, mode, floating):
    dtype = np.float32 if floating else np.int64
    x, y = np.array(a, dtype), np.array([b] * len(a), dtype)
    ours = mg.div(mg.tensor(x), mg.tensor(y), rounding_mode=mode)
    theirs = torch.div(torch.tensor(x), torch.tensor(y), rounding_mode=mode)
    assert ours.tolist() == theirs.tolist() and str(ours.dtype) == str(theirs.dtype).replace("torch", "minigrad")
    assert mg.tensor(x).div(mg.tensor(y), rounding_mode=mode).tolist() == theirs.tolist()


def test_div_rounding_mode_gradient_and_errors():
    x = mg.tensor([5.0, -7.0], dtype=mg.float64, requires_grad=True)
    y = mg.div(x, 2, rounding_mode="floor")
    assert y.tolist() == [2.0, -4.0] and y.grad_fn.name() == "DivBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]  # a step function, as torch's derivative
    assert mg.gradcheck(lambda t: mg.div(t, 3.0, rounding_mode="trunc"), [mg.tensor([0.5, 1.7], dtype=mg.float64,
                                                                                   requires_grad=True)])
    with pytest.raises(RuntimeError, match="rounding_mode"):
        mg.div(x, 2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        mg.div(mg.tensor([1]), 0, rounding_mode="trunc")
    z = mg.tensor([7.0, -7.0])
    z.div_(2, rounding_mode="trunc")
    assert z.tolist() == [3.0, -3.0]


def test_sum_to_size_as_torch():
    x = np.arange(24.0).reshape(2, 3, 4)
    for size in [(1, 3, 1), (3, 4), (4,), (2, 1, 4), (1,), ()]:
        np.testing.assert_allclose(mg.tensor(x).sum_to_size(size).numpy(), torch.tensor(x).sum_to_size(size).numpy())
    assert mg.tensor(x).sum_to_size(3, 1).shape == (3, 1)
    with pytest.raises(RuntimeError, match="not expandable"):
        mg.tensor(x).sum_to_size(2)
    t = mg.tensor(x, requires_grad=True)
    assert mg.gradcheck(lambda v: v.sum_to_size(1, 3, 1), [t])


def _draws(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-c", "import minigrad as mg\n" + code], capture_output=True, text=True,
                          env=env, check=True).stdout


def test_unseeded_runs_differ_and_manual_seed_reproduces():
    program = "print(mg.randn(4).tolist(), mg.nn.Linear(2, 2).weight.tolist(), mg.randperm(10).tolist())"
    assert _draws(program) != _draws(program)
    seeded = "mg.manual_seed(7)\n" + program
    assert _draws(seeded) == _draws(seeded)
    mg.manual_seed(3)
    first = mg.rand(5).tolist()
    assert mg.initial_seed() == 3
    mg.manual_seed(3)
    assert mg.rand(5).tolist() == first
    chosen = mg.seed()
    assert mg.initial_seed() == chosen and 0 <= chosen < 2 ** 64
    mg.manual_seed(-1)  # torch accepts a negative seed
    with pytest.raises(TypeError):
        mg.manual_seed(1.5)


def test_keyword_wrappers_keep_signatures_and_docs():
    assert mg.add.__doc__ == mg.ops.add.__doc__ and mg.add.__wrapped__ is mg.ops.add
    assert list(inspect.signature(mg.matmul).parameters) == ["a", "b"]
