"""Our own array kernels: convolution, pooling, ReLU and batch norm.

Arrays in, arrays out: nothing here knows about tensors or graphs. Each family
(``kernels.conv``, ``kernels.pool``, ``kernels.relu``, ``kernels.batchnorm``) has
three faces with the same functions:

* ``reference`` — plain NumPy written to be read; the oracle the others are tested against;
* ``cpu`` — the fast CPU version (vectorised NumPy, Numba where it wins);
* ``cuda`` — ``numba.cuda`` kernels on CuPy arrays (or on NumPy arrays under Numba's
  CUDA simulator, ``NUMBA_ENABLE_CUDASIM=1``).

The family's own functions (``kernels.conv.forward`` …) check their inputs and pick
the face from the array type; ``MINIGRAD_FACE`` forces one (see ``kernels.face``).
"""
from kernels import face  # noqa: F401  (first: it settles Numba's cache folder before Numba loads)
