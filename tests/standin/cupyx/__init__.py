"""``cupyx`` stood in (see ``cupy``'s docstring): scatter operations, pinned host memory,
``cupyx.scipy.special``."""
import numpy

from cupy import _core
from cupyx import scipy  # noqa: F401


def _scatter(ufunc):
    def scatter(a, slices, value):
        """``a[slices] (op)= value`` with repeated indices combined, in place on the device."""
        ufunc.at(a._a, _core._index(slices), _core.unwrap(value))
    return scatter


scatter_add = _scatter(numpy.add)
scatter_max = _scatter(numpy.maximum)
scatter_min = _scatter(numpy.minimum)


def rsqrt(x):
    return _core.call(lambda a: 1 / numpy.sqrt(a), x)


# pinned memory is host memory: NumPy arrays
def empty_pinned(shape, dtype=float, order="C"):
    return numpy.empty(shape, dtype=dtype, order=order)


def zeros_pinned(shape, dtype=float, order="C"):
    return numpy.zeros(shape, dtype=dtype, order=order)


def empty_like_pinned(a, dtype=None, order="K", subok=None, shape=None):
    return numpy.empty(a.shape if shape is None else shape, dtype=dtype or a.dtype)


def zeros_like_pinned(a, dtype=None, order="K", subok=None, shape=None):
    return numpy.zeros(a.shape if shape is None else shape, dtype=dtype or a.dtype)
