"""Checkpoints: one ``.npz`` file holding nested state (model, optimizer, scheduler,
data order, random generators, history), written so that nothing saved is lost.

* No pickle. Arrays are stored as arrays; everything else (numbers, strings, lists,
  dicts) goes into one JSON document inside the same file, with a placeholder where
  each array sits. Loading uses ``allow_pickle=False``, so a checkpoint cannot run code.
* Atomic. The file is written under a temporary name in the same folder, flushed to
  disk, then renamed over the old one (``os.replace`` is atomic on POSIX and Windows):
  a run killed at any moment leaves either the old checkpoint or the new one, never half.
* Checked. A truncated, foreign or corrupt file raises ``CheckpointError`` saying so.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from minigrad import backend

FORMAT = "minigrad-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint could not be read: missing, truncated, corrupt, or not ours."""


def _flatten(tree, arrays, op="save_checkpoint", typed=False):
    """Replace every array in ``tree`` by {"__array__": key}, collecting the arrays.
    ``typed`` (``mg.save``) also remembers which were Tensors (and their requires_grad)
    and which sequences were tuples, so that loading gives them back as they were."""
    if isinstance(tree, dict):
        for key in tree:
            if not isinstance(key, (str, int)):
                raise TypeError(f"{op}: dictionary keys must be str or int, got {key!r}")
        # JSON keys are strings; remember which were ints so they come back as ints
        return {"__dict__": [[k, _flatten(v, arrays, op, typed)] for k, v in tree.items()]}
    if isinstance(tree, (list, tuple)):
        items = [_flatten(v, arrays, op, typed) for v in tree]
        return {"__tuple__": items} if typed and isinstance(tree, tuple) else items
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, np.ndarray) or backend.is_cupy(tree):
        if tree.dtype.hasobject:  # np.savez would pickle it, and loading (allow_pickle=False) would fail
            raise TypeError(f"{op}: cannot store an array of dtype {tree.dtype} (its elements are Python objects)")
        key = f"a{len(arrays)}"
        arrays[key] = backend.to_numpy(tree)
        return {"__array__": key}
    if hasattr(tree, "data") and hasattr(tree, "requires_grad"):  # a Tensor
        stored = _flatten(tree.array, arrays, op, typed)
        return {"__tensor__": stored["__array__"], "requires_grad": bool(tree.requires_grad)} if typed else stored
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    hint = "; save its state_dict() instead" if hasattr(tree, "state_dict") else ""
    raise TypeError(f"{op}: cannot store a {type(tree).__name__} (only arrays, Tensors, numbers, "
                    f"strings, lists and dicts, so that loading never needs pickle){hint}")


def _unflatten(tree, arrays, make_tensor=None):
    """The inverse of ``_flatten``; ``make_tensor(array, requires_grad)`` rebuilds a Tensor."""
    if isinstance(tree, dict):
        if "__array__" in tree:
            return arrays[tree["__array__"]]
        if "__tensor__" in tree:
            return make_tensor(arrays[tree["__tensor__"]], tree["requires_grad"])
        if "__tuple__" in tree:
            return tuple(_unflatten(v, arrays, make_tensor) for v in tree["__tuple__"])
        return {k: _unflatten(v, arrays, make_tensor) for k, v in tree["__dict__"]}
    if isinstance(tree, list):
        return [_unflatten(v, arrays, make_tensor) for v in tree]
    return tree


def _umask():
    """The process's file-creation mask (reading it means setting it, so set it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_prefix(path):
    """The name a file's temporaries start with: ``.checkpoint.npz-`` for ``checkpoint.npz``,
    so that stale ones can be found and removed without touching anything else."""
    return f".{os.path.basename(path)}-"


def write_atomically(path, data):
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` so that ``path`` holds either its
    old content or all of ``data``, never a part: under a temporary name in the same
    folder, flushed to disk, then renamed over ``path`` (``os.replace`` is atomic on POSIX
    and Windows). Every file minigrad writes for a run goes through here."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private (0600); ours are not
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def remove_stale_temporaries(path):
    """Remove what ``write_atomically(path, ...)`` left behind when its process was killed
    between creating the temporary and renaming it (a kill -9 runs no cleanup). Call it
    only where no other process writes ``path``. Returns the names removed."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _temporary_prefix(path)
    stale = [name for name in (os.listdir(folder) if os.path.isdir(folder) else [])
             if name.startswith(prefix) and name.endswith(".tmp")]
    for name in stale:
        os.remove(os.path.join(folder, name))
    return stale


def encode(state, format=FORMAT, op="save_checkpoint", typed=False):
    """The bytes of an ``.npz`` holding ``state``: its arrays, plus one JSON document
    (``__meta__``: format, version, the tree with a placeholder for each array)."""
    arrays = {}
    meta = {"format": format, "version": VERSION, "state": _flatten(state, arrays, op, typed)}
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(json.dumps(meta)), **arrays)
    return buffer.getvalue()


def save_checkpoint(path, state):
    """Write the nested ``state`` dict to ``path`` atomically."""
    return write_atomically(path, encode(state))


def decode(source, name, format=FORMAT, what="checkpoint", make_tensor=None):
    """Read what ``encode`` wrote from ``source`` (a path or a binary file object);
    ``name`` is how errors refer to it. Raises ``CheckpointError`` for a truncated,
    corrupt or foreign file, naming it and saying which."""
    try:
        with np.load(source, allow_pickle=False) as archive:
            if "__meta__" not in archive.files:
                torch_file = any(f.endswith("data.pkl") for f in archive.files)
                hint = (" (it looks like a PyTorch file: load it with torch.load and convert each tensor "
                        "with .numpy())") if torch_file else ""
                raise CheckpointError(f"{name}: not a minigrad {what} (no __meta__ entry){hint}")
            meta = json.loads(str(archive["__meta__"]))
            arrays = {k: archive[k] for k in archive.files if k != "__meta__"}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{name}: truncated or corrupt {what} ({type(error).__name__}: {error})") from None
    if meta.get("format") != format:
        raise CheckpointError(f"{name}: not a minigrad {what} (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{name}: {what} version {meta.get('version')} is not supported "
                              f"(this minigrad reads version {VERSION})")
    try:
        return _unflatten(meta["state"], arrays, make_tensor)
    except KeyError as error:
        raise CheckpointError(f"{name}: corrupt {what} (array {error} is missing)") from None


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; returns the nested state."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    return decode(path, path)
