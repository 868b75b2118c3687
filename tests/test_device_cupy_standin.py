"""The CuPy stand-in itself is as strict as CuPy, counts what it should, and hands
Numba's simulator the buffers it wraps. Runs where ``import cupy`` finds the stand-in
(``tests/test_device_standin.py`` arranges it)."""
import numpy as np
import pytest

import cupy
from numba import cuda

pytestmark = pytest.mark.skipif(not getattr(cupy, "STANDIN", False), reason="tests the stand-in, not CuPy")


@pytest.fixture(autouse=True)
def fresh_counts():
    cupy._counts.reset()


def test_implicit_host_conversions_are_refused_and_counted():
    a = cupy.arange(6.0).reshape(2, 3)
    for attempt in (lambda: np.asarray(a), lambda: np.exp(a), lambda: np.sum(a), lambda: a + np.ones(3),
                    lambda: np.ones(3) + a, lambda: cupy.maximum(a, np.zeros(3)),
                    lambda: cupy.ascontiguousarray(np.zeros(3))):
        with pytest.raises(TypeError):
            attempt()
    assert cupy._counts.totals()["refused"] == 7


def test_reductions_are_device_arrays_and_reads_are_counted():
    a = cupy.asarray(np.arange(6.0))          # one copy to the device
    total = a.sum()
    assert isinstance(total, cupy.ndarray) and total.shape == ()
    assert float(total) == 15.0 and total.item() == 15.0 and bool(total)  # three scalar reads
    np.testing.assert_array_equal(cupy.asnumpy(a), np.arange(6.0))        # one copy back
    assert a[a > 2].shape == (3,)                                        # a boolean mask: a sync
    counts = cupy._counts.totals()
    assert counts == {"h2d": 1, "d2h": 1, "scalar": 3, "sync": 1, "refused": 0}
    site = next(iter(cupy._counts.counts()["scalar"]))
    assert site.startswith("tests/test_device_cupy_standin.py:")


def test_the_simulator_writes_the_wrapped_buffer():
    @cuda.jit
    def double(x, y):
        i = cuda.grid(1)
        if i < x.size:
            y[i] = 2 * x[i]

    x = cupy.arange(5, dtype=np.float32)
    y = cupy.zeros(5, dtype=np.float32)
    double[1, 8](x, y)
    np.testing.assert_array_equal(y.get(), 2 * np.arange(5, dtype=np.float32))
    assert cupy._counts.totals()["h2d"] == 0  # the kernel got the buffer, not a copy
