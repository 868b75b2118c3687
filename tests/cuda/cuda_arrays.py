"""``on_device(array)`` puts a NumPy array where the cuda face reads it (CuPy on a
GPU or the CuPy stand-in of ``tests/standin``, NumPy under the bare simulator);
``to_host(array)`` brings a result back, for comparison with the reference face."""
import numpy as np

from kernels import face

# the stand-in's arrays hand the simulator their NumPy buffers, so kernels take them
GPU = face.cupy is not None and (not face.simulated() or getattr(face.cupy, "STANDIN", False))


def on_device(array):
    return face.cupy.asarray(array) if GPU else np.ascontiguousarray(array)


def to_host(array):
    return face.cupy.asnumpy(array) if face.is_cupy(array) else np.asarray(array)
