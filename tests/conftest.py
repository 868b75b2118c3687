"""Shared test settings: hypothesis profiles sized for a 2-core CI machine."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _cuda_face_runs_here():
    """tests/cuda runs in this process only where the cuda face can: under the
    simulator, or with CuPy and a GPU. Elsewhere test_cuda_face.py runs it in a
    subprocess under the simulator."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


collect_ignore = [] if _cuda_face_runs_here() else ["cuda"]


def _cupy_here():
    """CuPy (or the CuPy stand-in of tests/standin, put first on PYTHONPATH) with a device."""
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# tests/test_device_cupy_*.py put CuPy arrays through the whole project; without CuPy
# tests/test_device_standin.py runs them in a subprocess on the stand-in
collect_ignore_glob = [] if _cupy_here() else ["test_device_cupy_*.py"]
