"""Run the device tests on the CuPy stand-in (``tests/standin``), in a fresh interpreter.

Without CuPy and a GPU the tests that put CuPy arrays through the project
(``tests/test_device_cupy_*.py``, ``tests/test_optim_cuda.py``) would skip. Here they
run in a subprocess whose ``PYTHONPATH`` starts with the stand-in, under Numba's CUDA
simulator (which must be on before Numba is imported, so it cannot be this process):
every ``import cupy`` of the project and of the jobs those tests start finds the
stand-in, which refuses implicit host conversions as CuPy does and counts transfers.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STANDIN = ROOT / "tests" / "standin"


def standin_env(**extra):
    """The environment of a process that sees the stand-in as CuPy."""
    path = os.pathsep.join(filter(None, [str(STANDIN), str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=path, **extra)
    env.pop("MINIGRAD_FACE", None)
    return env


@pytest.mark.long(90)
def test_device_tests_on_the_standin():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is importable here: the device tests run in this process")
    except ImportError:
        pass
    files = sorted(str(p) for p in (ROOT / "tests").glob("test_device_cupy_*.py")) + [str(ROOT / "tests" / "test_optim_cuda.py")]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
                         cwd=ROOT, env=standin_env(), capture_output=True, text=True, timeout=900)
    tail = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"the device tests failed on the CuPy stand-in:\n{tail}"
    assert " passed" in run.stdout and " skipped" not in run.stdout, tail
