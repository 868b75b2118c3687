"""Shared test settings: hypothesis profiles sized for a 2-core CI machine."""
import os

import pytest
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


@pytest.fixture(autouse=True)
def _seeded_default_generator():
    """Every test starts from the same default generator, as PyTorch's own test suite does:
    minigrad seeds it from the operating system at import (unseeded programs differ from run
    to run, as in torch), and a test's draws must not depend on the tests that ran before it."""
    import minigrad  # here, not at the top: tests/cuda sets up the simulator before minigrad loads
    minigrad.manual_seed(0)


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


def pytest_configure(config):
    config.addinivalue_line("markers", "long(seconds): a test that takes about this many seconds on an idle "
                                       "2-core machine; long tests start first")
    # pytest-xdist's own marker, named here too so that a run without xdist knows it
    config.addinivalue_line("markers", "xdist_group(name): tests that share a worker under --dist loadgroup")


def pytest_collection_modifyitems(items):
    """The long tests first, the longest first (a stable sort: the rest keep their order).
    With ``-n 2`` (pytest-xdist, as the README runs the suite) each worker takes the next
    test when it is free, so the long ones run beside the short ones instead of one of
    them running alone on one core at the end."""
    def seconds(item):
        mark = item.get_closest_marker("long")
        return mark.args[0] if mark else 0
    items.sort(key=seconds, reverse=True)
