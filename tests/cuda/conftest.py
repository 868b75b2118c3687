"""The CUDA face's tests: real CuPy arrays on a GPU, or NumPy arrays under Numba's
CUDA simulator (``NUMBA_ENABLE_CUDASIM=1 MINIGRAD_FACE=cuda``; see
``tests/test_cuda_face.py``, which runs this folder that way in CI).

Helpers for moving arrays live in ``cuda_arrays.py`` beside this file.
Keep shapes small: each simulated thread is a Python thread.
"""
import pytest


@pytest.fixture(autouse=True)
def _cuda_face(monkeypatch):
    # every call in this folder goes through the cuda face
    monkeypatch.setenv("MINIGRAD_FACE", "cuda")
