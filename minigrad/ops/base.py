"""What every op does before it computes: turn numbers into tensors, and refuse
inputs that live on different devices or whose shapes cannot broadcast."""
import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor


def lift(x, like):
    """``x`` as a Tensor. A Python number takes ``like``'s dtype and device, as in
    PyTorch (``float32_tensor * 2.0`` stays float32); an array keeps its own dtype."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool, np.number)) and like.dtype.kind == "f":
        return Tensor._wrap(backend.xp(like.data).asarray(x, dtype=like.dtype))
    return Tensor(x, device=like.device)


def check_devices(op, *tensors):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        shown = ", ".join(f"{t.shape} on {t.device}" for t in tensors)
        raise RuntimeError(f"{op}: inputs are on different devices ({shown}); "
                           f"move them with .to('cpu') or .to('cuda')")


def binary(op, a, b):
    """Lift a pair of operands and check they can meet: same device, broadcastable."""
    if not isinstance(a, Tensor):
        a = lift(a, b)
    b = lift(b, a)
    check_devices(op, a, b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return a, b


def normalize_axis(axis, ndim, op):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    return tuple(sorted(set(out)))
