"""``mg.save(obj, f)`` and ``mg.load(f)``: PyTorch's names for saving a state_dict.

    mg.save(model.state_dict(), "model.pt")
    model.load_state_dict(mg.load("model.pt"))

``obj`` may be a state_dict or any nesting of dicts, lists and tuples of Tensors,
arrays, numbers, strings and None; loading gives the same structure back (Tensors
as Tensors, with their requires_grad; arrays as arrays). The file is an ``.npz``
(whatever its name) in the checkpoint format of ``minigrad/checkpoint.py``, so
unlike ``torch.save`` it holds no pickle: loading it cannot run code, and a whole
model object is refused (save its ``state_dict()``). A file path is written
atomically (the old file or the new one, never half); ``f`` may also be a binary
file object such as ``io.BytesIO``.
"""
import os

from minigrad import backend
from minigrad.checkpoint import CheckpointError, decode, encode, write_atomically
from minigrad.tensor import Tensor

FORMAT = "minigrad-save"


def save(obj, f):
    """Write ``obj`` to ``f`` (a path, any file name, or a binary file object)."""
    data = encode(obj, FORMAT, "save", typed=True)
    if isinstance(f, (str, os.PathLike)):
        write_atomically(f, data)
    else:
        f.write(data)


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote. map_location: None (Tensors come back on the CPU),
    "cpu" or "cuda". ``weights_only`` is accepted for PyTorch's signature: loading
    never runs code here, whatever its value. Reads only the arrays the file's header
    names, each checked against the file's size before it is allocated. Raises
    ``CheckpointError`` naming the file — and no other error — when it is missing,
    truncated, corrupt, crafted or not written by ``save``."""
    device = "cpu" if map_location is None else str(getattr(map_location, "type", map_location))
    backend.check_device(device)
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else repr(f)
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise CheckpointError(f"load: {name}: no such file")

    def make_tensor(array, requires_grad):
        return Tensor(array, requires_grad=requires_grad, device=device)
    return decode(f, name, FORMAT, "file saved by minigrad.save", make_tensor)
