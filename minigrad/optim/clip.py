"""Gradient clipping: keep one bad batch (a "cliff" in the loss) from throwing the
parameters far away. Same names and meaning as ``torch.nn.utils.clip_grad_norm_`` and
``clip_grad_value_``.

The gradients are replaced, not written in place: autograd may give two parameters
the very same (read-only) gradient array, which an in-place scale would hit twice.
"""
import math

from minigrad import backend
from minigrad.tensor import Tensor


def _with_grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def _replaced(old, new):
    """A new gradient tensor; dtype given since NumPy makes 0-d results scalars, which
    Tensor() would read as Python numbers (float32)."""
    return Tensor(new, dtype=old.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients seen as one vector,
    ``‖g‖ = (Σ_p Σ_i |g_{p,i}|^q)^{1/q}`` (the largest |g| for ``norm_type=inf``). Every
    gradient is multiplied by ``min(1, max_norm / (‖g‖ + 1e-6))``, as in PyTorch.
    Returns the total norm before clipping as a 0-d tensor of the gradients' dtype, on
    their device, as PyTorch does (``.item()`` gives the number; 0 when no parameter has a
    gradient). ``parameters``: a Tensor or an iterable of Tensors.
    """
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: invalid max_norm={max_norm!r}: expected max_norm >= 0")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: invalid norm_type={norm_type!r}: expected a positive "
                         f"number or inf")
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    # The norm of the per-parameter norms is the norm of the whole vector. They are
    # computed where the gradients are and read together: one wait for a GPU, not one
    # per parameter.
    norms = backend.read_numbers([backend.xp(p.grad.array).linalg.norm(p.grad.array.ravel(), norm_type)
                                  for p in params])
    total = max(norms) if norm_type == math.inf else math.fsum(n ** norm_type for n in norms) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                           f"is {total}, so they cannot be clipped; set error_if_nonfinite=False "
                           f"to scale them anyway")
    scale = max_norm / (total + 1e-6)
    if not scale >= 1.0:  # a NaN norm makes NaN gradients, as in PyTorch
        for p in params:
            p.grad = _replaced(p.grad.array, p.grad.array * scale)
    # the norm was read to the host once (above); handing it back as a tensor is a copy to the
    # device, which does not wait
    return Tensor(total, dtype=params[0].grad.dtype, device=params[0].grad.device)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into ``[−clip_value, clip_value]``.
    ``parameters``: a Tensor or an iterable of Tensors."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: invalid clip_value={clip_value!r}: "
                         f"expected clip_value >= 0")
    for p in _with_grads(parameters):
        g = p.grad.array
        p.grad = _replaced(g, backend.xp(g).clip(g, -clip_value, clip_value))
