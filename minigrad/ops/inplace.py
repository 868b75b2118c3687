"""In-place ops (``x += y``, ``x.add_(y)``, ``x[mask] = v``, ``x.zero_()``) with
PyTorch's rules:

- the tensor itself changes (its array is written, so every view of it and every
  module holding it sees the new values), and its version counter goes up, so a
  graph that saved the old values refuses to backward through them;
- on a leaf that requires grad this is only allowed under ``no_grad()`` (an optimizer
  step), where the tensor stays the same leaf with ``requires_grad``;
- under autograd the change is recorded: the tensor's node becomes the op's, applied
  to a snapshot of the old value, and consumers that used the old value keep using
  the snapshot (``Tensor._at_version``), so their gradients stay right;
- the result must fit the tensor: same shape, and a dtype PyTorch may cast into it
  (``int_tensor += 0.5`` raises instead of truncating).
"""
from minigrad import backend, dtypes
from minigrad.tensor import Tensor, is_grad_enabled


def update(x, name, fn, *operands, check_cast=True):
    """``x ← fn(x, *operands)`` in place, as described above; returns ``x``."""
    recording = is_grad_enabled() and (x.requires_grad or any(
        isinstance(o, Tensor) and o.requires_grad for o in operands))
    if recording and x.requires_grad and x.is_leaf:
        raise RuntimeError(f"{name}: a leaf tensor that requires grad (shape {x.shape}) is being used in "
                           f"an in-place operation; do it under `with minigrad.no_grad():` (as an "
                           f"optimizer step does), or out of place")
    if recording and x._is_view:
        raise RuntimeError(f"{name}: in-place change of a view (of shape {x.shape}) under autograd is not "
                           f"supported by minigrad; change the tensor it views, or work out of place")
    if not getattr(getattr(x.array, "flags", None), "writeable", True):
        raise RuntimeError(f"{name}: this tensor (shape {x.shape}) shares one element among several places "
                           f"(it was made by expand/broadcasting); clone() it before changing it in place")
    source = x
    if recording:
        # the old value, as the graph knew it: the new node reads it, old consumers keep it
        source = Tensor._wrap(x.array.copy())
        source.node, source.requires_grad = x.node, x.requires_grad
    out = fn(source, *operands)
    if out.shape != x.shape:
        raise RuntimeError(f"{name}: the result of shape {out.shape} doesn't match the shape {x.shape} of "
                           f"the tensor changed in place (broadcasting may not grow it)")
    if check_cast and not dtypes.can_cast(out.dtype, x.dtype):
        raise RuntimeError(f"{name}: result type {out.dtype} can't be cast to the dtype {x.dtype} of the "
                           f"tensor changed in place")
    backend.xp(x.array).copyto(x.array, out.array, casting="unsafe")
    old_version = x._version
    x._version_counter.bump(name, recorded=out.requires_grad)
    if out.requires_grad:
        if x.requires_grad:
            x._previous = x._previous + ((old_version, source),)
        x.node, x.requires_grad = out.node, True
    return x
