"""``cupyx`` stood in (see ``cupy``'s docstring): scatter operations, pinned host memory,
``cupyx.scipy.special``."""
import numpy

from cupy import _core
from cupyx import scipy  # noqa: F401


# the dtypes CuPy's scatter kernels take (CUDA's atomics; CuPy raises TypeError for others)
_SCATTER_DTYPES = {"add": "int32 float16 float32 float64 uint32 uint64".split(),
                   "max": "int32 float32 float64 uint32 uint64".split(),
                   "min": "int32 float32 float64 uint32 uint64".split()}


def _scatter(ufunc, name):
    def scatter(a, slices, value):
        """``a[slices] (op)= value`` with repeated indices combined, in place on the device.
        Out-of-range indices wrap around, as in indexing (CuPy's docstring of
        ``scatter_add``: it "does not raise an error when indices exceed size of axes.
        Instead, it wraps indices")."""
        if a.dtype.name not in _SCATTER_DTYPES[name]:
            raise TypeError(f"scatter_{name} only supports {', '.join(_SCATTER_DTYPES[name])} as data type")
        with numpy.errstate(all="ignore"):  # a GPU kernel warns of nothing
            ufunc.at(a._a, _core._index(slices, a.shape), _core.unwrap(value))
    scatter.__name__ = f"scatter_{name}"
    return scatter


scatter_add = _scatter(numpy.add, "add")
scatter_max = _scatter(numpy.maximum, "max")
scatter_min = _scatter(numpy.minimum, "min")


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
