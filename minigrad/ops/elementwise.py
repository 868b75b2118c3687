"""Elementwise ops, each forward beside its VJPs.

For y = f(a, b) applied element by element, the Jacobian is diagonal, so the VJP
is a product: ga = g · ∂y/∂a. When a or b was broadcast, ``sum_to`` adds the
gradient back up to its shape. VJPs use Tensor ops (not raw arrays), so they can
be differentiated again (``create_graph=True``).
"""
import numpy as np

import kernels.relu
from minigrad import backend
from minigrad.ops.base import binary
from minigrad.ops.shape import sum_to
from minigrad.tensor import Tensor, is_grad_enabled, result


# ---- arithmetic ---------------------------------------------------------------------
def add(a, b):
    a, b = binary("add", a, b)
    return result(a.data + b.data, "add", (a, b),
                  (lambda g, y: sum_to(g, a.shape),
                   lambda g, y: sum_to(g, b.shape)))


def sub(a, b):
    a, b = binary("sub", a, b)
    return result(a.data - b.data, "sub", (a, b),
                  (lambda g, y: sum_to(g, a.shape),
                   lambda g, y: sum_to(-g, b.shape)))


def mul(a, b):
    a, b = binary("mul", a, b)
    return result(a.data * b.data, "mul", (a, b),
                  (lambda g, y: sum_to(g * b, a.shape),
                   lambda g, y: sum_to(g * a, b.shape)))


def div(a, b):
    # y = a / b:  ∂y/∂a = 1/b,  ∂y/∂b = -a/b²
    a, b = binary("div", a, b)
    return result(a.data / b.data, "div", (a, b),
                  (lambda g, y: sum_to(g / b, a.shape),
                   lambda g, y: sum_to(-g * a / (b * b), b.shape)))


def pow(a, b):
    # y = a^b:  ∂y/∂a = b·a^(b-1),  ∂y/∂b = y·ln a  (only needed when b requires grad)
    a, b = binary("pow", a, b)
    return result(a.data ** b.data, "pow", (a, b),
                  (lambda g, y: sum_to(g * b * a ** (b - 1), a.shape),
                   lambda g, y: sum_to(g * y * log(a), b.shape)))


def neg(x):
    return result(-x.data, "neg", (x,), (lambda g, y: -g,))


# ---- functions of one variable --------------------------------------------------------
def exp(x):
    return result(backend.xp(x.data).exp(x.data), "exp", (x,), (lambda g, y: g * y,))


def log(x):
    return result(backend.xp(x.data).log(x.data), "log", (x,), (lambda g, y: g / x,))


def sqrt(x):
    # ∂√x/∂x = 1 / (2√x)
    return result(backend.xp(x.data).sqrt(x.data), "sqrt", (x,), (lambda g, y: g / (2 * y),))


def tanh(x):
    # ∂tanh(x)/∂x = 1 − tanh²(x)
    return result(backend.xp(x.data).tanh(x.data), "tanh", (x,), (lambda g, y: g * (1 - y * y),))


def sigmoid(x):
    # σ(x) = ½(1 + tanh(x/2)): the same function, with no overflow in exp(−x) for large |x|.
    # ∂σ/∂x = σ(1 − σ)
    data = 0.5 * (1 + backend.xp(x.data).tanh(0.5 * x.data))
    return result(data.astype(x.dtype, copy=False), "sigmoid", (x,), (lambda g, y: g * y * (1 - y),))


def relu(x):
    # The forward is the kernel (kernels.relu). The mask [y > 0] is a constant, so the
    # VJP g·mask is linear in g and the second derivative is 0 almost everywhere. For a
    # plain backward the kernel applies the mask to the raw arrays; under
    # create_graph=True (recording on inside the VJP) it is composed of Tensor ops
    # instead, so relu stays differentiable to any order.
    y = kernels.relu.forward(x.data)

    def vjp(g, out):
        if is_grad_enabled():
            return g * Tensor._wrap((y > 0).astype(x.dtype))
        return Tensor._wrap(kernels.relu.backward(g.data, y))
    return result(y, "relu", (x,), (vjp,))


def abs(x):
    sign = Tensor._wrap(backend.xp(x.data).sign(x.data))
    return result(backend.xp(x.data).abs(x.data), "abs", (x,), (lambda g, y: g * sign,))


def clip(x, min=None, max=None):
    """Clamp to [min, max]; the gradient passes only where x was inside."""
    if min is None and max is None:
        raise ValueError("clip: give min, max or both")
    low = -np.inf if min is None else min
    high = np.inf if max is None else max
    if low > high:
        raise ValueError(f"clip: min {min} is larger than max {max}")
    inside = Tensor._wrap(((x.data >= low) & (x.data <= high)).astype(x.dtype))
    return result(backend.xp(x.data).clip(x.data, low, high).astype(x.dtype, copy=False), "clip", (x,),
                  (lambda g, y: g * inside,))


def where(condition, a, b):
    """Pick ``a`` where ``condition`` holds, else ``b``; each gets the gradient of its picks."""
    a, b = binary("where", a, b)
    cond = condition.data if isinstance(condition, Tensor) else backend.xp(a.data).asarray(condition)
    cond = cond.astype(bool)
    picked = Tensor._wrap(cond.astype(a.dtype))
    data = backend.xp(a.data).where(cond, a.data, b.data)
    return result(data, "where", (a, b),
                  (lambda g, y: sum_to(g * picked, a.shape),
                   lambda g, y: sum_to(g * (1 - picked), b.shape)))


# ---- comparisons: boolean results, no gradient ------------------------------------------
_COMPARE = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
            "eq": np.equal, "ne": np.not_equal}


def compare(name, a, b):
    a, b = binary(name, a, b)
    return Tensor._wrap(_COMPARE[name](a.data, b.data))
