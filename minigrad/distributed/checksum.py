"""A fingerprint of arrays, for ranks to check at start-up that they loaded the same
data and built the same weights (the same ``--data`` string can name different files on
different machines, and training on them would give a silent wrong answer)."""
import hashlib

import numpy as np

from minigrad import backend


def checksum(*arrays):
    """SHA-256 (hex, first 16 digits) of the arrays' dtypes, shapes and bytes, in order."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(backend.to_numpy(getattr(array, "data", array)))
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def structure(module):
    """A fingerprint of ``module``'s structure — the class of each submodule, and its
    parameters' and buffers' names, shapes and dtypes, not their values — for ranks to
    check that they built the same model."""
    layout = [(name, type(m).__name__) for name, m in module.named_modules()]
    layout += [(name, tuple(t.shape), str(t.dtype)) for name, t in
               list(module.named_parameters()) + [(n, b) for n, b in module.named_buffers() if b is not None]]
    return checksum(np.frombuffer(repr(layout).encode(), np.uint8))
