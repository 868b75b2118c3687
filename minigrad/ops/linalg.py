"""Matrix product. For Y = A B:  gA = G Bᵀ  and  gB = Aᵀ G  (with batch axes
broadcast as NumPy's matmul does, then summed back by ``sum_to``)."""
from kernels import cpu_threads
from minigrad import backend
from minigrad.ops.base import check_devices, lift
from minigrad.ops.shape import reshape, sum_to, transpose
from minigrad.tensor import Tensor, result


def _swap_last(t):
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(t, axes)


def matmul(a, b):
    if not isinstance(a, Tensor):
        a = lift(a, b)
    b = lift(b, a)
    check_devices("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: needs tensors with at least 1 dimension, got shapes {a.shape} and {b.shape}")
    # Vectors become matrices (a row on the left, a column on the right) and the
    # extra axis is dropped afterwards, so one rule covers every case.
    if a.ndim == 1:
        y = matmul(reshape(a, (1,) + a.shape), b)
        return reshape(y, y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        return reshape(matmul(a, reshape(b, b.shape + (1,))), a.shape[:-1])
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match "
                         f"(inner dimensions {a.shape[-1]} and {b.shape[-2]} differ)")
    product = a.data @ b.data if backend.is_cupy(a.data) else cpu_threads.matmul(a.data, b.data)
    return result(product, "matmul", (a, b),
                  (lambda g, y: sum_to(matmul(g, _swap_last(b)), a.shape),
                   lambda g, y: sum_to(matmul(_swap_last(a), g), b.shape)))
