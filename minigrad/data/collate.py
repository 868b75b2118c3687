"""``default_collate``: a list of examples → one batch, as PyTorch's
``torch.utils.data.default_collate`` does it.

    [(image₀, label₀), (image₁, label₁), …]  →  [images (N, …), labels (N,)]

Tensors and arrays are stacked along a new first axis (keeping their dtype), Python
ints become an int64 Tensor and floats a float64 one (PyTorch's choice), bools a bool
Tensor; strings stay a list; dicts, lists and tuples are collated field by field
(a sequence of examples comes back as a list, as in PyTorch).
"""
import numbers

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor


def _stack(arrays, what):
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: {what} of different shapes {sorted(shapes)} cannot be "
                           f"stacked into a batch (pad them, or pass a collate_fn)")
    return Tensor._wrap(backend.xp(arrays[0]).stack(arrays))


def default_collate(batch):
    """Stack a list of examples into a batch (see the module docstring)."""
    if not batch:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack([example.array for example in batch], "tensors")
    if isinstance(first, (np.ndarray, np.generic)) or backend.is_cupy(first):
        return _stack([np.asarray(example) if isinstance(example, np.generic) else example for example in batch],
                      "arrays")
    if isinstance(first, bool):
        return Tensor(np.array(batch, dtype=bool))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([example[key] for example in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if len({len(example) for example in batch}) > 1:
            raise RuntimeError("default_collate: each example in the batch must have the same number of fields")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: cannot batch a {type(first).__name__} (Tensors, arrays, numbers, "
                    f"strings, and dicts/lists/tuples of them); pass a collate_fn")
