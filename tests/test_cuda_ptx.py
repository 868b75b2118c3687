"""Compile every CUDA kernel to PTX for a real GPU (sm_90, the H100/H200), without a GPU.

The simulator runs kernels as Python, so it never meets Numba's CUDA type
inference: a kernel that indexes a 2-D array with one index, or mixes float32 and
float64, would pass there and fail on the device. ``numba.cuda.compile_ptx`` runs
the real compiler (NVRTC for the libdevice math), so those errors surface in CI.
Each ``kernels/<family>/cuda.py`` lists ``KERNELS``: (jitted kernel, [argument
types for float32, for float64]).
"""
import importlib
import os

import pytest

FAMILIES = ["conv", "pool", "relu", "batchnorm"]

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1",
                                reason="compile_ptx needs the real CUDA target, not the simulator")


@pytest.mark.parametrize("family", FAMILIES)
def test_every_cuda_kernel_compiles_to_ptx(family):
    try:
        from numba import cuda
    except ImportError as error:  # pragma: no cover - numba-cuda is a test dependency
        pytest.skip(f"numba-cuda is not installed: {error}")
    module = importlib.import_module(f"kernels.{family}.cuda")
    assert module.KERNELS, f"kernels/{family}/cuda.py lists no kernels"
    for kernel, signatures in module.KERNELS:
        assert len(signatures) == 2, f"{kernel.__name__}: give one signature for float32 and one for float64"
        for signature in signatures:
            try:
                ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0))
            except Exception as error:
                if "nvrtc" in str(error).lower() and "not found" in str(error).lower():
                    pytest.skip(f"NVRTC is not available (pip install 'numba-cuda[cu12]'): {error}")
                raise
            assert ".entry" in ptx
