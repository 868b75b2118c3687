"""Launching two-rank MPI runs from the admm tests (imported by them, not collected).

MPICH's ``mpiexec`` can return 0 when a rank vanished, so callers assert on what
rank 0 printed, and every launch runs under ``MPIEXEC_TIMEOUT`` (MPICH kills the job
when it expires) as well as a subprocess timeout.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else one on PATH, else None."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def require_mpi():
    """Skip — with the reason — only when mpiexec or mpi4py is truly absent."""
    if mpiexec() is None:
        pytest.skip("mpiexec not found beside this Python or on PATH (pip install 'minigrad[mpi]' installs it)")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        pytest.skip("mpi4py is not installed (pip install 'minigrad[mpi]')")


def environment(timeout):
    return dict(os.environ, MPIEXEC_TIMEOUT=str(timeout), MPLBACKEND="Agg", OMP_NUM_THREADS="1",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def launch(args, timeout=90, cwd=None):
    """Run ``mpiexec ARGS`` → CompletedProcess (text output)."""
    return subprocess.run([mpiexec()] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout + 30, env=environment(timeout), cwd=cwd or ROOT)
