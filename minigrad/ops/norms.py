"""Norms as ``torch.linalg`` defines them — ``vector_norm`` (any order p), ``matrix_norm``
('fro', 'nuc', ±1, ±2, ±inf) — and ``cdist``, the p-norm distance between every pair of
rows of two sets. The 2-norm is ``reduce.norm``; inf, 1 and the matrix orders built on sums
and amax/amin are composites, so ties share the gradient as torch's do; only the general
p and the singular-value orders carry their own VJP."""
import math

import numpy as np

from minigrad import backend, dtypes
from minigrad.ops.base import broadcast_shapes, normalize_axis
from minigrad.ops.elementwise import abs, sign, where
from minigrad.ops.reduce import _dropped, amax, amin, expand, norm, sum
from minigrad.ops.shape import astype, broadcast_to, movedim, squeeze, unsqueeze
from minigrad.tensor import Tensor, result


def _floating(x, dtype, op):
    if dtype is not None:
        if x.dtype.kind == "f" and x.array.dtype.itemsize > np.dtype(dtype).itemsize:
            raise RuntimeError(f"{op}: the dtype of the input ({x.dtype}) should be convertible without "
                               f"narrowing to the specified dtype ({dtype})")
        x = astype(x, dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {x.dtype}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """(Σ|x|^ord)^(1/ord) over ``dim`` (all dims by default), as torch.linalg.vector_norm:
    ord inf/−inf is max/min |x|, ord 0 counts the nonzero entries (no gradient).
    For other ord, ∂/∂x = sign(x)·|x|^(ord−1) / ‖x‖^(ord−1), and 0 where x or the norm is 0
    (torch's choice at the kink)."""
    x = _floating(x, dtype, "linalg.vector_norm")
    if isinstance(ord, str) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    axes = normalize_axis(dim, x.ndim, "linalg.vector_norm")
    if math.isinf(ord) and x.numel() == 0 and (dim is None or any(x.shape[a] == 0 for a in axes)):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because the "
                           f"operation does not have an identity")
    if ord == 2:
        return norm(x, 2, axes, keepdim)
    if ord == math.inf:
        return amax(abs(x), axes, keepdim)
    if ord == -math.inf:
        return amin(abs(x), axes, keepdim)
    if ord == 1:
        return sum(abs(x), axes, keepdim)
    shape = x.shape
    if ord == 0:  # a count: in the graph, as torch's, with gradient 0
        return result((x.array != 0).sum(axis=axes, keepdims=keepdim).astype(x.array.dtype), "vector_norm", (x,),
                      (lambda g, y: broadcast_to(expand(g, shape, axes), shape) * 0,))
    xp = backend.xp(x.array)
    kept = (xp.abs(x.array) ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)

    def vjp(g, y):
        y_kept = expand(y, shape, axes)
        scale = where(y_kept == 0, 0.0, expand(g, shape, axes) / where(y_kept == 0, 1.0, y_kept) ** (ord - 1))
        return sign(x) * where(x == 0, 1.0, abs(x)) ** (ord - 1) * scale
    return result(_dropped(kept, shape, axes, keepdim), "vector_norm", (x,), (vjp,), saved=(x,),
                  saves_output=True)


def _singular_value_norm(a, ord):
    """'nuc' (Σσ), 2 (σ_max) or −2 (σ_min) of the matrices in a's last two dims. With
    A = U Σ Vᵀ: ∂Σσ/∂A = U Vᵀ, ∂σ_i/∂A = u_i v_iᵀ (distinct singular values assumed, as torch)."""
    xp = backend.xp(a.array)
    u, s, vh = xp.linalg.svd(a.array, full_matrices=False)
    if ord == "nuc":
        value, direction = s.sum(axis=-1), u @ vh
    else:
        i = 0 if ord == 2 else -1  # singular values come largest first
        value, direction = s[..., i], u[..., :, i, None] * vh[..., i, None, :]
    direction = Tensor._wrap(direction)
    return result(value, f"matrix_norm_{ord}", (a,), (lambda g, y: unsqueeze(unsqueeze(g, -1), -1) * direction,),
                  first_order=True)


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The norm of the matrices spanned by ``dim`` (two dims), as torch.linalg.matrix_norm:
    'fro' √Σa², 'nuc' the sum of singular values, ±2 the largest/smallest singular value,
    1/−1 the max/min column sum of |a|, inf/−inf the max/min row sum."""
    a = _floating(a, dtype, "linalg.matrix_norm")
    if a.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    dims = list(dim)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dims}")
    d0, d1 = normalize_axis(dims[0], a.ndim, "linalg.matrix_norm")[0], \
        normalize_axis(dims[1], a.ndim, "linalg.matrix_norm")[0]
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if ord == "fro":
        return vector_norm(a, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        value = _singular_value_norm(movedim(a, (d0, d1), (-2, -1)), ord)
        if keepdim:
            for d in sorted((d0, d1)):
                value = unsqueeze(value, d)
        return value
    sums = {1: (d0, d1, amax), -1: (d0, d1, amin), math.inf: (d1, d0, amax), -math.inf: (d1, d0, amin)}
    if isinstance(ord, str) or ord not in sums:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, picked, pick = sums[ord]
    value = pick(sum(abs(a), summed, keepdim=True), picked, keepdim=True)
    return value if keepdim else squeeze(squeeze(value, max(d0, d1)), min(d0, d1))


def linalg_norm(a, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm over one dim (or all, flattened, when neither ord
    nor dim is given), a matrix norm over two; with ord and no dim, a 1-D or 2-D input
    decides which."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2 or isinstance(ord, str):  # a named order is a matrix norm's
            return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(a, 2, None, keepdim, dtype=dtype)
    if a.ndim == 1:
        return vector_norm(a, ord, None, keepdim, dtype=dtype)
    if a.ndim == 2:
        return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                       f"Got {a.ndim}D.")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """‖x1[..., i, :] − x2[..., j, :]‖_p for every pair (torch.cdist): x1 (…, P, M) and
    x2 (…, R, M), batch dims broadcast, give (…, P, R). The differences are formed in full
    (P·R·M numbers) and reduced by ``vector_norm``, so a zero distance has gradient 0, as in
    torch. ``compute_mode`` is accepted for torch's signature; the result is the direct one."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {t.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. "
                           f"X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"cdist: {compute_mode} is not a valid value for compute_mode")
    dtype = dtypes.result_type(x1, x2)
    x1, x2 = (t if t.dtype == dtype else astype(t, dtype) for t in (x1, x2))
    batch = broadcast_shapes("cdist", x1.shape[:-2], x2.shape[:-2])
    x1 = broadcast_to(x1, batch + tuple(x1.shape[-2:]))
    x2 = broadcast_to(x2, batch + tuple(x2.shape[-2:]))
    differences = unsqueeze(x1, -2) - unsqueeze(x2, -3)
    if differences.shape[-1] == 0:  # no coordinates: every distance is 0 (inf has no identity)
        return sum(differences, -1)
    return vector_norm(differences, p, -1)
