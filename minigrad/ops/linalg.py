"""Matrix product. For Y = A B:  gA = G Bᵀ  and  gB = Aᵀ G  (with batch axes
broadcast as NumPy's and PyTorch's matmul do, then summed back by ``sum_to``)."""
import numpy as np

from kernels import cpu_threads
from minigrad import backend, dtypes
from minigrad.ops.base import cast, check_devices, lift
from minigrad.ops.shape import reshape, sum_to, transpose
from minigrad.tensor import Tensor, result


def matmul(a, b):
    """torch.matmul: 1-D @ 1-D is a dot product of shape (); a 1-D operand is a row
    (left) or a column (right) whose dim is dropped afterwards; batch dims broadcast."""
    if not isinstance(a, Tensor):
        a = lift(a, b)
    b = lift(b, a)
    check_devices("matmul", a, b)
    dtype = dtypes.result_type(a, b)
    a, b = cast(a, dtype), cast(b, dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(matmul(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        y = matmul(reshape(a, (1,) + a.shape), b)
        return reshape(y, y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        return reshape(matmul(a, reshape(b, b.shape + (1,))), a.shape[:-1])
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"(inner dimensions {a.shape[-1]} and {b.shape[-2]} differ)")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: the batch dimensions {a.shape[:-2]} and {b.shape[:-2]} of shapes "
                           f"{a.shape} and {b.shape} cannot be broadcast together") from None
    product = a.data @ b.data if backend.is_cupy(a.data) else cpu_threads.matmul(a.data, b.data)
    return result(product, "matmul", (a, b),
                  (lambda g, y: sum_to(matmul(g, transpose(b, -1, -2)), a.shape),
                   lambda g, y: sum_to(matmul(transpose(a, -1, -2), g), b.shape)),
                  saved=(b,) * a.requires_grad + (a,) * b.requires_grad)
