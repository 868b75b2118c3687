"""Compile every CUDA kernel to PTX for a real GPU (sm_90, the H100/H200), without a GPU,
and read the instructions a GPU would run.

The simulator runs kernels as Python, so it never meets Numba's CUDA type
inference: a kernel that indexes a 2-D array with one index, or mixes float32 and
float64, would pass there and fail (or crawl) on the device. ``numba.cuda.compile_ptx``
runs the real compiler (NVRTC for the libdevice math), so those errors surface in CI.
Each ``kernels/<family>/cuda.py`` lists ``KERNELS``: (jitted kernel, [argument
types for float32, for float64]).

Two properties of the code a GPU runs fast, read from the PTX:

* **No float64 in a float32 kernel.** A stray Python float (``0.0``, ``-math.inf``, an
  int64 count in a division) promotes the arithmetic around it to float64, which a GPU
  runs at a fraction of float32's rate (1/64 on consumer cards). The only float64
  allowed is a family's documented accumulators (``FLOAT64_ACCUMULATORS``: kernel name
  → what it sums), and there only additions, conversions, moves, loads and stores.
* **32-bit index divisions.** Integer division and remainder of int64 operands is a
  software routine; kernels divide through ``kernels.cuda_launch.divmod32``. LLVM still
  divides once per thread in 64 bits to count a grid-stride loop's iterations
  (``TRIP_COUNT_DIVISIONS``), outside the loop.
"""
import functools
import importlib
import os
import re

import pytest

FAMILIES = ["conv", "pool", "relu", "batchnorm"]
ACCUMULATOR_OPCODES = {"add", "cvt", "mov", "ld", "st", "mul"}  # mul: the fold's 1/M scale
TRIP_COUNT_DIVISIONS = {"_partial_sums": 1, "_backward_partial_sums": 1}

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
                                reason="compile_ptx needs the real CUDA target, not the simulator")


@functools.lru_cache(maxsize=None)
def kernels(family):
    """[(kernel name, {"float32": ptx, "float64": ptx})] of kernels/<family>/cuda.py."""
    try:
        from numba import cuda
    except ImportError as error:  # pragma: no cover - numba-cuda is a test dependency
        pytest.skip(f"numba-cuda is not installed: {error}")
    module = importlib.import_module(f"kernels.{family}.cuda")
    assert module.KERNELS, f"kernels/{family}/cuda.py lists no kernels"
    out = []
    for kernel, signatures in module.KERNELS:
        assert len(signatures) == 2, f"{kernel.__name__}: give one signature for float32 and one for float64"
        ptx = {}
        for dtype, signature in zip(("float32", "float64"), signatures):
            try:
                ptx[dtype], _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
            except Exception as error:
                if "nvrtc" in str(error).lower() and "not found" in str(error).lower():
                    pytest.skip(f"NVRTC is not available (pip install 'numba-cuda[cu12]'): {error}")
                raise
        out.append((kernel.__name__, ptx))
    return out


def instructions(ptx):
    """The PTX instruction lines (no directives, labels, braces or comments), predicates dropped."""
    lines = (re.sub(r"^@!?%p\d+\s+", "", line.strip()) for line in ptx.splitlines())
    return [line for line in lines if line and not line.startswith((".", "/", "$", "{", "}"))]


def float64_opcodes(ptx):
    return [line.split()[0] for line in instructions(ptx) if re.search(r"\.f64\b", line.split()[0])]


def divisions_64(ptx):
    return [line for line in instructions(ptx) if re.match(r"(div|rem)\.\S*[su]64\b", line)]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_cuda_kernel_compiles_to_ptx(family):
    for name, ptx in kernels(family):
        for dtype, text in ptx.items():
            assert ".entry" in text, f"{name} ({dtype}): no kernel entry in its PTX"


@pytest.mark.parametrize("family", FAMILIES)
def test_float32_kernels_do_no_float64_arithmetic(family):
    allowed = getattr(importlib.import_module(f"kernels.{family}.cuda"), "FLOAT64_ACCUMULATORS", {})
    for name, ptx in kernels(family):
        opcodes = float64_opcodes(ptx["float32"])
        if name in allowed:
            assert opcodes, f"{name} is listed in FLOAT64_ACCUMULATORS but does no float64 arithmetic"
            stray = sorted({op for op in opcodes if op.split(".")[0] not in ACCUMULATOR_OPCODES})
            assert not stray, f"{name}: float64 beyond its accumulators ({allowed[name]}): {stray}"
        else:
            assert not opcodes, f"{name}, float32: {len(opcodes)} float64 instructions: {sorted(set(opcodes))}"


@pytest.mark.parametrize("family", FAMILIES)
def test_index_divisions_are_32_bit(family):
    for name, ptx in kernels(family):
        found = divisions_64(ptx["float32"])
        assert len(found) <= TRIP_COUNT_DIVISIONS.get(name, 0), \
            f"{name}: {len(found)} 64-bit integer divisions (divide indices with cuda_launch.divmod32): {found}"


def test_the_ptx_reader_sees_float64_and_64_bit_division():
    """The checks above can fail: a kernel with a Python float and an int64 division trips both."""
    import numba
    from numba import cuda

    def sloppy(x, n):
        i = cuda.grid(1)
        if i < x.size:
            x[i] = x[i] * 0.5 + i // n

    ptx, _ = cuda.compile_ptx(sloppy, (numba.float32[::1], numba.int64), cc=(9, 0))
    assert float64_opcodes(ptx) and divisions_64(ptx)
