"""Elementwise ops, each forward beside its VJPs.

For y = f(a, b) applied element by element, the Jacobian is diagonal, so the VJP
is a product: ga = g · ∂y/∂a. When a or b was broadcast, ``sum_to`` adds the
gradient back up to its shape. VJPs use Tensor ops (not raw arrays), so they can
be differentiated again (``create_graph=True``). ``saved=`` names the inputs a VJP
reads (only those whose partner needs a gradient, as PyTorch saves them), so an
in-place change to one of them is caught at backward.
"""
import numpy as np

import kernels.relu
from minigrad import backend, dtypes
from minigrad.ops.base import binary, broadcast_shapes, lift
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor, is_grad_enabled, result


def _scaled(b, alpha, op):
    """``alpha · b`` for add/sub's ``alpha=`` (PyTorch's signature)."""
    if alpha == 1:
        return b
    if not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    return mul(b, alpha) if isinstance(b, Tensor) else b * alpha


# ---- arithmetic ---------------------------------------------------------------------
def add(a, b, alpha=1):
    """a + alpha·b."""
    a, b = binary("add", a, _scaled(b, alpha, "add"))
    shape_a, shape_b = a.shape, b.shape
    return result(a.data + b.data, "add", (a, b),
                  (lambda g, y: sum_to(g, shape_a),
                   lambda g, y: sum_to(g, shape_b)))


def sub(a, b, alpha=1):
    """a − alpha·b."""
    a, b = binary("sub", a, _scaled(b, alpha, "sub"))
    shape_a, shape_b = a.shape, b.shape
    return result(a.data - b.data, "sub", (a, b),
                  (lambda g, y: sum_to(g, shape_a),
                   lambda g, y: sum_to(-g, shape_b)))


def mul(a, b):
    a, b = binary("mul", a, b)
    return result(a.data * b.data, "mul", (a, b),
                  (lambda g, y: sum_to(g * b, a.shape),
                   lambda g, y: sum_to(g * a, b.shape)),
                  saved=(b,) * a.requires_grad + (a,) * b.requires_grad)


def div(a, b):
    """True division, as PyTorch's ``/``: integer inputs give the default float dtype.
    y = a / b:  ∂y/∂a = 1/b,  ∂y/∂b = -a/b²"""
    a, b = binary("div", a, b)
    if a.dtype.kind != "f":
        a, b = binary("div", a, b, dtype=dtypes.get_default_dtype())
    return result(a.data / b.data, "div", (a, b),
                  (lambda g, y: sum_to(g / b, a.shape),
                   lambda g, y: sum_to(-g * a / (b * b), b.shape)),
                  saved=(b,) * a.requires_grad + (a, b) * b.requires_grad)


def pow(a, b):
    """y = a^b:  ∂y/∂a = b·a^(b−1),  ∂y/∂b = y·ln a.

    At the points where these formulas give 0·∞ or ln 0 PyTorch's convention
    (``pow_backward_self`` and ``pow_backward_exponent`` in its derivatives.yaml) is
    a gradient of 0: ∂y/∂a = 0 wherever b = 0 (x⁰ is the constant 1), and
    ∂y/∂b = 0 wherever a = 0 and b ≥ 0 (0^b is the constant 0, or 1 at b = 0)."""
    a, b = binary("pow", a, b)
    if a.dtype.kind != "f" and (b.data < 0).any():
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed "
                           f"(base dtype {a.dtype}, smallest exponent {b.data.min()})")

    def grad_a(g, y):
        return sum_to(where(b == 0, 0.0, g * b * a ** (b - 1)), a.shape)

    def grad_b(g, y):
        return sum_to(where((a == 0) & (b >= 0), 0.0, g * y * log(a)), b.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = a.data ** b.data
    return result(data, "pow", (a, b), (grad_a, grad_b),
                  saved=(a, b), saves_output=b.requires_grad)


def neg(x):
    return result(-x.data, "neg", (x,), (lambda g, y: -g,))


def square(x):
    return mul(x, x)


# ---- functions of one variable --------------------------------------------------------
def _floating(x, op):
    """Functions like exp return floats for integer input, as PyTorch's do."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        from minigrad.ops.shape import astype
        return astype(x, dtypes.get_default_dtype())
    return x


def exp(x):
    x = _floating(x, "exp")
    return result(backend.xp(x.data).exp(x.data), "exp", (x,), (lambda g, y: g * y,), saves_output=True)


def log(x):
    x = _floating(x, "log")
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = −inf and log(−1) = nan, as torch
        data = backend.xp(x.data).log(x.data)
    return result(data, "log", (x,), (lambda g, y: g / x,), saved=(x,))


def sqrt(x):
    # ∂√x/∂x = 1 / (2√x)
    x = _floating(x, "sqrt")
    with np.errstate(invalid="ignore"):
        data = backend.xp(x.data).sqrt(x.data)
    return result(data, "sqrt", (x,), (lambda g, y: g / (2 * y),), saves_output=True)


def tanh(x):
    # ∂tanh(x)/∂x = 1 − tanh²(x)
    x = _floating(x, "tanh")
    return result(backend.xp(x.data).tanh(x.data), "tanh", (x,), (lambda g, y: g * (1 - y * y),),
                  saves_output=True)


def sigmoid(x):
    # σ(x) = ½(1 + tanh(x/2)): the same function, with no overflow in exp(−x) for large |x|.
    # ∂σ/∂x = σ(1 − σ)
    x = _floating(x, "sigmoid")
    data = 0.5 * (1 + backend.xp(x.data).tanh(0.5 * x.data))
    return result(data.astype(x.dtype, copy=False), "sigmoid", (x,), (lambda g, y: g * y * (1 - y),),
                  saves_output=True)


def relu(x, inplace=False):
    # The forward is the kernel (kernels.relu). The mask [y > 0] is a constant, so the
    # VJP g·mask is linear in g and the second derivative is 0 almost everywhere. For a
    # plain backward the kernel applies the mask to the raw arrays; under
    # create_graph=True (recording on inside the VJP) it is composed of Tensor ops
    # instead, so relu stays differentiable to any order.
    if inplace:
        from minigrad.ops import inplace as inplace_ops
        return inplace_ops.update(x, "relu_", relu, check_cast=False)
    if x.dtype.kind != "f":
        return where(x > 0, x, 0)
    y = kernels.relu.forward(x.data)

    def vjp(g, out):
        if is_grad_enabled():
            return g * Tensor._wrap((y > 0).astype(x.dtype))
        return Tensor._wrap(kernels.relu.backward(g.data, y))
    return result(y, "relu", (x,), (vjp,), saves_output=True)


def abs(x):
    sign = Tensor._wrap(backend.xp(x.data).sign(x.data))
    return result(backend.xp(x.data).abs(x.data), "abs", (x,), (lambda g, y: g * sign,))


def clamp(x, min=None, max=None):
    """Clamp to [min, max] (numbers); the gradient passes only where x was inside, bounds
    included, as in PyTorch. A float bound on an integer tensor gives floats."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of min or max must not be None")
    bounds = [v for v in (min, max) if v is not None]
    for v in bounds:
        if isinstance(v, Tensor):
            raise TypeError("clamp: min and max must be numbers here; for tensor bounds use "
                            "minimum(maximum(x, low), high)")
    dtype = dtypes.result_type(x, *bounds)
    if dtype != x.dtype:
        from minigrad.ops.shape import astype
        x = astype(x, dtype)
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    inside = Tensor._wrap(((x.data >= low) & (x.data <= high)).astype(x.dtype))
    data = backend.xp(x.data).minimum(backend.xp(x.data).maximum(x.data, low), high)
    return result(data.astype(x.dtype, copy=False), "clamp", (x,), (lambda g, y: g * inside,))


clip = clamp


def maximum(a, b):
    """Elementwise max. Where a = b the gradient is split in half between them, as
    PyTorch's (its derivatives.yaml: ``grad / 2`` on ties)."""
    return _pick("maximum", a, b, "greater")


def minimum(a, b):
    """Elementwise min; ties split the gradient as ``maximum`` does."""
    return _pick("minimum", a, b, "less")


def _pick(name, a, b, wins):
    a, b = binary(name, a, b)
    xp = backend.xp(a.data)
    a_wins = getattr(xp, wins)(a.data, b.data)
    share = xp.where(a_wins, 1.0, xp.where(a.data == b.data, 0.5, 0.0)).astype(a.dtype)
    share_a = Tensor._wrap(share)
    share_b = Tensor._wrap((1 - share).astype(a.dtype))
    data = xp.where(a_wins, a.data, b.data)
    # nan wins, as in PyTorch: where either input is nan the output is nan
    data = xp.where(xp.isnan(a.data), a.data, data) if a.dtype.kind == "f" else data
    return result(data, name, (a, b),
                  (lambda g, y: sum_to(g * share_a, a.shape),
                   lambda g, y: sum_to(g * share_b, b.shape)))


def where(condition, a, b):
    """Pick ``a`` where ``condition`` holds, else ``b``; each gets the gradient of its
    picks. ``a`` and ``b`` may be Python numbers (``where(cond, 4, 2)``)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        like = Tensor._wrap(backend.xp(cond).zeros((), dtype=dtypes.bool))
        a = lift(a, like, dtype=dtypes.result_type(a, b))
    a, b = binary("where", a, b)
    cond = backend.xp(a.data).asarray(cond).astype(bool)
    broadcast_shapes("where", cond.shape, a.shape, b.shape)
    picked = Tensor._wrap(cond.astype(a.dtype))
    data = backend.xp(a.data).where(cond, a.data, b.data)
    return result(data, "where", (a, b),
                  (lambda g, y: sum_to(g * picked, a.shape),
                   lambda g, y: sum_to(g * (1 - picked), b.shape)))


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` holds (PyTorch's ``masked_fill``)."""
    return where(mask, lift(value, x, dtype=x.dtype), x)


# ---- comparisons and logic: boolean results, no gradient ------------------------------------
def _compare(name, ufunc):
    def compare(a, b):
        a, b = binary(name, a, b)
        return Tensor._wrap(ufunc(a.data, b.data))
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{name}`` (a bool tensor, no gradient)."
    return compare


lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)

_LOGICAL = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}


def logical(name, a, b):
    """``&``, ``|``, ``^`` on bool or integer tensors (bitwise, as in PyTorch)."""
    a, b = binary(name, a, b)
    if a.dtype.kind == "f":
        raise TypeError(f"{name}: bitwise operators need bool or integer tensors, got {a.dtype}")
    return Tensor._wrap(_LOGICAL[name](a.data, b.data))


def logical_not(x):
    """``~x``: not on a bool tensor, bitwise not on integers."""
    if x.dtype.kind == "f":
        raise TypeError(f"invert: ~ needs a bool or integer tensor, got {x.dtype}")
    return Tensor._wrap(~x.data)
