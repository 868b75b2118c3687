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


def _flatten(tree, arrays):
    """Replace every array in ``tree`` by {"__array__": key}, collecting the arrays."""
    if isinstance(tree, dict):
        for key in tree:
            if not isinstance(key, (str, int)):
                raise TypeError(f"save_checkpoint: dictionary keys must be str or int, got {key!r}")
        # JSON keys are strings; remember which were ints so they come back as ints
        return {"__dict__": [[k, _flatten(v, arrays)] for k, v in tree.items()]}
    if isinstance(tree, (list, tuple)):
        return [_flatten(v, arrays) for v in tree]
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, np.ndarray) or backend.is_cupy(tree):
        key = f"a{len(arrays)}"
        arrays[key] = backend.to_numpy(tree)
        return {"__array__": key}
    if hasattr(tree, "data") and hasattr(tree, "requires_grad"):  # a Tensor
        return _flatten(tree.data, arrays)
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"save_checkpoint: cannot store a {type(tree).__name__} (only arrays, numbers, "
                    f"strings, lists and dicts, so that loading never needs pickle)")


def _unflatten(tree, arrays):
    if isinstance(tree, dict):
        if "__array__" in tree:
            return arrays[tree["__array__"]]
        return {k: _unflatten(v, arrays) for k, v in tree["__dict__"]}
    if isinstance(tree, list):
        return [_unflatten(v, arrays) for v in tree]
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


def save_checkpoint(path, state):
    """Write the nested ``state`` dict to ``path`` atomically."""
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "state": _flatten(state, arrays)}
    buffer = io.BytesIO()
    np.savez(buffer, __meta__=np.array(json.dumps(meta)), **arrays)
    return write_atomically(path, buffer.getvalue())


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; returns the nested state."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "__meta__" not in archive.files:
                raise CheckpointError(f"{path}: not a minigrad checkpoint (no __meta__ entry)")
            meta = json.loads(str(archive["__meta__"]))
            arrays = {k: archive[k] for k in archive.files if k != "__meta__"}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({type(error).__name__}: {error})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a minigrad checkpoint (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {meta.get('version')} is not supported "
                              f"(this minigrad reads version {VERSION})")
    try:
        return _unflatten(meta["state"], arrays)
    except KeyError as error:
        raise CheckpointError(f"{path}: corrupt checkpoint (array {error} is missing)") from None
