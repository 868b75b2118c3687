"""Ops on CuPy arrays: no host array is made or read where the CPU run makes none, and
the results are the CPU's. Runs where ``import cupy`` finds CuPy or the stand-in
(``tests/test_device_standin.py`` arranges the stand-in, whose counts are checked)."""
import numpy as np
import pytest

import cupy
import minigrad as mg
import minigrad.functional as F

STANDIN = getattr(cupy, "STANDIN", False)


@pytest.fixture(autouse=True)
def fresh_counts():
    if STANDIN:
        cupy._counts.reset()


def counted(kind):
    return sum(cupy._counts.counts()[kind].values()) if STANDIN else 0


def both(make):
    """``make(device)`` on the CPU and on the device (the device's counted alone)."""
    cpu = make("cpu")
    if STANDIN:
        cupy._counts.reset()
    return cpu, make("cuda")


@pytest.mark.parametrize("dtype, number, expected", [("float32", 2.0, "float32"), ("float64", 2.0, "float64"),
                                                     ("float16", 3, "float16"), ("int64", 2, "float32"),
                                                     ("int32", 2.5, "float32")])
def test_a_python_number_goes_to_the_device_as_a_scalar(dtype, number, expected):
    def make(device):
        x = mg.tensor(np.arange(1, 7).reshape(2, 3).astype(dtype), device=device)
        return (x * number + number) / number - number  # true division: ints give float32
    cpu, gpu = both(make)
    assert gpu.dtype == cpu.dtype == np.dtype(expected)  # PyTorch's dtype rule, on both devices
    assert counted("h2d") == (1 if STANDIN else 0)  # x itself: nothing made on the host for the numbers
    np.testing.assert_array_equal(gpu.numpy(), cpu.numpy())


def test_gradients_through_scalars_match_the_cpu():
    def make(device):
        x = mg.tensor(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3), device=device, requires_grad=True)
        (((x * 3.0 + 1) ** 2) / 4.0 - x.masked_fill(x > 0, 0.5)).sum().backward()
        return x.grad.numpy()
    cpu, gpu = both(make)
    np.testing.assert_array_equal(gpu, cpu)
