"""``minigrad.autograd.Function``: forward/backward/ctx as torch's, one backward call per
pass, gradchecked, compared with torch on the same classes; and the check on what a VJP
or a backward returns."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Function, once_differentiable
from minigrad.tensor import result

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def make_functions(autograd):
    """The same three Functions for minigrad and for torch (only the namespace differs)."""
    class Exp(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    class LinearFunction(autograd.Function):  # the example of PyTorch's "Extending PyTorch" note
        @staticmethod
        def forward(ctx, x, w, b=None):
            ctx.save_for_backward(x, w, b)
            y = x.mm(w.t())
            return y if b is None else y + b.unsqueeze(0).expand_as(y)

        @staticmethod
        def backward(ctx, g):
            x, w, b = ctx.saved_tensors
            gx = gw = gb = None
            if ctx.needs_input_grad[0]:
                gx = g.mm(w)
            if ctx.needs_input_grad[1]:
                gw = g.t().mm(x)
            if b is not None and ctx.needs_input_grad[2]:
                gb = g.sum(0)
            return gx, gw, gb

    class ScaledMinMax(autograd.Function):  # two outputs, a non-Tensor argument, an integer output
        @staticmethod
        def forward(ctx, x, scale):
            ctx.scale = scale
            low, high = x.min(1), x.max(1)
            ctx.save_for_backward(low.indices, high.indices)
            ctx.mark_non_differentiable(high.indices)
            ctx.shape = x.shape
            return low.values * scale, high.values * scale, high.indices

        @staticmethod
        def backward(ctx, g_low, g_high, g_index):
            low, high = ctx.saved_tensors
            gx = g_low.new_zeros(ctx.shape).scatter_add(1, low.unsqueeze(1), g_low.unsqueeze(1) * ctx.scale)
            return gx.scatter_add(1, high.unsqueeze(1), g_high.unsqueeze(1) * ctx.scale), None
    return Exp, LinearFunction, ScaledMinMax


Exp, LinearFunction, ScaledMinMax = make_functions(mg.autograd)


def _torch():
    return pytest.importorskip("torch")


@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_exp_function_gradchecks_to_second_order(shape, seed):
    x = mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    assert mg.gradcheck(Exp.apply, [x])
    assert mg.gradgradcheck(Exp.apply, [x])  # its backward is Tensor ops: differentiable again


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), fan_in=st.integers(1, 4), fan_out=st.integers(1, 4), bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_linear_function_gradchecks(n, fan_in, fan_out, bias, seed):
    rng = np.random.default_rng(seed)
    x, w = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((n, fan_in), (fan_out, fan_in)))
    b = mg.tensor(rng.standard_normal(fan_out), requires_grad=True) if bias else None
    assert mg.gradcheck(lambda *a: LinearFunction.apply(*a), [x, w] + ([b] if bias else []))


@settings(max_examples=10, deadline=None)
@given(rows=st.integers(1, 3), cols=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_two_output_function_gradchecks(rows, cols, seed):
    x = mg.tensor(np.random.default_rng(seed).permutation(rows * cols).reshape(rows, cols) * 0.1,
                  requires_grad=True)  # distinct values: min and max are differentiable
    assert mg.gradcheck(lambda x: mg.stack(ScaledMinMax.apply(x, 2.5)[:2]), [x])


@pytest.mark.parametrize("which", ["exp", "linear", "minmax"])
def test_functions_match_torch(which):
    torch = _torch()
    theirs = dict(zip(["exp", "linear", "minmax"], make_functions(torch.autograd)))[which]
    ours = dict(exp=Exp, linear=LinearFunction, minmax=ScaledMinMax)[which]
    rng = np.random.default_rng(0)
    arrays = {"exp": [rng.standard_normal((3, 4))], "minmax": [rng.standard_normal((3, 4))],
              "linear": [rng.standard_normal((5, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)]}[which]
    extra = (2.5,) if which == "minmax" else ()
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_m, out_t = ours.apply(*xs, *extra), theirs.apply(*ts, *extra)
    out_m, out_t = (out_m, out_t) if isinstance(out_m, tuple) else ((out_m,), (out_t,))
    seeds = [rng.standard_normal(o.shape) for o in out_t]
    for om, ot in zip(out_m, out_t):
        np.testing.assert_allclose(om.numpy(), ot.detach().numpy(), rtol=1e-12)
        assert om.requires_grad == ot.requires_grad and om.dtype.name == str(ot.dtype).split(".")[-1]
    sum(((o * mg.tensor(s)).sum() for o, s in zip(out_m, seeds) if o.requires_grad)).backward()
    sum(((o * torch.tensor(s)).sum() for o, s in zip(out_t, seeds) if o.requires_grad)).backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_backward_runs_once_for_several_inputs_and_outputs():
    calls = []

    class AddMul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a + b, a * b

        @staticmethod
        def backward(ctx, g_sum, g_product):
            calls.append(1)
            a, b = ctx.saved_tensors
            return g_sum + g_product * b, g_sum + g_product * a

    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    s, p = AddMul.apply(a, b)
    (s * p.exp()).sum().backward()  # p used through another op, s directly: both complete first
    assert len(calls) == 1
    pe = np.exp(a.numpy() * b.numpy())
    np.testing.assert_allclose(a.grad.numpy(), pe + (a + b).numpy() * pe * b.numpy())
    s, p = AddMul.apply(a, b)
    s.sum().backward()  # p got no gradient: backward receives zeros for it
    assert len(calls) == 2
    s, p = AddMul.apply(a, b)
    out = (s + p).sum()
    out.backward(retain_graph=True)
    out.backward()  # the retained graph runs backward again, with the new gradients
    assert len(calls) == 4


def test_ctx_needs_input_grad_and_non_tensor_arguments():
    seen = {}

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor, w):
            ctx.factor = factor
            seen["needs"] = ctx.needs_input_grad
            return x * factor * w

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor, None, None

    x, w = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([1.0, 1.0])
    Scale.apply(x, 3.0, w).sum().backward()
    assert seen["needs"] == (True, False, False) and x.grad.tolist() == [3.0, 3.0]
    with mg.no_grad():
        y = Scale.apply(x, 3.0, w)
    assert not y.requires_grad and y.node is None and seen["needs"] == (False, False, False)

    class GradForNumber(Scale):
        @staticmethod
        def backward(ctx, g):
            return g, g, None
    with pytest.raises(RuntimeError, match="GradForNumber.backward returned a gradient different from None at "
                                           "position 1, but forward's argument 1 is a float"):
        GradForNumber.apply(x, 3.0, w).sum().backward()


def test_saved_tensors_are_version_checked_and_freed():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = Exp.apply(y)
    with mg.no_grad():
        z.mul_(2)  # the saved output changed after forward
    with pytest.raises(RuntimeError, match="saved tensor 0 \\(shape minigrad\\.Size\\(\\[2\\]\\)\\) of Exp was modified in place by mul_"):
        z.sum().backward()
    z = Exp.apply(y)
    z.sum().backward()
    with pytest.raises(RuntimeError, match="Exp: trying to backward through the graph a second time"):
        z.sum().backward()


def test_once_differentiable_is_first_order():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            assert not mg.is_grad_enabled()
            return mg.tensor(3 * x.numpy() ** 2) * g  # computed outside autograd

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(Cube.apply, [x])
    g, = mg.grad(Cube.apply(x).sum(), [x], create_graph=True)  # the first derivative works
    assert g.tolist() == [3.0, 12.0]
    with pytest.raises(RuntimeError, match="Cube: trying to differentiate twice a function that was marked "
                                           "with @once_differentiable"):
        g.sum().backward()


def test_mark_non_differentiable_materialize_and_returned_input():
    class Passthrough(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x, (x > 0)

        @staticmethod
        def backward(ctx, g, g_mask):
            assert g_mask is None  # not materialized: the bool output never gets a gradient
            return g * 2

    x = mg.tensor([1.0, -1.0], requires_grad=True)
    y, mask = Passthrough.apply(x)
    assert y is not x and y.requires_grad and x.node is None and not mask.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]

    weight = mg.nn.Parameter(np.ones(2))

    class ReturnsCaptured(Function):  # an output forward did not make: wrapped, the parameter untouched
        @staticmethod
        def forward(ctx, x):
            return weight

        @staticmethod
        def backward(ctx, g):
            return g
    out = ReturnsCaptured.apply(x)
    assert out is not weight and weight.node is None and out.node is not None

    class InputMarked(Passthrough):  # an input returned and marked: wrapped, and left without a gradient
        @staticmethod
        def forward(ctx, x):
            ctx.mark_non_differentiable(x)
            return x, x * 2
    same, double = InputMarked.apply(x)
    assert not same.requires_grad and double.requires_grad

    class Dirty(Passthrough):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
    with pytest.raises(NotImplementedError, match="Dirty: mark_dirty .* is not supported"):
        Dirty.apply(x)


def test_setup_context_form():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = mg.tensor([3.0], requires_grad=True)
    Square.apply(x).backward()
    assert x.grad.tolist() == [6.0]


def _broken(returned):
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return returned(g)
    return Broken


@pytest.mark.parametrize("returned, error, message", [
    (lambda g: g.numpy(), TypeError, "Broken.backward returned a numpy.ndarray for input 0; expected a Tensor of "
                                     "shape minigrad\\.Size\\(\\[2, 3\\]\\) and dtype minigrad\\.float32"),
    (lambda g: g.tolist(), TypeError, "returned a builtins.list for input 0"),
    (lambda g: g[0], RuntimeError, "returned a gradient of shape minigrad\\.Size\\(\\[3\\]\\) for input 0 of "
                                   "shape minigrad\\.Size\\(\\[2, 3\\]\\)"),
    (lambda g: g.long(), RuntimeError, "returned a gradient of dtype minigrad\\.int64 for input 0 of dtype "
                                      "minigrad\\.float32"),
    (lambda g: (g, g), RuntimeError, "incorrect number of gradients \\(expected 1, one per argument of forward, "
                                     "got 2\\)"),
])
def test_a_wrong_backward_is_named(returned, error, message):
    x = mg.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(error, match=message):
        _broken(returned).apply(x).sum().backward()


def test_backward_results_follow_torch_conversions():
    x = mg.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    _broken(lambda g: g.double()).apply(x).sum().backward()  # another precision: cast, as torch
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [[1.0] * 3] * 2
    x.grad = None
    y = mg.tensor(np.ones((1, 3)), requires_grad=True)
    _broken(lambda g: g.expand(4, 3)).apply(y).sum().backward()  # broadcast shape: summed back, as torch
    assert y.grad.tolist() == [[4.0] * 3]


@pytest.mark.parametrize("returned, error, message", [
    (lambda g: g.array, TypeError, "VJP of twice for input 0: returned a numpy.ndarray; expected a Tensor of "
                                   "shape minigrad\\.Size\\(\\[2\\]\\) and dtype minigrad\\.float64"),
    (lambda g: [1.0, 1.0], TypeError, "returned a builtins.list"),
    (lambda g: g.float(), RuntimeError, "VJP of twice for input 0: gradient of dtype minigrad\\.float32 for a "
                                        "tensor of dtype minigrad\\.float64"),
])
def test_a_wrong_vjp_is_named(returned, error, message):
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = result(x.array * 2, "twice", (x,), (lambda g, y: returned(g),))
    with pytest.raises(error, match=message):
        y.sum().backward()


def test_saved_tensors_are_freed_by_backward_unless_retained():
    import gc
    import weakref
    kept = []

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            t = x * 3  # an intermediate only backward holds
            kept.append(weakref.ref(t))
            ctx.save_for_backward(t)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            t, = ctx.saved_tensors
            return g * t / t * 2

    x = mg.tensor([1.0], requires_grad=True)
    y = Double.apply(x)
    y.backward(retain_graph=True)
    gc.collect()
    assert kept[0]() is not None  # retained: a second backward still reads it
    y.backward()
    gc.collect()
    assert x.grad.tolist() == [4.0]
    assert kept[0]() is None and y.requires_grad  # freed with the graph, while the output lives on
