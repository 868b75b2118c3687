"""``torch.linalg``'s names: ``minigrad.linalg.norm``, ``vector_norm``, ``matrix_norm`` and
``cross`` (the ops themselves live in ``minigrad.ops.norms`` and ``minigrad.ops.linalg``).
The arguments keep torch.linalg's names (``x``/``A``/``input``, ``ord``, ``dim``, ``keepdim``)."""
from minigrad.ops import linalg as _linalg
from minigrad.ops import norms as _norms

__all__ = ["cross", "matrix_norm", "norm", "vector_norm"]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """See ``minigrad.ops.norms.vector_norm``: (Σ|x|^ord)^(1/ord) over ``dim``."""
    return _norms.vector_norm(x, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """See ``minigrad.ops.norms.matrix_norm``: 'fro', 'nuc', ±1, ±2, ±inf of the matrices in ``dim``."""
    return _norms.matrix_norm(A, ord, dim, keepdim, dtype=dtype)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector or a matrix norm, chosen by ``dim`` (or by A's dims when only ``ord`` is given)."""
    return _norms.linalg_norm(A, ord, dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    """The cross product along ``dim`` (size 3), the last by default; inputs broadcast."""
    return _linalg._cross(input, other, dim, "linalg.cross")
