"""Run tests/cuda under Numba's CUDA simulator, in a fresh interpreter.

The simulator must be switched on before Numba is imported, which this test
process has long done, so the CUDA face's tests run as a subprocess with
``NUMBA_ENABLE_CUDASIM=1`` and ``MINIGRAD_FACE=cuda``: every CUDA kernel, its
launcher and its checks execute thread by thread, on the device arrays of the CuPy
stand-in (``tests/standin``), which hand the simulator the NumPy buffers they wrap.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.long(100)
def test_cuda_face_under_the_simulator():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", MINIGRAD_FACE="cuda",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests" / "standin"), str(ROOT),
                                                         os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "cuda")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    tail = run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"the CUDA face failed under the simulator:\n{tail}"
    assert " passed" in run.stdout, tail
