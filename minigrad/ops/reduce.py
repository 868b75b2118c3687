"""Reductions: sum, mean, prod, max, min, argmax, var, norm, sort/topk, cumsum, and the
softmax family built on logsumexp. Every one takes PyTorch's ``dim=``/``keepdim=`` (NumPy's ``axis=``/
``keepdims=`` as aliases); ``dim`` may be None (all dims), an int or a tuple.

A reduction's VJP sends the gradient of each output back to every input element
it summarised: ``expand`` puts back the reduced axes (as size 1) and broadcasting
does the rest.
"""
import builtins
import collections

import numpy as np

from minigrad import backend, dtypes
from minigrad.ops.base import normalize_axis, normalize_dim, numpy_aliases
from minigrad.ops.elementwise import exp, maximum, minimum, where
from minigrad.ops.shape import astype, broadcast_to, flip, gather, reshape, squeeze
from minigrad.tensor import Tensor, result


# What max(dim), min(dim), sort and topk return, as torch.return_types: a pair that
# unpacks as (values, indices) and also names them (result.values, result.indices).
max_result = collections.namedtuple("max", ["values", "indices"])
min_result = collections.namedtuple("min", ["values", "indices"])
sort_result = collections.namedtuple("sort", ["values", "indices"])
topk_result = collections.namedtuple("topk", ["values", "indices"])


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand(g, shape, axes):
    """Undo a reduction over ``axes`` of ``shape``: reshape g to keep those axes as 1."""
    return reshape(g, _kept_shape(shape, axes))


def _dropped(kept, shape, axes, keepdim):
    return kept if keepdim else kept.reshape([n for i, n in enumerate(shape) if i not in axes])


@numpy_aliases
def sum(x, dim=None, keepdim=False, dtype=None):
    """Σ over ``dim``. Integer and bool tensors sum to int64, as in PyTorch."""
    if dtype is not None:
        x = astype(x, dtype)
    elif x.dtype.kind in "biu":
        x = astype(x, dtypes.int64)
    axes = normalize_axis(dim, x.ndim, "sum")
    data = x.array.sum(axis=axes, keepdims=keepdim)
    shape = x.shape
    return result(data, "sum", (x,), (lambda g, y: broadcast_to(expand(g, shape, axes), shape),))


@numpy_aliases
def mean(x, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        x = astype(x, dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"mean: could not infer the output dtype: the input must be a floating point "
                           f"tensor, got {x.dtype} (use x.float().mean() or mean(dtype=...))")
    axes = normalize_axis(dim, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes]))
    return sum(x, axes, keepdim) / count


@numpy_aliases
def var(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """Σ(x − mean)² / (N − correction); correction 1 (Bessel's, the default as in
    PyTorch) unless ``unbiased=False`` or ``correction=`` says otherwise."""
    if unbiased is not None and correction is not None:
        raise RuntimeError("var: give unbiased= or correction=, not both")
    correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
    axes = normalize_axis(dim, x.ndim, "var")
    count = int(np.prod([x.shape[a] for a in axes]))
    centred = x - mean(x, axes, keepdim=True)
    return sum(centred * centred, axes, keepdim) / builtins.max(count - correction, 0)


@numpy_aliases
def std(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """√var, with var's arguments."""
    from minigrad.ops.elementwise import sqrt
    return sqrt(var(x, dim, unbiased, keepdim, correction))


def _check_not_empty(x, dim, axes, name, error=RuntimeError):
    """max, min and their arg forms have no value over nothing: refuse a reduction over a
    0-length dim as PyTorch does (IndexError naming the dim; without dim, ``error``:
    RuntimeError for the values, IndexError for the indices). Other 0-length dims are
    fine: ``zeros(0, 3).amax(1)`` is an empty tensor."""
    if dim is None and x.numel() == 0:
        raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0 "
                    f"(shape {x.shape}). Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size (shape {x.shape}).")


def _tie_shares(array, kept, axes):
    """Each element's share of the gradient of ``kept`` (the value picked over ``axes``,
    kept as size 1): 1/count for the elements equal to it, 0 elsewhere. A NaN picked is
    matched by the NaNs, as in PyTorch."""
    chosen = array == kept
    if array.dtype.kind == "f":
        xp = backend.xp(array)
        chosen = chosen | (xp.isnan(array) & xp.isnan(kept))
    chosen = chosen.astype(array.dtype)
    return Tensor._wrap(chosen / chosen.sum(axis=axes, keepdims=True))


def _extreme(x, dim, keepdim, name, pick):
    """amax/amin: the gradient goes to the element(s) that were picked; ties share it
    equally (PyTorch's amax/amin and full max()/min() do the same)."""
    axes = normalize_axis(dim, x.ndim, name)
    _check_not_empty(x, dim, axes, name)
    kept = pick(x.array, axis=axes, keepdims=True)
    share = _tie_shares(x.array, kept, axes)
    shape = x.shape
    return result(_dropped(kept, shape, axes, keepdim), name, (x,),
                  (lambda g, y: broadcast_to(expand(g, shape, axes), shape) * share,))


@numpy_aliases
def amax(x, dim=None, keepdim=False):
    """The largest values over ``dim`` (None: all), values only."""
    return _extreme(x, dim, keepdim, "amax", backend.xp(x.array).max)


@numpy_aliases
def amin(x, dim=None, keepdim=False):
    return _extreme(x, dim, keepdim, "amin", backend.xp(x.array).min)


def _arg(x, dim, keepdim, name, pick):
    axes = () if dim is None or x.ndim == 0 else (normalize_dim(dim, x.ndim, name),)
    _check_not_empty(x, dim, axes, name, IndexError)
    if dim is None:
        index = pick(x.array.reshape(-1), axis=0)
        return Tensor._wrap(index.reshape((1,) * x.ndim if keepdim else ()).astype(np.int64))
    d = normalize_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return Tensor._wrap(backend.xp(x.array).zeros((), dtype=np.int64))
    index = pick(x.array, axis=d, keepdims=True).astype(np.int64)
    return Tensor._wrap(index if keepdim else index.squeeze(d))


@numpy_aliases
def argmax(x, dim=None, keepdim=False):
    """The index of the largest value along ``dim`` (None: of the flattened tensor);
    the first one on ties, as in PyTorch. int64, no gradient."""
    return _arg(x, dim, keepdim, "argmax", backend.xp(x.array).argmax)


@numpy_aliases
def argmin(x, dim=None, keepdim=False):
    return _arg(x, dim, keepdim, "argmin", backend.xp(x.array).argmin)


def _max_or_min(x, dim, keepdim, name, amax_or_amin, elementwise, arg, pair):
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return elementwise(x, dim)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}: keepdim needs dim (max(dim, keepdim=True))")
        _check_not_empty(x, None, (), name)
        return amax_or_amin(x)
    if x.ndim == 0:
        normalize_dim(dim, 0, name)
        return pair(reshape(x, ()), arg(x, dim))
    _check_not_empty(x, dim, (normalize_dim(dim, x.ndim, name),), name)
    index = arg(x, dim, keepdim=True)
    values = gather(x, dim, index)  # the gradient goes to the one index returned, as torch's
    if not keepdim:
        values, index = squeeze(values, dim), squeeze(index, dim)
    return pair(values, index)


@numpy_aliases
def max(x, dim=None, keepdim=False):
    """As ``torch.max``: without ``dim`` the largest value (0-d); with ``dim`` a pair
    ``(values, indices)`` (``.values``/``.indices`` by name); with a tensor, ``maximum``."""
    return _max_or_min(x, dim, keepdim, "max", amax, maximum, argmax, max_result)


@numpy_aliases
def min(x, dim=None, keepdim=False):
    """As ``torch.min``: the smallest value, or ``(values, indices)`` along ``dim``."""
    return _max_or_min(x, dim, keepdim, "min", amin, minimum, argmin, min_result)


@numpy_aliases
def all(x, dim=None, keepdim=False):
    axes = normalize_axis(dim, x.ndim, "all")
    return Tensor._wrap(backend.xp(x.array).asarray(x.array.astype(bool).all(axis=axes, keepdims=keepdim)))


@numpy_aliases
def any(x, dim=None, keepdim=False):
    axes = normalize_axis(dim, x.ndim, "any")
    return Tensor._wrap(backend.xp(x.array).asarray(x.array.astype(bool).any(axis=axes, keepdims=keepdim)))


@numpy_aliases
def norm(x, p="fro", dim=None, keepdim=False):
    """The 2-norm √Σx² over ``dim`` (all by default; "fro" is the same), as torch.norm; other
    ``p`` (a number, or "nuc" for two dims) are ``linalg.vector_norm``/``matrix_norm``.
    ∂/∂x = x / ‖x‖, and 0 where the norm is 0 (PyTorch's choice at the kink)."""
    if p not in ("fro", 2, 2.0):  # the other orders are torch.linalg's, as torch.norm's are
        from minigrad.ops.norms import matrix_norm, vector_norm
        if p == "nuc":
            return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim)
        if isinstance(p, str):
            raise RuntimeError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        return vector_norm(x, p, dim, keepdim)
    axes = normalize_axis(dim, x.ndim, "norm")
    xp = backend.xp(x.array)
    kept = xp.sqrt((x.array * x.array).sum(axis=axes, keepdims=True))
    shape = x.shape

    def vjp(g, y):
        y_kept = expand(y, shape, axes)
        safe = where(y_kept == 0, 1.0, y_kept)  # x = 0 there, so x / 1 gives the 0 torch returns
        return expand(g, shape, axes) * x / safe
    return result(_dropped(kept, shape, axes, keepdim), "norm", (x,), (vjp,), saved=(x,), saves_output=True)


@numpy_aliases
def cumsum(x, dim):
    """Running sums along ``dim``; the gradient is the running sum of g taken from the
    other end (each x_i feeds every y_j with j ≥ i)."""
    d = normalize_dim(dim, x.ndim, "cumsum")
    if x.dtype.kind in "biu":
        x = astype(x, dtypes.int64)
    return result(backend.xp(x.array).cumsum(x.array, axis=d) if x.ndim else x.array.copy(), "cumsum", (x,),
                  (lambda g, y: flip(cumsum(flip(g, d), d), d) if g.ndim else g,))


@numpy_aliases
def prod(x, dim=None, keepdim=False):
    """Π over ``dim`` (all when None). ∂/∂x_i = Π_{j≠i} x_j, computed without dividing
    by x_i (so a zero factor gets its true gradient): the product of the elements before
    i (an exclusive running product from the left) times the product of those after it.
    That array is a constant to autograd, so the node is first-order."""
    if x.dtype.kind in "biu":
        x = astype(x, dtypes.int64)
    if dim is None:
        total = prod(reshape(x, (-1,)), 0)
        return reshape(total, (1,) * x.ndim) if keepdim else total
    d = normalize_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return reshape(x, ())
    xp = backend.xp(x.array)
    shape = x.shape

    def vjp(g, y):
        if shape[d] == 0:
            return broadcast_to(expand(g, shape, (d,)), shape)
        ones = xp.ones_like(xp.take(x.array, xp.arange(1), axis=d))
        before = xp.cumprod(xp.concatenate([ones, xp.take(x.array, xp.arange(shape[d] - 1), axis=d)], axis=d), axis=d)
        after = xp.flip(xp.cumprod(xp.flip(xp.concatenate(
            [xp.take(x.array, xp.arange(1, shape[d]), axis=d), ones], axis=d), axis=d), axis=d), axis=d)
        return expand(g, shape, (d,)) * Tensor._wrap(before * after)
    return result(x.array.prod(axis=d, keepdims=keepdim), "prod", (x,), (vjp,), first_order=True, saved=(x,))


def _sorted(x, dim, descending, op):
    d = normalize_dim(dim, x.ndim, op)
    xp = backend.xp(x.array)
    if x.ndim == 0:
        return d, Tensor._wrap(xp.zeros((), dtype=np.int64))
    keys = -x.array if descending and x.dtype.kind != "b" else x.array
    order = xp.argsort(keys, axis=d, kind="stable")
    if descending and x.dtype.kind == "b":
        order = xp.flip(xp.argsort(x.array, axis=d, kind="stable"), axis=d)
    return d, Tensor._wrap(order.astype(np.int64))


@numpy_aliases
def sort(x, dim=-1, descending=False, *, stable=False):
    """(values, indices) sorted along ``dim``, as torch.sort (ties always keep their order, so
    ``stable=True`` changes nothing). The
    values are gathered from x, so the gradient goes back to where each came from."""
    d, index = _sorted(x, dim, descending, "sort")
    return sort_result(gather(x, d, index) if x.ndim else reshape(x, ()), index)


@numpy_aliases
def argsort(x, dim=-1, descending=False, *, stable=False):
    """The indices that sort x along ``dim`` (stable, as ``sort``)."""
    return _sorted(x, dim, descending, "argsort")[1]


@numpy_aliases
def topk(x, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along ``dim`` and their indices, as torch.topk."""
    d = normalize_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) out of range for dim {d} of size {n} (shape {x.shape})")
    _, index = _sorted(x, d, largest, "topk")
    if x.ndim == 0:
        return topk_result(reshape(x, ()), index)
    xp = backend.xp(index.array)
    index = Tensor._wrap(xp.take(index.array, xp.arange(k), axis=d))
    return topk_result(gather(x, d, index), index)


@numpy_aliases
def logsumexp(x, dim=None, keepdim=False):
    """log Σ exp(x), computed as m + log Σ exp(x − m) with m = max(x), so large
    inputs never overflow. ∂/∂x = exp(x − y) = softmax(x)."""
    axes = normalize_axis(dim, x.ndim, "logsumexp")
    array_module = backend.xp(x.array)
    m = _shift(x.array, axes)
    m = array_module.where(array_module.isfinite(m), m, 0)  # all −inf rows stay −inf, not NaN
    with np.errstate(divide="ignore"):
        kept = m + array_module.log(array_module.exp(x.array - m).sum(axis=axes, keepdims=True))
    shape = x.shape

    def vjp(g, y):
        y_kept = expand(y, shape, axes)
        return broadcast_to(expand(g, shape, axes), shape) * exp(x - y_kept)
    return result(_dropped(kept, shape, axes, keepdim), "logsumexp", (x,), (vjp,),
                  saved=(x,), saves_output=True)


def _shift(array, axes):
    """max over ``axes`` (kept as size 1): what logsumexp and softmax subtract so that exp
    cannot overflow. Over a 0-length dim there is nothing to shift (0): logsumexp of no
    terms is log 0 = −inf and softmax of an empty dim is empty, as in PyTorch."""
    if builtins.any(array.shape[a] == 0 for a in axes):
        return backend.xp(array).zeros(_kept_shape(array.shape, axes), array.dtype)
    return array.max(axis=axes, keepdims=True)


def _softmax_dim(x, dim, op):
    if dim is None:
        raise TypeError(f"{op}: give dim= (the dim the probabilities sum to 1 over)")
    return normalize_axis(dim, x.ndim, op)


@numpy_aliases
def log_softmax(x, dim=-1, dtype=None):
    """log softmax(x) = x − logsumexp(x): stable for any input size."""
    if dtype is not None:
        x = astype(x, dtype)
    return x - logsumexp(x, _softmax_dim(x, dim, "log_softmax"), keepdim=True)


@numpy_aliases
def softmax(x, dim=-1, dtype=None):
    """softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
    VJP: y ⊙ (g − Σ g⊙y), the Jacobian diag(y) − y yᵀ applied to g without forming it."""
    if dtype is not None:
        x = astype(x, dtype)
    axes = _softmax_dim(x, dim, "softmax")
    array_module = backend.xp(x.array)
    e = array_module.exp(x.array - _shift(x.array, axes))
    data = e / e.sum(axis=axes, keepdims=True)
    return result(data, "softmax", (x,), (lambda g, y: y * (g - sum(g * y, axes, keepdim=True)),),
                  saves_output=True)


# ---- more running (cumulative) reductions and paired statistics -------------------------------
cummax_result = collections.namedtuple("cummax", ["values", "indices"])
cummin_result = collections.namedtuple("cummin", ["values", "indices"])


def _scan_last(x, dim, op):
    """x with ``dim`` swapped to the last place (its own inverse), and that dim."""
    from minigrad.ops.shape import transpose
    d = normalize_dim(dim, x.ndim, op)
    return (transpose(x, d, -1) if x.ndim else x), d


def cumprod(x, dim):
    """Running products along ``dim``, as torch.cumprod. ∂y_j/∂x_i = ∏_{k≤j, k≠i} x_k for
    i ≤ j: the VJP builds those products for every i (an n×n table per row), so zeros in x
    need no division."""
    from minigrad.ops.shape import transpose, unsqueeze
    d = normalize_dim(dim, x.ndim, "cumprod")
    if x.dtype.kind in "biu":
        x = astype(x, dtypes.int64)
    data = backend.xp(x.array).cumprod(x.array, axis=d) if x.ndim else x.array.copy()

    def vjp(g, y):
        if x.ndim == 0:
            return g
        xs, gs = transpose(x, d, -1), transpose(g, d, -1)
        n = xs.shape[-1]
        others = Tensor._wrap(backend.xp(x.array).eye(n, dtype=bool))     # [i, k]: k == i
        table = cumprod(where(others, 1, unsqueeze(xs, -2)), -1)          # [i, j]: ∏_{k≤j, k≠i} x_k
        later = Tensor._wrap(backend.xp(x.array).triu(backend.xp(x.array).ones((n, n), dtype=x.dtype)))
        return transpose(sum(table * later * unsqueeze(gs, -2), -1), d, -1)
    return result(data, "cumprod", (x,), (vjp,), saved=(x,))


def _cumulative_extreme(x, dim, op, accumulate, named):
    """(values, indices) of the running max or min; on ties the later index, as torch. The
    values are gathered from x, so the gradient goes to the element each came from."""
    xs, d = _scan_last(x, dim, op)
    xp = backend.xp(x.array)
    if x.ndim == 0:
        return named(x * 1, Tensor._wrap(xp.zeros((), dtype=np.int64)))
    a = xs.array
    running = accumulate(a, axis=-1)
    positions = xp.broadcast_to(xp.arange(a.shape[-1]), a.shape)
    hit = (a == running) | (xp.isnan(a) if a.dtype.kind == "f" else False)
    index = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=-1) if a.size else positions
    index = Tensor._wrap(xp.ascontiguousarray(xp.swapaxes(index, d, -1)).astype(np.int64))
    return named(gather(x, d, index), index)


def cummax(x, dim):
    """Running maximum along ``dim`` and where it was found (torch.cummax); nan propagates."""
    return _cumulative_extreme(x, dim, "cummax", backend.xp(x.array).maximum.accumulate, cummax_result)


def cummin(x, dim):
    """Running minimum along ``dim`` and where it was found (torch.cummin)."""
    return _cumulative_extreme(x, dim, "cummin", backend.xp(x.array).minimum.accumulate, cummin_result)


def logcumsumexp(x, dim=0):
    """y_j = log Σ_{i≤j} exp(x_i) along ``dim``, accumulated with logaddexp (no overflow).
    ∂y_j/∂x_i = exp(x_i − y_j) for i ≤ j (never above 1, since y_j ≥ x_i)."""
    from minigrad.ops.shape import transpose, unsqueeze
    d = normalize_dim(dim, x.ndim, "logcumsumexp")
    if x.dtype.kind != "f":
        x = astype(x, dtypes.get_default_dtype())
    xp = backend.xp(x.array)
    data = xp.logaddexp.accumulate(x.array, axis=d) if x.ndim and x.shape[d] else x.array.copy()

    def vjp(g, y):
        if x.ndim == 0:
            return g
        xs, ys, gs = transpose(x, d, -1), transpose(y, d, -1), transpose(g, d, -1)
        n = xs.shape[-1]
        later = Tensor._wrap(xp.triu(xp.ones((n, n), dtype=bool)))    # [i, j]: j ≥ i
        weights = where(later, exp(unsqueeze(xs, -1) - unsqueeze(ys, -2)), 0)
        return transpose(sum(weights * unsqueeze(gs, -2), -1), d, -1)
    return result(data, "logcumsumexp", (x,), (vjp,), saved=(x,), saves_output=True)


@numpy_aliases
def var_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """(var, mean) in one call, as torch.var_mean."""
    return var(x, dim, unbiased, keepdim, correction), mean(x, dim, keepdim)


@numpy_aliases
def std_mean(x, dim=None, unbiased=None, keepdim=False, correction=None):
    """(std, mean) in one call, as torch.std_mean."""
    return std(x, dim, unbiased, keepdim, correction), mean(x, dim, keepdim)


aminmax_result = collections.namedtuple("aminmax", ["min", "max"])


def aminmax(x, *, dim=None, keepdim=False):
    """(amin, amax) in one call, as torch.aminmax."""
    return aminmax_result(amin(x, dim, keepdim), amax(x, dim, keepdim))


def count_nonzero(x, dim=None):
    """How many entries are nonzero (int64), over ``dim`` (all by default)."""
    axes = normalize_axis(dim, x.ndim, "count_nonzero")
    return Tensor._wrap(backend.xp(x.array).count_nonzero(x.array, axis=axes).astype(np.int64))


@numpy_aliases
def nansum(x, dim=None, keepdim=False, *, dtype=None):
    """The sum with nan entries counted as 0 (they get no gradient)."""
    if x.dtype.kind != "f":
        return sum(x, dim, keepdim, dtype=dtype)
    return sum(where(Tensor._wrap(backend.xp(x.array).isnan(x.array)), 0.0, x), dim, keepdim, dtype=dtype)


# ---- order statistics: median, nanmedian, kthvalue ---------------------------------------------
median_result = collections.namedtuple("median", ["values", "indices"])
nanmedian_result = collections.namedtuple("nanmedian", ["values", "indices"])
kthvalue_result = collections.namedtuple("kthvalue", ["values", "indices"])


def _order_statistic(x, dim, keepdim, op, position, named):
    """(values, indices) of the element that sits at ``position(n, nans)`` (0-based, an array
    with one entry per row) in each row along ``dim`` sorted ascending and stably, NaNs last
    (they count as the largest, as in torch). ``nans`` is each row's NaN count, so a rule can
    skip them or pick one; rows are picked on the device, nothing is read back. The values
    are gathered from x, so the gradient goes to the index returned, as torch's ``dim=`` forms."""
    d = normalize_dim(dim, x.ndim, op)
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'Bool\'')
    xp = backend.xp(x.array)
    if x.ndim == 0:
        index = Tensor._wrap(xp.zeros((), dtype=np.int64))
        return named(x * 1, index)
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (shape {x.shape}).")
    order = xp.argsort(x.array, axis=d, kind="stable")
    nans = (xp.isnan(x.array).sum(axis=d, keepdims=True) if x.dtype.kind == "f"
            else xp.zeros(_kept_shape(x.shape, (d,)), dtype=np.int64))
    at = position(n, nans).astype(np.int64)
    index = Tensor._wrap(xp.take_along_axis(order, at, axis=d).astype(np.int64))
    values = gather(x, d, index)
    if not keepdim:
        values, index = squeeze(values, d), squeeze(index, d)
    return named(values, index)


def _evenly_shared(x, value, op):
    """The global median (a 0-d array of x's dtype) as a tensor whose gradient is shared
    equally by every element equal to it (by the NaNs when it is NaN), as torch's
    ``median()``/``nanmedian()`` without ``dim`` share it."""
    share = _tie_shares(x.array, value, None)
    shape = x.shape
    return result(value, op, (x,), (lambda g, y: broadcast_to(g, shape) * share,))


def _global_order_statistic(x, op, position):
    """median()/nanmedian() of all elements: the lower median, 0-d; NaN for an empty input."""
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{op}_cpu" not implemented for \'Bool\'')
    xp = backend.xp(x.array)
    if x.numel() == 0:  # nothing to pick: NaN, or for integers the value NaN becomes in torch's cast
        empty = xp.nan if x.dtype.kind == "f" else np.iinfo(x.array.dtype).min
        return Tensor._wrap(xp.full((), empty, dtype=x.array.dtype))
    flat = x.array.reshape(1, -1)
    nans = (xp.isnan(flat).sum(axis=1, keepdims=True) if x.dtype.kind == "f"
            else xp.zeros((1, 1), dtype=np.int64))
    at = position(flat.shape[1], nans).astype(np.int64)
    value = xp.take_along_axis(xp.sort(flat, axis=1), at, axis=1).reshape(())
    return _evenly_shared(x, value, op)


def _lower_median(n, nans):
    """torch.median's rule: the lower of the two middle elements ((n − 1) // 2 of n); a row
    with a NaN gives its first NaN (NaN propagates)."""
    return backend.xp(nans).where(nans > 0, n - nans, (n - 1) // 2)


def _lower_nanmedian(n, nans):
    """torch.nanmedian's rule: the lower median of the row's m = n − nans numbers; a row of
    NaNs only gives its first element (a NaN)."""
    m = n - nans
    return backend.xp(nans).where(m > 0, (m - 1) // 2, 0)


@numpy_aliases
def median(x, dim=None, keepdim=False):
    """The median as torch.median: of the lower of the two middle values for an even count
    (no averaging), NaN where there is a NaN. Without ``dim`` a 0-d tensor (its gradient
    shared by the elements equal to it); with ``dim`` a pair (values, indices) of shape
    x.shape without dim (kept as 1 with ``keepdim``), the gradient going to the index."""
    if dim is None:
        if keepdim:
            raise TypeError("median: keepdim needs dim (median(dim, keepdim=True))")
        return _global_order_statistic(x, "median", _lower_median)
    return _order_statistic(x, dim, keepdim, "median", _lower_median, median_result)


@numpy_aliases
def nanmedian(x, dim=None, keepdim=False):
    """median that ignores NaNs (torch.nanmedian): the lower median of the numbers in each
    row; NaN only where a row holds nothing else."""
    if dim is None:
        if keepdim:
            raise TypeError("nanmedian: keepdim needs dim (nanmedian(dim, keepdim=True))")
        return _global_order_statistic(x, "nanmedian", _lower_nanmedian)
    return _order_statistic(x, dim, keepdim, "nanmedian", _lower_nanmedian, nanmedian_result)


@numpy_aliases
def kthvalue(x, k, dim=-1, keepdim=False):
    """The k-th smallest value (k from 1) along ``dim`` and its index, as torch.kthvalue
    (NaNs count as the largest). Shapes as ``median(dim=)``."""
    d = normalize_dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d} "
                           f"(k={k}, size {n}, shape {x.shape})")
    return _order_statistic(x, d, keepdim, "kthvalue",
                            lambda size, nans: backend.xp(nans).full(nans.shape, k - 1), kthvalue_result)
