"""What every op does before it computes: turn numbers into tensors of the result
dtype (PyTorch's promotion rules, ``minigrad.dtypes``), refuse inputs that live on
different devices or whose shapes cannot broadcast, and read dims as PyTorch does."""
import functools

import numpy as np

from minigrad import backend, dtypes
from minigrad.creation import as_tensor
from minigrad.tensor import Tensor


def lift(x, like, dtype=None, scalar=False):
    """``x`` as a Tensor on ``like``'s device. A Python number becomes a 0-d tensor of
    ``dtype`` (default: the dtype PyTorch gives it next to ``like``, so
    ``float32_tensor * 2.0`` stays float32 and ``int_tensor * 2.5`` is float32).
    With ``scalar=True``, next to a GPU tensor the number's array is a NumPy scalar of
    that dtype, which CuPy passes to its kernels as an argument: no device array is
    allocated and filled for it (a 0-d CPU tensor may meet a GPU tensor, as in PyTorch).
    Only for an operand that comes second (``x * 2.0``): NumPy's scalar on the left of an
    operator would hand the GPU array to a NumPy ufunc."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool, np.number, np.bool_)):
        if dtype is None:  # a number never raises a float tensor's dtype: skip the full rule
            dtype = like.dtype if like.dtype.kind == "f" else dtypes.result_type(like, x)
        if scalar and backend.is_cupy(like.array):
            return Tensor._wrap(np.dtype(dtype).type(x))
        return Tensor._wrap(backend.xp(like.array).asarray(x, dtype=dtype))
    return as_tensor(x, dtype=dtype, device=like.device)


def check_devices(op, *tensors):
    kind = type(tensors[0].array)
    if all(type(t.array) is kind for t in tensors):  # the usual case, without building device names
        return
    devices = {t.device for t in tensors if not isinstance(t.array, np.generic)}  # a lifted number: anywhere
    if len(devices) > 1:
        shown = ", ".join(f"{t.shape} on {t.device}" for t in tensors)
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); "
                           f"move them with .to('cpu') or .to('cuda')")


def broadcast_shapes(op, *shapes):
    """The broadcast shape, or PyTorch's RuntimeError naming the op and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise RuntimeError(f"{op}: shapes {shown} cannot be broadcast together") from None


def binary(op, a, b, dtype=None):
    """Lift a pair of operands to tensors of one dtype (PyTorch's result type, or
    ``dtype``) and check they can meet: same device, broadcastable shapes."""
    like = a if isinstance(a, Tensor) else b
    if not isinstance(like, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    a, b = lift(a, like), lift(b, like, scalar=True)
    if dtype is None:  # the common case first: one dtype already, nothing to promote
        dtype = a.dtype if a.dtype == b.dtype else dtypes.result_type(a, b)
    a, b = a.to(dtype=dtype), b.to(dtype=dtype)  # differentiable casts; no-ops when already dtype
    check_devices(op, a, b)
    broadcast_shapes(op, a.shape, b.shape)
    return a, b


def normalize_dim(dim, ndim, op):
    """One dim as a non-negative int; out of range is PyTorch's IndexError. A 0-d
    tensor accepts 0 and -1, as in PyTorch."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-size}, {size - 1}], but got {dim})")
    return int(dim) % size


def normalize_axis(dim, ndim, op):
    """``dim`` (None for all, an int, or a tuple of ints) as a sorted tuple of
    non-negative dims. On a 0-d tensor dim 0 or -1 is the empty tuple: nothing to reduce."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = [normalize_dim(d, ndim, op) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {dim} names a dimension more than once")
    return tuple(sorted(out)) if ndim else ()


def numpy_aliases(fn):
    """Accept NumPy's ``axis=``/``keepdims=`` as aliases of ``dim=``/``keepdim=``, as
    PyTorch does; the meaning is always PyTorch's."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if alias in kwargs:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}: got both {name}= and its alias {alias}=")
                kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return wrapper
