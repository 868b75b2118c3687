"""Rearrangements built from the shape ops, so their gradients are those ops' own:
``rot90`` (flips and a transpose), ``tensor_split`` (slices) and ``kron`` (a broadcast
product, reshaped)."""
import numpy as np

from minigrad import dtypes
from minigrad.ops.base import normalize_dim
from minigrad.ops.shape import astype, flip, narrow, reshape, transpose
from minigrad.tensor import Tensor


def rot90(x, k=1, dims=(0, 1)):
    """x turned by k quarter turns in the plane ``dims``, from the first dim towards the
    second (torch.rot90); k may be negative. One turn is flip(dims[1]) then transpose."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = (normalize_dim(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(x, d1), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return transpose(flip(x, d0), d0, d1)
    return x * 1  # a new tensor, as torch's copy


def tensor_split(x, indices_or_sections=None, dim=0, *, sections=None, indices=None):
    """Views of x along ``dim`` (torch.tensor_split): ``sections`` (an int) near-equal pieces,
    the first n % sections one longer; or a list of indices where each piece starts (indices
    past the end give empty pieces). A 0-d integer tensor counts as sections, a 1-d one as
    indices. ``sections=`` and ``indices=`` name the two forms, as torch's overloads do."""
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split(): give one of indices_or_sections, sections= or indices=")
    d = normalize_dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    cuts = given[0]
    if isinstance(cuts, Tensor):  # torch wants it on the CPU: reading it is a host read there too
        if cuts.dtype.kind not in "iu" or cuts.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor of int64, got shape {cuts.shape} and dtype {cuts.dtype}")
        cuts = cuts.tolist()
    if isinstance(cuts, (int, np.integer)) and not isinstance(cuts, bool):
        if cuts <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got {cuts}")
        size, longer = divmod(n, int(cuts))
        bounds = np.cumsum([0] + [size + 1] * longer + [size] * (int(cuts) - longer))
    else:
        bounds = [0] + [min(max(c + n if c < 0 else c, 0), n) for c in cuts] + [n]
    return tuple(narrow(x, d, int(start), max(int(stop) - int(start), 0))
                 for start, stop in zip(bounds[:-1], bounds[1:]))


def kron(a, b):
    """The Kronecker product (torch.kron): with both padded to the same number of dims,
    out[i·m + j] = a[i] · b[j] in every dim, so out.shape = a.shape × b.shape elementwise.
    Built as a broadcast product of a (…, p, 1, …) and b (…, 1, m, …), then reshaped."""
    dtype = dtypes.result_type(a, b)
    a, b = (t if t.dtype == dtype else astype(t, dtype) for t in (a, b))
    ndim = max(a.ndim, b.ndim)
    sa, sb = (1,) * (ndim - a.ndim) + tuple(a.shape), (1,) * (ndim - b.ndim) + tuple(b.shape)
    spread_a = reshape(a, [n for p in sa for n in (p, 1)])
    spread_b = reshape(b, [n for m in sb for n in (1, m)])
    return reshape(spread_a * spread_b, [p * m for p, m in zip(sa, sb)])
