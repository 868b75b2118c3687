"""The tensor layer speaks PyTorch: the same code, run with ``lib = minigrad`` and with
``lib = torch``, gives the same values, shapes and dtypes (issue 10). The cases that
used to give a silent wrong answer come first, as regression tests; then the version
counter that guards in-place changes; then the names; then gradchecks of the new ops.
Comparisons with torch are skipped where torch is not installed."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from torch_twins import raises_as_torch


def torch_or_skip():
    return pytest.importorskip("torch")


def as_numpy(value):
    """A minigrad or torch tensor (or a tuple of them, or a number) as NumPy data."""
    if isinstance(value, tuple):
        return tuple(as_numpy(v) for v in value)
    if isinstance(value, mg.Tensor):
        return value.detach().numpy()
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value)


def dtype_name(value):
    """``float32`` for minigrad.float32 and torch.float32 alike (they print as their library)."""
    return str(value.dtype).replace("torch.", "").replace("minigrad.", "")


def same(fn, rtol=1e-6, check_dtype=True):
    """Run ``fn(lib)`` with minigrad and with torch; the results must agree in value,
    shape and dtype. Returns minigrad's result."""
    torch = torch_or_skip()
    ours, theirs = fn(mg), fn(torch)
    ours_list = list(ours) if isinstance(ours, tuple) else [ours]
    theirs_list = list(theirs) if isinstance(theirs, tuple) else [theirs]
    assert len(ours_list) == len(theirs_list)
    for a, b in zip(ours_list, theirs_list):
        a_np, b_np = as_numpy(a), as_numpy(b)
        assert a_np.shape == b_np.shape, f"shape {a_np.shape} != torch's {b_np.shape}"
        if check_dtype and hasattr(b, "dtype"):
            assert dtype_name(a) == dtype_name(b), f"dtype {a.dtype} != torch's {b.dtype}"
        np.testing.assert_allclose(a_np.astype(np.float64), b_np.astype(np.float64), rtol=rtol, atol=1e-7)
    return ours


def grads(fn, *values, dtype="float64"):
    """fn(lib, *leaves) → a scalar; returns the leaves' gradients in minigrad and in torch."""
    torch = torch_or_skip()
    out = []
    for lib in (mg, torch):
        leaves = [lib.tensor(np.asarray(v, dtype=dtype), requires_grad=True) for v in values]
        fn(lib, *leaves).backward()
        out.append([as_numpy(leaf.grad) for leaf in leaves])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    return out[0]


# ---- the silent wrong answers of issue 10 --------------------------------------------------
def test_transpose_swaps_two_dims():
    x2 = np.arange(6.0).reshape(2, 3)
    x3 = np.arange(24.0).reshape(2, 3, 4)
    assert mg.tensor(x2).transpose(0, 1).shape == (3, 2)
    np.testing.assert_array_equal(mg.tensor(x2).transpose(0, 1).numpy(), x2.T)
    same(lambda lib: lib.tensor(x3).transpose(1, 2))
    same(lambda lib: lib.tensor(x3).transpose(-1, 0))
    same(lambda lib: lib.transpose(lib.tensor(x3), 0, 1))
    same(lambda lib: lib.tensor(x3).permute(2, 0, 1))
    same(lambda lib: lib.tensor(x3).permute((1, 2, 0)))
    same(lambda lib: lib.tensor(x2).T)
    same(lambda lib: lib.tensor(x3).mT)
    same(lambda lib: lib.tensor(x2).t())
    with pytest.raises(RuntimeError, match="permute"):
        mg.tensor(x3).permute(0, 1)


def test_max_with_dim_returns_values_and_indices():
    out = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])  # a batch of exactly 2
    _, pred = mg.tensor(out).max(1)
    assert pred.tolist() == [1, 0] and pred.dtype == np.int64
    result = mg.tensor(out).max(dim=1)
    assert result.values.tolist() == [0.9, 0.8] and result.indices.tolist() == [1, 0]
    assert mg.tensor(out).max().shape == ()
    same(lambda lib: lib.tensor(out).max(1))
    same(lambda lib: lib.tensor(out).min(0, keepdim=True))
    same(lambda lib: lib.max(lib.tensor(out), dim=-1))
    same(lambda lib: lib.tensor(out).max())
    same(lambda lib: lib.max(lib.tensor(out), lib.tensor(out[::-1].copy())))
    same(lambda lib: lib.tensor(out).argmax(1))
    same(lambda lib: lib.tensor(out).argmin())
    same(lambda lib: lib.argmax(lib.tensor(out), dim=0, keepdim=True))


def test_max_gradient_goes_where_torch_sends_it():
    tied = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    grads(lambda lib, x: (x.max(1).values * lib.tensor([1.0, 2.0], dtype=x.dtype)).sum(), tied)
    grads(lambda lib, x: x.max(), tied)               # ties share the gradient
    grads(lambda lib, x: x.amax(dim=1).sum(), tied)
    grads(lambda lib, x: lib.maximum(x, x.flip(1) if lib is not mg else x[:, ::-1]).sum(), tied)


def test_in_place_update_under_no_grad_changes_the_parameter_itself():
    model = mg.nn.Linear(3, 2)
    p = model.weight
    before = p.detach().numpy().copy()
    model(mg.ones(4, 3)).sum().backward()
    with mg.no_grad():
        for q in model.parameters():
            q -= 0.1 * q.grad
    assert model.weight is p and p.is_leaf and p.requires_grad
    np.testing.assert_allclose(p.numpy(), before - 0.1 * p.grad.numpy(), rtol=1e-6)


def test_pow_gradient_at_zero_follows_torch():
    values = [0.0, 1.5, -2.0]
    grads(lambda lib, x: (x ** 0).sum(), values)
    grads(lambda lib, x: (x ** 2).sum(), values)
    grads(lambda lib, b: (0.0 ** b).sum(), [0.0, 1.0, 2.0])
    grads(lambda lib, a, b: (a ** b).sum(), [0.0, 0.0, 2.0], [0.0, 3.0, 2.0])
    g = grads(lambda lib, x: (x ** 0).sum(), [0.0])[0]
    assert g[0] == 0.0


def test_vector_dot_vector_has_shape_empty():
    same(lambda lib: lib.tensor([1.0, 2.0]) @ lib.tensor([3.0, 4.0]))
    assert (mg.tensor([1.0, 2.0]) @ mg.tensor([3.0, 4.0])).shape == ()
    same(lambda lib: lib.matmul(lib.ones(2, 3, 4), lib.ones(4)))
    same(lambda lib: lib.ones(4) @ lib.ones(2, 4, 5))


def test_batched_matmul_with_mismatched_batches_raises():
    with pytest.raises(RuntimeError, match=r"matmul.*2, 3, 4.*5, 4, 2"):
        mg.ones(2, 3, 4) @ mg.ones(5, 4, 2)
    with pytest.raises(RuntimeError, match=r"matmul.*2, 3.*4, 5"):
        mg.ones(2, 3) @ mg.ones(4, 5)


DTYPE_CASES = {
    "int list": lambda lib: lib.tensor([1, 2, 3]),
    "bool list": lambda lib: lib.tensor([True, False]),
    "float list": lambda lib: lib.tensor([1.0, 2.0]),
    "mixed list": lambda lib: lib.tensor([1, 2.5]),
    "int scalar": lambda lib: lib.tensor(3),
    "int * float": lambda lib: lib.tensor([1, 2]) * 2.5,
    "int + int": lambda lib: lib.tensor([1, 2]) + 3,
    "int / int": lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]),
    "int / number": lambda lib: lib.tensor([3, 4]) / 2,
    "int32 + int64 0-d": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(5),
    "float32 * float64 0-d": lambda lib: lib.tensor([1.0]) * lib.tensor(2.0, dtype=lib.float64),
    "float32 + float64": lambda lib: lib.tensor([1.0]) + lib.tensor([2.0], dtype=lib.float64),
    "int64 + float32": lambda lib: lib.tensor([1]) + lib.tensor([0.5]),
    "bool + int": lambda lib: lib.tensor([True, False]) + 1,
    "bool * float": lambda lib: lib.tensor([True, False]) * 1.5,
    "int ** 2": lambda lib: lib.tensor([2, 3]) ** 2,
    "int ** 0.5": lambda lib: lib.tensor([4, 9]) ** 0.5,
    "sum of ints": lambda lib: lib.tensor([1, 2], dtype=lib.int32).sum(),
    "sum of bools": lambda lib: (lib.tensor([1, 2, 3]) > 1).sum(),
    "exp of ints": lambda lib: lib.tensor([0, 1]).exp(),
    "where scalars": lambda lib: lib.where(lib.tensor([True, False]), 4, 2),
    "where float scalars": lambda lib: lib.where(lib.tensor([True, False]), 4.0, 2),
    "comparison": lambda lib: lib.tensor([1, 2]) == lib.tensor([1.0, 3.0]),
    "float accuracy": lambda lib: (lib.tensor([1, 2, 3]) == lib.tensor([1, 0, 3])).float().mean(),
    "arange ints": lambda lib: lib.arange(5),
    "arange floats": lambda lib: lib.arange(0, 1, 0.25),
    "full int": lambda lib: lib.full((2,), 7),
    "full float": lambda lib: lib.full((2, 1), 0.5),
    "long": lambda lib: lib.tensor([1.7, -1.7]).long(),
    "int": lambda lib: lib.tensor([1.7, 2.2]).int(),
    "bool": lambda lib: lib.tensor([0.0, 2.0]).bool(),
    "double": lambda lib: lib.tensor([1, 2]).double(),
    "Tensor class": lambda lib: lib.Tensor([1, 2]),
    "Tensor class bool": lambda lib: lib.Tensor([True]),
}


@pytest.mark.parametrize("name", DTYPE_CASES)
def test_dtype_rules_are_torch_rules(name):
    same(DTYPE_CASES[name])


def test_promotion_of_every_dtype_pair_and_python_number_is_torch():
    """Every pair of dtypes (each as a tensor with dims or 0-d) and every dtype with a
    Python bool, int and float, through +, *, / and ==: minigrad's result dtype is
    torch's wherever torch gives one."""
    torch = torch_or_skip()
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]

    def make(lib, name, zero_d):
        data = [True, False] if name == "bool" else [3, 2]
        return lib.tensor(data[0] if zero_d else data, dtype=getattr(lib, name))

    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a == b]
    tensors = [(name, zero_d) for name in names for zero_d in (False, True)]
    cases = [(a, b) for a in tensors for b in tensors] + \
            [(a, number) for a in tensors for number in (True, 2, 2.5)] + \
            [(number, a) for a in tensors for number in (True, 2, 2.5)]

    def build(lib, operand):
        return make(lib, *operand) if isinstance(operand, tuple) else operand
    checked = 0
    for a, b in cases:
        for op in ops:
            try:
                expected = dtype_name(op(build(torch, a), build(torch, b)))
            except RuntimeError:  # e.g. bool - bool: torch refuses, nothing to compare
                continue
            assert dtype_name(op(build(mg, a), build(mg, b))) == expected, (a, b, expected)
            checked += 1
    assert checked > 1500


def test_cross_entropy_takes_an_int_list():
    logits = mg.tensor([[2.0, 0.5], [0.1, 1.0]])
    assert np.isfinite(mg.functional.cross_entropy(logits, mg.tensor([1, 0])).item())


# ---- in-place ops and the version counter ----------------------------------------------------
def test_changing_a_saved_input_in_place_is_caught_at_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0])
    y = x * w                       # mul saves w for x's gradient
    w.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*mul.*add_.*version 0 → 1"):
        y.sum().backward()


def test_changing_a_saved_output_in_place_is_caught():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()                     # exp's backward reads its output
    with mg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="output.*exp.*mul_"):
        y.sum().backward()


def test_an_op_that_saved_nothing_does_not_mind():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0])
    y = x + w                       # add's gradient does not read w
    w.add_(1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_in_place_on_a_leaf_that_requires_grad():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*in-place"):
        p += 1
    with pytest.raises(RuntimeError, match="leaf"):
        p[0] = 5.0
    with mg.no_grad():
        q = p
        p.mul_(3).add_(1)
        p[1] = 0.0
    assert q is p and p.is_leaf and p.requires_grad and p._version == 3
    np.testing.assert_array_equal(p.numpy(), [4.0, 0.0])


def test_optimizer_step_between_forward_and_backward_raises():
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.Tanh(), mg.nn.Linear(4, 1))
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = model(mg.ones(2, 3)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*SGD.step"):
        loss.backward()


def test_in_place_under_autograd_gives_torch_gradients():
    x0 = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]

    def fn(lib, x):
        y = x * 2
        z = y + 1                   # uses y before it changes: must see the old y
        y.mul_(3)
        y += x
        y[:, 1] = x[:, 0] ** 2      # setitem: column 1 now comes from x[:, 0]
        return (z * z).sum() + (y * y).sum()
    grads(fn, x0)

    def buffer(lib, w):
        out = lib.zeros(2, 3, dtype=w.dtype)
        out[0] = w[1]               # a buffer filled from a graph becomes part of it
        out += w * w
        return (out * out).sum()
    grads(buffer, x0)


def test_a_view_changed_after_it_was_taken_refuses_backward():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = mg.tensor([5.0, 6.0], requires_grad=True)
    y = x * 1
    row = y[0]                      # shares y's memory
    y += w                          # row now holds x[0] + w, which its node knows nothing of
    with pytest.raises(RuntimeError, match="sum: an input.*view.*modified in place by add_"):
        row.sum()
    with pytest.raises(RuntimeError, match="backward: .*view"):
        row.backward(mg.ones(2))
    fresh = y[0]                    # taken after the change: fine
    fresh.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])
    with mg.no_grad():              # a change autograd does not record leaves old views usable, as torch
        y.mul_(2)
    (fresh * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 4.0])


PROGRAM_OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "tanh": lambda a, b: a.tanh(),
    "exp": lambda a, b: (a * 0.1).exp(),
    "clone": lambda a, b: a.clone(),
    "row product": lambda a, b: a[1] * b[0],
}
PROGRAM_IN_PLACE = {
    "+=": lambda a, b: a.__iadd__(b),
    "*=": lambda a, b: a.__imul__(b),
    "sub_": lambda a, b: a.sub_(b, alpha=0.5),
    "div_": lambda a, b: a.div_(b * b + 1),
    "set row": lambda a, b: a.__setitem__(0, b[1]),
    "set mask": lambda a, b: a.__setitem__(b > 0, 0.0),
}


def run_program(lib, program, init):
    """Ops and in-place ops on a growing list of tensors, then backward of Σ‖t‖²."""
    leaves = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    live = [t * 1 for t in leaves]
    for name, i, j in program:
        a, b = live[i % len(live)], live[j % len(live)]
        if name in PROGRAM_OPS:
            live.append(PROGRAM_OPS[name](a, b))
        else:
            PROGRAM_IN_PLACE[name](a, b)
    sum((t * t).sum() for t in live).backward()
    return [leaf.grad.numpy() for leaf in leaves]


@given(program=st.lists(st.tuples(st.sampled_from(sorted(PROGRAM_OPS) + sorted(PROGRAM_IN_PLACE)),
                                  st.integers(0, 7), st.integers(0, 7)), min_size=1, max_size=8),
       seed=st.integers(0, 2**16))
def test_random_programs_with_in_place_ops_match_torch(program, seed):
    """Either both libraries give the same gradients, or both refuse (same error class)."""
    torch_or_skip()
    init = [np.random.default_rng(seed).uniform(-1, 1, (2, 3)) for _ in range(2)]
    outcomes = []
    for lib in (mg, pytest.importorskip("torch")):
        try:
            outcomes.append(run_program(lib, program, init))
        except (RuntimeError, IndexError) as error:
            outcomes.append(type(error))
    ours, theirs = outcomes
    assert type(ours) is type(theirs), f"minigrad: {ours}, torch: {theirs}"
    if isinstance(ours, list):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    else:
        assert ours is theirs


def test_backward_twice_needs_retain_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_versions_are_shared_with_views_but_not_with_data():
    x = mg.zeros(2, 3)
    v, d = x[0], x.detach()
    v.add_(1)
    d[1, 2] = 5.0
    assert x._version == v._version == d._version == 2
    assert x.numpy().tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 5.0]]
    x.data[...] = 7.0               # writing through .data is invisible to autograd, as in PyTorch
    assert x._version == 2 and x.tolist() == [[7.0] * 3] * 2
    x.data.add_(1.0)
    assert x._version == 2 and x.tolist() == [[8.0] * 3] * 2
    assert isinstance(x.data, mg.Tensor) and not x.data.requires_grad
    x.data = np.ones((2, 3), np.float32)
    assert x._version == 2
    x.data = x.data * 2 - mg.ones(2, 3)  # a Tensor assigned to .data gives its memory, as torch
    assert isinstance(x.array, np.ndarray) and x.tolist() == [[1.0] * 3] * 2
    with pytest.raises(TypeError, match="data: expected"):
        x.data = [1.0, 2.0]


def test_in_place_result_must_fit():
    with pytest.raises(RuntimeError, match="can't be cast"):
        i = mg.tensor([1, 2])
        i += 0.5
    with pytest.raises(RuntimeError, match="shape"):
        a = mg.zeros(3)
        a += mg.ones(2, 3)
    e = mg.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        e.add_(1)


def test_in_place_ops_match_torch():
    base = [[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]

    def ops(lib):
        x = lib.tensor(base)
        x.add_(1).sub_(lib.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(0.5).div_(2)
        x.clamp_(-1.0, 0.8)
        y = lib.tensor(base)
        y[y > 0] = 0.0
        y[:, 1] = lib.tensor([7.0, 8.0])
        z = lib.zeros(2, 3).fill_(3.0)
        w = lib.empty(2, 3).copy_(lib.tensor([1.0, 2.0, 3.0]))
        u = lib.ones(2).zero_()
        return x, y, z, w, u
    same(ops)


# ---- names, signatures and errors --------------------------------------------------------------
X = np.array([[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]], dtype=np.float32)

FUNCTIONS = {
    "cat": lambda lib: lib.cat([lib.tensor(X), lib.tensor(X)], dim=1),
    "stack": lambda lib: lib.stack([lib.tensor(X), lib.tensor(X)], dim=-1),
    "exp": lambda lib: lib.exp(lib.tensor(X)),
    "log": lambda lib: lib.log(lib.abs(lib.tensor(X))),
    "sqrt": lambda lib: lib.sqrt(lib.abs(lib.tensor(X))),
    "tanh": lambda lib: lib.tanh(lib.tensor(X)),
    "sigmoid": lambda lib: lib.sigmoid(lib.tensor(X)),
    "relu": lambda lib: lib.relu(lib.tensor(X)),
    "maximum": lambda lib: lib.maximum(lib.tensor(X), lib.tensor([0.0, 0.3, 2.5])),
    "minimum": lambda lib: lib.minimum(lib.tensor(X), lib.tensor(0.1)),
    "clamp": lambda lib: lib.clamp(lib.tensor(X), min=-1, max=1),
    "clamp max": lambda lib: lib.tensor(X).clamp(max=0.3),
    "matmul": lambda lib: lib.matmul(lib.tensor(X), lib.tensor(X).T),
    "sum dims": lambda lib: lib.sum(lib.tensor(X), dim=(0, 1), keepdim=True),
    "mean dim": lambda lib: lib.mean(lib.tensor(X), dim=-1),
    "mean axis alias": lambda lib: lib.tensor(X).mean(axis=0, keepdims=True),
    "var": lambda lib: lib.tensor(X).var(dim=1),
    "std biased": lambda lib: lib.tensor(X).std(unbiased=False),
    "flatten": lambda lib: lib.flatten(lib.ones(2, 3, 4, 5), 1, 2),
    "flatten start": lambda lib: lib.ones(2, 3, 4).flatten(1),
    "unsqueeze": lambda lib: lib.unsqueeze(lib.tensor(X), -1),
    "squeeze": lambda lib: lib.squeeze(lib.ones(1, 3, 1)),
    "squeeze dim": lambda lib: lib.ones(1, 3, 1).squeeze(0),
    "softmax": lambda lib: lib.softmax(lib.tensor(X), dim=1),
    "log_softmax": lambda lib: lib.log_softmax(lib.tensor(X), dim=0),
    "logsumexp": lambda lib: lib.logsumexp(lib.tensor(X), dim=1),
    "where": lambda lib: lib.where(lib.tensor(X) > 0, lib.tensor(X), 0.0),
    "reshape": lambda lib: lib.reshape(lib.tensor(X), (3, -1)),
    "view": lambda lib: lib.tensor(X).view(-1),
    "view ints": lambda lib: lib.tensor(X).view(3, 2),
    "contiguous view": lambda lib: lib.tensor(X).t().contiguous().view(-1),
    "expand": lambda lib: lib.ones(3, 1).expand(2, -1, 4),
    "clone": lambda lib: lib.tensor(X).clone(),
    "gather": lambda lib: lib.gather(lib.tensor(X), 1, lib.tensor([[2, 0], [1, 1]])),
    "eq": lambda lib: lib.tensor(X).eq(0.25),
    "ge": lambda lib: lib.tensor(X) >= lib.tensor([0.5, 0.0, 0.0]),
    "and": lambda lib: (lib.tensor(X) > 0) & (lib.tensor(X) < 1),
    "not": lambda lib: ~(lib.tensor(X) > 0),
    "amax": lambda lib: lib.amax(lib.tensor(X), dim=0),
    "masked_fill": lambda lib: lib.tensor(X).masked_fill(lib.tensor(X) < 0, -9.0),
    "zeros": lambda lib: lib.zeros(2, 3),
    "zeros tuple": lambda lib: lib.zeros((2, 3), dtype=lib.float64),
    "ones": lambda lib: lib.ones([4]),
    "full": lambda lib: lib.full((2, 2), 1.5),
    "arange": lambda lib: lib.arange(1, 10, 3),
    "arange float step": lambda lib: lib.arange(0, 2, 0.3),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "eye": lambda lib: lib.eye(3),
    "eye rect": lambda lib: lib.eye(2, 4),
    "zeros_like": lambda lib: lib.zeros_like(lib.tensor([1, 2])),
    "ones_like": lambda lib: lib.ones_like(lib.tensor(X)),
    "full_like": lambda lib: lib.full_like(lib.tensor(X), 7.0),
    "from_numpy": lambda lib: lib.from_numpy(np.arange(3)),
    "as_tensor": lambda lib: lib.as_tensor([1, 2]),
    "0-d sum dim 0": lambda lib: lib.tensor(2.5).sum(0),
    "0-d sum dim -1": lambda lib: lib.tensor(2.5).sum(dim=-1, keepdim=True),
    "0-d softmax": lambda lib: lib.softmax(lib.tensor(2.5), 0),
    "0-d log_softmax": lambda lib: lib.log_softmax(lib.tensor(2.5), -1),
    "0-d logsumexp": lambda lib: lib.logsumexp(lib.tensor(2.5), 0),
    "0-d max dim": lambda lib: lib.tensor(2.5).max(0),
    "sin cos": lambda lib: lib.sin(lib.tensor(X)) + lib.tensor(X).cos(),
    "log1p expm1": lambda lib: lib.log1p(lib.abs(lib.tensor(X))) + lib.expm1(lib.tensor(X)),
    "rsqrt reciprocal": lambda lib: lib.rsqrt(lib.abs(lib.tensor(X))) + lib.tensor(X).reciprocal(),
    "floor ceil trunc round sign": lambda lib: (lib.floor(lib.tensor(X)), lib.tensor(X).ceil(),
                                                lib.trunc(lib.tensor(X)), lib.round(lib.tensor([0.5, 1.5, -2.5])),
                                                lib.tensor(X).sign()),
    "floordiv mod": lambda lib: (lib.tensor([5, -5, 7]) // 2, lib.tensor([5, -5, 7]) % 3, lib.tensor(X) % 0.7,
                                 -7.5 // lib.tensor(X)),
    "isnan isinf isfinite": lambda lib: (lib.isnan(lib.tensor([1.0, float("nan")])), lib.tensor([float("inf")]).isinf(),
                                         lib.isfinite(lib.tensor([1.0, float("-inf")]))),
    "isclose": lambda lib: lib.isclose(lib.tensor([1.0, 2.0]), lib.tensor([1.0 + 1e-9, 2.1])),
    "flip": lambda lib: lib.flip(lib.tensor(X), (0, 1)),
    "split": lambda lib: lib.ones(5, 2).split(2),
    "split sizes": lambda lib: lib.split(lib.arange(6.0), [1, 5]),
    "chunk": lambda lib: lib.arange(7.0).chunk(3),
    "repeat": lambda lib: lib.tensor(X).repeat(2, 1, 3),
    "norm": lambda lib: lib.tensor(X).norm(),
    "norm dim": lambda lib: lib.norm(lib.tensor(X), dim=1, keepdim=True),
    "cumsum": lambda lib: lib.cumsum(lib.tensor(X), dim=1),
    "cumsum ints": lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32).cumsum(0),
    "prod": lambda lib: lib.tensor(X).prod(),
    "prod dim": lambda lib: lib.prod(lib.tensor(X), 1, keepdim=True),
    "sort": lambda lib: lib.tensor(X).sort(dim=1),
    "sort descending": lambda lib: lib.sort(lib.tensor(X), 0, descending=True),
    "argsort": lambda lib: lib.tensor(X).argsort(),
    "topk": lambda lib: lib.tensor(X).topk(2),
    "topk smallest": lambda lib: lib.topk(lib.tensor(X), 1, dim=0, largest=False),
    "nonzero": lambda lib: lib.tensor([[0, 1], [2, 0]]).nonzero(),
    "mm bmm dot outer": lambda lib: (lib.mm(lib.tensor(X), lib.tensor(X).t()),
                                     lib.bmm(lib.ones(2, 2, 3), lib.ones(2, 3, 1)),
                                     lib.dot(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])),
                                     lib.outer(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0]))),
    "in-place unary": lambda lib: (lib.tensor(X).exp_(), lib.tensor(X).relu_(), lib.tensor(X).abs_().sqrt_()),
    "unbind": lambda lib: lib.tensor(X).unbind(1),
    "narrow": lambda lib: lib.narrow(lib.tensor(X), 1, -2, 2),
    "tril triu": lambda lib: (lib.tril(lib.ones(2, 3, 3)), lib.ones(3, 4).triu(1), lib.tensor(X).tril(-1)),
    "iterate": lambda lib: tuple(lib.tensor(X)),
    "one-hot by scatter_": lambda lib: lib.zeros(3, 4).scatter_(1, lib.tensor([[2], [0], [1]]), 1.0),
    "scatter src": lambda lib: lib.zeros(2, 3).scatter(0, lib.tensor([[1, 0, 1]]), lib.tensor(X)),
    "scatter_add": lambda lib: lib.scatter_add(lib.zeros(3, 4), 1, lib.tensor([[0, 0], [1, 1], [3, 3]]),
                                               lib.ones(3, 2)),
    "index_select": lambda lib: lib.tensor(X).index_select(1, lib.tensor([2, 0, 2])),
    "masked_select": lambda lib: lib.masked_select(lib.tensor(X), lib.tensor([True, False, True])),
    "take": lambda lib: lib.take(lib.tensor(X), lib.tensor([[5, 0], [1, 1]])),
    "masked_fill_": lambda lib: lib.tensor(X).masked_fill_(lib.tensor(X) > 1, 0.0),
    "einsum matmul": lambda lib: lib.einsum("ij,jk->ik", lib.tensor(X), lib.tensor(X).T),
    "einsum batch": lambda lib: lib.einsum("bij,bjk->bik", lib.ones(2, 2, 3), lib.ones(2, 3, 4)),
    "einsum implicit": lambda lib: lib.einsum("ij,kj", lib.tensor(X), lib.tensor(X)),
    "einsum sum": lambda lib: lib.einsum("ij->j", lib.tensor(X)),
    "einsum list": lambda lib: lib.einsum("i,i->", [lib.ones(3), lib.arange(3.0)]),
    "unique": lambda lib: lib.unique(lib.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True),
    "new_*": lambda lib: (lib.tensor([1, 2]).new_zeros(2, 2), lib.tensor(X).new_ones((3,)),
                          lib.tensor(X).new_full((2,), 7), lib.tensor(X).new_tensor([1, 2])),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_by_torch_names(name):
    same(FUNCTIONS[name], rtol=1e-5)


def test_grad_mode_helpers():
    @mg.no_grad()
    def evaluate(w):
        return w * 2

    w = mg.ones(2, requires_grad=True)
    assert not evaluate(w).requires_grad and (w * 2).requires_grad
    with mg.inference_mode():
        assert not (w * 2).requires_grad
    assert mg.is_tensor(w) and not mg.is_tensor(w.array)
    with pytest.raises(TypeError, match="0-d"):
        iter(mg.tensor(1.0))


def test_set_default_dtype():
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.0]).dtype == np.float64 and mg.zeros(2).dtype == np.float64
        assert (mg.tensor([1, 2]) * 0.5).dtype == np.float64
    finally:
        mg.set_default_dtype(mg.float32)
    assert mg.tensor([1.0]).dtype == np.float32


def test_view_never_copies():
    x = mg.zeros(2, 3)
    v = x.view(3, 2)
    v[0, 0] = 1.0                   # a view writes through to x
    assert x[0, 0].item() == 1.0
    with pytest.raises(RuntimeError, match="view: .*not contiguous.*reshape"):
        x.t().view(-1)              # torch refuses too: a copy would not write through
    assert x.t().reshape(-1).shape == (6,)


def test_tensor_facts_and_conversions():
    x = mg.tensor(X)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.numel() == 6
    assert x.tolist() == X.tolist()
    one = mg.tensor([2.5])
    assert float(one) == 2.5 and int(one) == 2 and bool(one) is True and one.item() == 2.5
    assert [1, 2, 3][mg.tensor(1)] == 2  # an int tensor is an index
    with pytest.raises(RuntimeError, match="6 elements"):
        float(x)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_random_creation():
    mg.manual_seed(0)
    a = mg.randn(2, 3)
    assert a.shape == (2, 3) and a.dtype == np.float32
    mg.manual_seed(0)
    np.testing.assert_array_equal(mg.randn((2, 3)).numpy(), a.numpy())
    u = mg.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1
    r = mg.randint(3, 7, (500,))
    assert r.dtype == np.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert mg.randint(5, size=(2, 2)).shape == (2, 2) and mg.randint(10, (3,)).max().item() < 10
    assert sorted(mg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    like = mg.randn_like(mg.zeros(4, dtype=mg.float64))
    assert like.shape == (4,) and like.dtype == np.float64
    assert mg.rand_like(a).shape == a.shape
    w = mg.randn(3, requires_grad=True)
    assert w.is_leaf and w.requires_grad


def test_from_numpy_and_as_tensor_share_memory():
    array = np.zeros(3, dtype=np.float32)
    mg.from_numpy(array)[0] = 1.0
    mg.as_tensor(array)[1] = 2.0
    assert array.tolist() == [1.0, 2.0, 0.0]
    copied = mg.tensor(array)
    copied[2] = 3.0
    assert array[2] == 0.0   # tensor() copies, as torch.tensor


@pytest.mark.parametrize("call, message", [
    (lambda: mg.ones(2, 3).sum(2), r"sum: Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: mg.ones(2, 3).softmax(dim=-3), r"softmax: Dimension out of range.*-3"),
    (lambda: mg.ones(2, 3).max(5), r"max: Dimension out of range.*5"),
    (lambda: mg.ones(2, 3).transpose(0, 2), r"transpose: Dimension out of range"),
    (lambda: mg.ones(2, 3).unsqueeze(3), r"unsqueeze: Dimension out of range \(expected to be in range of \[-3, 2\]"),
    (lambda: mg.ones(2, 3).size(2), r"size: Dimension out of range"),
    (lambda: mg.tensor(1.0).sum(1), r"\[-1, 0\], but got 1"),
])
def test_bad_dims_raise_index_error(call, message):
    with pytest.raises(IndexError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: mg.ones(2, 3) + mg.ones(4), r"add: shapes \(2, 3\) and \(4,\)"),
    (lambda: mg.ones(2, 3).view(4), r"reshape: shape \(4,\) is invalid for a tensor of shape minigrad.Size\(\[2, 3\]\)"),
    (lambda: mg.cat([mg.ones(2, 3), mg.ones(2, 4)]), r"cat: shapes \[minigrad.Size\(\[2, 3\]\), minigrad.Size\(\[2, 4\]\)\]"),
    (lambda: mg.stack([mg.ones(2), mg.ones(3)]), r"stack: .*Size\(\[2\]\), minigrad.Size\(\[3\]\)"),
    (lambda: mg.ones(2, 3).expand(4, 4), r"expand: .*Size\(\[2, 3\]\) to \(4, 4\)"),
])
def test_mismatched_shapes_raise_runtime_error(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


def test_devices_and_cuda_namespace():
    assert mg.tensor([1.0]).device == "cpu" == mg.device("cpu")
    assert mg.device("cpu").type == "cpu" and repr(mg.device("cuda:0")) == "device(type='cuda', index=0)"
    assert mg.tensor([1.0]).to(mg.device("cpu")).device.type == "cpu"
    assert mg.cuda.is_available() == mg.cuda_available()
    with pytest.raises(RuntimeError, match="device"):
        mg.device("tpu")
    x = mg.tensor([1, 2]).to(mg.float64)
    assert x.dtype == np.float64 and x.to(mg.tensor([1])).dtype == np.int64


# ---- gradchecks of the new ops (float64, hypothesis shapes) ------------------------------------
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def leaf(shape, seed):
    return mg.tensor(np.random.default_rng(seed).uniform(-2, 2, shape), requires_grad=True)


def check_both(fn, *inputs):
    assert mg.gradcheck(fn, list(inputs))
    assert mg.gradgradcheck(fn, list(inputs))


@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_gradcheck_dims_and_shape_ops(shape, seed, data):
    x = leaf(shape, seed)
    d0 = data.draw(st.integers(-len(shape), len(shape) - 1))
    d1 = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_both(lambda t: t.transpose(d0, d1) * 2, x)
    check_both(lambda t: t.unsqueeze(d0).squeeze(d0 if d0 < 0 else d0) ** 2, x)
    check_both(lambda t: t.flatten(min(d0 % len(shape), d1 % len(shape))) ** 2, x)
    check_both(lambda t: t.clone() * t, x)
    check_both(lambda t: t.expand((2,) + shape) ** 2, x)
    # max has no derivative where two values tie, and random values can come within the
    # finite-difference step of each other: distinct values, 0.1 apart, in a random order
    spaced = np.random.default_rng(seed).permutation(x.numel()).reshape(shape) * 0.1 - 1.0
    check_both(lambda t: t.max(d0).values ** 2, mg.tensor(spaced, requires_grad=True))
    check_both(lambda t: t.var(d0, unbiased=shape[d0] > 1), x)
    if x.numel() > 1:  # the std of one number is 0, where √ has no derivative
        check_both(lambda t: t.std(), x)


@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradcheck_maximum_minimum_gather(shape, seed):
    a, b = leaf(shape, seed), leaf(shape, seed + 1)
    check_both(lambda a, b: mg.maximum(a, b) * mg.minimum(a, b), a, b)
    index = np.random.default_rng(seed).integers(0, shape[-1], shape)
    check_both(lambda a: mg.gather(a, -1, index) ** 2, a)


@given(shape=shapes, seed=st.integers(0, 2**16))
def test_gradcheck_setitem_and_index_put(shape, seed):
    x, v = leaf(shape, seed), leaf(shape[1:], seed + 1)
    mask = np.random.default_rng(seed).random(shape) > 0.5

    def put(x, v):
        y = x * 1
        y[0] = v * v                # the gradient of the overwritten row goes to v only
        y[mg.tensor(mask)] = 0.5
        return y * x
    check_both(put, x, v)


def test_maximum_splits_ties_as_torch():
    grads(lambda lib, a, b: lib.maximum(a, b).sum(), [1.0, 2.0, 3.0], [1.0, 0.0, 5.0])
    grads(lambda lib, a, b: lib.minimum(a, b).sum(), [1.0, 2.0, 3.0], [1.0, 0.0, 5.0])


@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_gradcheck_more_ops(shape, seed, data):
    x = leaf(shape, seed)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_both(lambda t: t.sin() * t.cos() + t.tanh().log1p() + t.expm1(), x)
    check_both(lambda t: (t * t + 1).rsqrt() + (t * t + 1).reciprocal(), x)
    check_both(lambda t: t.flip(d) * t, x)
    check_both(lambda t: t.cumsum(d) ** 2, x)
    check_both(lambda t: t.repeat(2, *([1] * len(shape))) ** 2, x)
    check_both(lambda t: mg.cat([p * i for i, p in enumerate(t.split(1, d))], d) ** 2, x)
    check_both(lambda t: mg.cat(t.chunk(2, d), d) ** 2, x)
    check_both(lambda t: t.sort(d).values * mg.arange(shape[d] if shape else 1, dtype=mg.float64).reshape(
        (-1,) + (1,) * (len(shape) - 1 - d % len(shape))), x)
    check_both(lambda t: t.topk(1, d).values ** 2, x)
    check_both(lambda t: t.norm(dim=d) + t.norm(), x)
    check_both(lambda t: t % 0.7 + t.floor() + t.round(), x)
    assert mg.gradcheck(lambda t: t.prod(d) + t.prod(), [x])  # prod is first-order


def test_gradients_at_kinks_follow_torch():
    grads(lambda lib, x: x.prod(), [2.0, 0.0, 3.0])             # one zero factor
    grads(lambda lib, x: x.prod(1).sum(), [[0.0, 0.0, 3.0], [1.0, 2.0, 4.0]])  # two zeros
    grads(lambda lib, x: x.norm(), [0.0, 0.0])                   # the norm at 0
    grads(lambda lib, x: lib.outer(x, x).sum() + lib.dot(x, x), [1.0, -2.0])
    grads(lambda lib, x: (x.sort(descending=True).values * lib.tensor([3.0, 2.0, 1.0], dtype=x.dtype)).sum(),
          [1.0, 5.0, 3.0])


@given(shape=shapes, seed=st.integers(0, 2**16), data=st.data())
def test_gradcheck_scatter_family(shape, seed, data):
    x, src = leaf(shape, seed), leaf(shape, seed + 1)
    d = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = np.random.default_rng(seed).integers(0, shape[d], shape)
    check_both(lambda x, s: x.scatter(d, index, s) * x, x, src)
    check_both(lambda x, s: x.scatter_add(d, index, s) ** 2, x, src)
    check_both(lambda x: x.index_select(d, index.reshape(-1)) ** 2, x)
    check_both(lambda x: x.masked_select(mg.tensor(index > 0)) ** 2, x)
    check_both(lambda x: x.take(index) ** 2, x)


def test_repeated_index_writes_give_the_gradient_to_the_last_write():
    x = mg.zeros(3, dtype=mg.float64)
    v = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x.scatter(0, mg.tensor([0, 0, 2]), v)
    assert y.tolist() == [2.0, 0.0, 3.0]     # the second write to place 0 wins
    (y * mg.tensor([10.0, 1.0, 100.0], dtype=mg.float64)).sum().backward()
    assert v.grad.tolist() == [0.0, 10.0, 100.0]


def test_scatter_gradients_follow_torch():
    index = [[1, 0, 1], [0, 1, 0]]

    def fn(lib, x, s):
        i = lib.tensor(index)
        return ((x * 1).scatter_add(0, i, s) ** 2).sum() + (x.index_select(1, lib.tensor([2, 2])) ** 2).sum()
    grads(fn, X.tolist(), (X * 2).tolist())


@given(seed=st.integers(0, 2**16), sizes=st.tuples(*[st.integers(1, 3)] * 4))
def test_gradcheck_einsum(seed, sizes):
    b, i, j, k = sizes
    x, y, z = leaf((b, i, j), seed), leaf((b, j, k), seed + 1), leaf((k,), seed + 2)
    check_both(lambda x, y: mg.einsum("bij,bjk->bik", x, y), x, y)
    check_both(lambda x, y, z: mg.einsum("bij,bjk,k->i", x, y, z), x, y, z)  # b, j, k summed away
    check_both(lambda x: mg.einsum("bij->jb", x) ** 2, x)


def test_einsum_gradients_follow_torch():
    grads(lambda lib, a, b: lib.einsum("ij,jk->", a, b), X.tolist(), X.T.tolist())
    grads(lambda lib, a, b: (lib.einsum("ij,kj->ik", a, b) ** 2).sum(), X.tolist(), X.tolist())


class _Reflects:
    """An operand neither library knows, with its own reflected methods."""

    def __radd__(self, other):
        return "radd"

    def __rmatmul__(self, other):
        return "rmatmul"

    def __eq__(self, other):
        return "eq"


@pytest.mark.parametrize("expression", ["t + other", "t @ other", "t == other", "t == None", "t != None",
                                        "t == 'a'", "t == pytest.approx([1.0, 2.0])", "t == pytest.approx([1.0, 3.0])"])
def test_an_operand_neither_knows_is_handed_back_to_python(expression):
    """Operators answer NotImplemented for an operand that is no tensor, number or array, as
    torch's do, so Python asks the other side (or compares == by identity)."""
    torch = torch_or_skip()
    results = [eval(expression, {"t": lib.tensor([1.0, 2.0]), "other": _Reflects(), "pytest": pytest})
               for lib in (torch, mg)]
    assert results[0] == results[1] and type(results[0]) is type(results[1])


@pytest.mark.parametrize("expression", ["t + 'a'", "t * None", "t < None", "None - t", "t / object()"])
def test_an_operand_nobody_takes_raises_pythons_type_error(expression):
    raises_as_torch(lambda lib: eval(expression, {"t": lib.tensor([1.0, 2.0])}))
