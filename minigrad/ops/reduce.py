"""Reductions: sum, mean, max, min, and the softmax family built on logsumexp.

A reduction's VJP sends the gradient of each output back to every input element
it summarised: ``expand`` puts back the reduced axes (as size 1) and broadcasting
does the rest.
"""
import numpy as np

from minigrad import backend
from minigrad.ops.base import normalize_axis
from minigrad.ops.elementwise import exp
from minigrad.ops.shape import broadcast_to, reshape
from minigrad.tensor import Tensor, result


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand(g, shape, axes):
    """Undo a reduction over ``axes`` of ``shape``: reshape g to keep those axes as 1."""
    return reshape(g, _kept_shape(shape, axes))


def sum(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, x.ndim, "sum")
    data = x.data.sum(axis=axes, keepdims=keepdims)
    return result(data, "sum", (x,), (lambda g, y: broadcast_to(expand(g, x.shape, axes), x.shape),))


def mean(x, axis=None, keepdims=False):
    axes = normalize_axis(axis, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes]))
    return sum(x, axes, keepdims) / count


def _extreme(x, axis, keepdims, name, pick):
    """max/min: the gradient goes to the element(s) that were picked; ties share it
    equally (the average of the subgradients, as NumPy-based autograd does)."""
    axes = normalize_axis(axis, x.ndim, name)
    if x.size == 0:
        raise ValueError(f"{name}: reduction of an empty tensor of shape {x.shape}")
    kept = pick(x.data, axis=axes, keepdims=True)
    chosen = (x.data == kept).astype(x.dtype)
    share = Tensor._wrap(chosen / chosen.sum(axis=axes, keepdims=True))
    data = kept if keepdims else kept.reshape([n for i, n in enumerate(x.shape) if i not in axes])
    return result(data, name, (x,), (lambda g, y: broadcast_to(expand(g, x.shape, axes), x.shape) * share,))


def max(x, axis=None, keepdims=False):
    return _extreme(x, axis, keepdims, "max", backend.xp(x.data).max)


def min(x, axis=None, keepdims=False):
    return _extreme(x, axis, keepdims, "min", backend.xp(x.data).min)


def logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x), computed as m + log Σ exp(x − m) with m = max(x), so large
    inputs never overflow. ∂/∂x = exp(x − y) = softmax(x)."""
    axes = normalize_axis(axis, x.ndim, "logsumexp")
    array_module = backend.xp(x.data)
    m = x.data.max(axis=axes, keepdims=True)
    m = array_module.where(array_module.isfinite(m), m, 0)  # all −inf rows stay −inf, not NaN
    kept = m + array_module.log(array_module.exp(x.data - m).sum(axis=axes, keepdims=True))
    data = kept if keepdims else kept.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    def vjp(g, y):
        y_kept = expand(y, x.shape, axes)
        return broadcast_to(expand(g, x.shape, axes), x.shape) * exp(x - y_kept)
    return result(data, "logsumexp", (x,), (vjp,))


def log_softmax(x, axis=-1):
    """log softmax(x) = x − logsumexp(x): stable for any input size."""
    return x - logsumexp(x, axis, keepdims=True)


def softmax(x, axis=-1):
    """softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
    VJP: y ⊙ (g − Σ g⊙y), the Jacobian diag(y) − y yᵀ applied to g without forming it."""
    axes = normalize_axis(axis, x.ndim, "softmax")
    array_module = backend.xp(x.data)
    e = array_module.exp(x.data - x.data.max(axis=axes, keepdims=True))
    data = e / e.sum(axis=axes, keepdims=True)
    return result(data, "softmax", (x,), (lambda g, y: y * (g - sum(g * y, axes, keepdims=True)),))
