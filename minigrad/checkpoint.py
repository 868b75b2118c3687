"""Checkpoints: one ``.npz`` file holding nested state (model, optimizer, scheduler,
data order, random generators, history), written so that nothing saved is lost.

* No pickle. Arrays are stored as arrays; everything else (numbers, strings, lists,
  dicts) goes into one JSON document inside the same file, with a placeholder where
  each array sits. Loading uses ``allow_pickle=False``, so a checkpoint cannot run code.
* Atomic. The file is written under a temporary name in the same folder, flushed to
  disk, then renamed over the old one (``os.replace`` is atomic on POSIX and Windows):
  a run killed at any moment leaves either the old checkpoint or the new one, never half.
* Checked. A truncated, foreign, corrupt or crafted file raises ``CheckpointError``
  saying so, and loading reads only the arrays the file's header names, each bounded
  by the file's size before it is allocated.
"""
import io
import json
import math
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


def _size(source):
    """How many bytes ``source`` (a path or a seekable binary file object) holds."""
    if isinstance(source, (str, os.PathLike)):
        return os.path.getsize(source)
    here = source.tell()
    size = source.seek(0, io.SEEK_END)
    source.seek(here)
    return size


class _Arrays:
    """The archive's arrays by key, each read only when the state asks for it (a member
    the header does not name is never read) and bounded before it is allocated: it must
    be stored uncompressed, as ``encode`` writes it, its ``.npy`` header's shape × item
    size must be the bytes the member holds, and all arrays read together must fit in
    the file. So a crafted file cannot make loading take more memory than its own size."""

    def __init__(self, archive, budget, name, what):
        self.archive, self.budget, self.name, self.what = archive, budget, name, what
        self.members = {info.filename: info for info in archive.infolist()}
        self.read = {}

    def corrupt(self, reason):
        return CheckpointError(f"{self.name}: corrupt {self.what} ({reason})")

    def __contains__(self, key):
        return f"{key}.npy" in self.members

    def __getitem__(self, key):
        if not isinstance(key, str):
            raise self.corrupt(f"an array is named by {type(key).__name__} {key!r}, not a string")
        if key not in self.read:
            info = self.members.get(f"{key}.npy")
            if info is None:
                raise KeyError(key)
            self.read[key] = self._read(info)
        return self.read[key]

    def _read(self, info):
        if info.compress_type != zipfile.ZIP_STORED:
            raise self.corrupt(f"{info.filename} is compressed; minigrad stores its arrays uncompressed")
        if info.file_size > self.budget:
            raise self.corrupt(f"{info.filename} claims {info.file_size} bytes, more than the file holds")
        with self.archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise self.corrupt(f"{info.filename}: .npy format version {version} is not one NumPy writes here")
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(f)
            if dtype.hasobject:
                raise self.corrupt(f"{info.filename} holds Python objects, which only pickle could read")
            size = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, whatever the header says
            if size != info.file_size - f.tell():
                raise self.corrupt(f"{info.filename}: its header says {shape} {dtype} ({size} bytes) but it "
                                   f"holds {info.file_size - f.tell()} bytes")
            self.budget -= size
            if self.budget < 0:
                raise self.corrupt("its arrays add up to more bytes than the file holds")
            flat = np.empty(size, np.uint8)
            for begin in range(0, size, 1 << 20):  # in chunks: at most 1 MiB more than the array itself
                chunk = f.read(min(1 << 20, size - begin))
                if not chunk:
                    raise EOFError(f"{info.filename} ends after {begin} of its {size} bytes")
                flat[begin:begin + len(chunk)] = np.frombuffer(chunk, np.uint8)
        array = flat.view(dtype) if dtype.itemsize else np.empty(0, dtype)
        return array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)


def decode(source, name, format=FORMAT, what="checkpoint", make_tensor=None):
    """Read what ``encode`` wrote from ``source`` (a path or a binary file object);
    ``name`` is how errors refer to it. Reads only the arrays the state names, each
    bounded by the file's size before it is allocated (``_Arrays``). Raises
    ``CheckpointError`` naming the file for anything wrong with it — truncated, corrupt,
    crafted or foreign — and never another error."""
    try:
        size = _size(source)
        with zipfile.ZipFile(source) as archive:
            arrays = _Arrays(archive, size, name, what)
            if "__meta__" not in arrays:
                torch_file = any(f.endswith("data.pkl") for f in arrays.members)
                hint = (" (it looks like a PyTorch file: load it with torch.load and convert each tensor "
                        "with .numpy())") if torch_file else ""
                raise CheckpointError(f"{name}: not a minigrad {what} (no __meta__ entry){hint}")
            meta = json.loads(str(arrays["__meta__"]))
            if not isinstance(meta, dict):
                raise arrays.corrupt(f"its header is a {type(meta).__name__}, not a JSON object")
            if meta.get("format") != format:
                raise CheckpointError(f"{name}: not a minigrad {what} (format {meta.get('format')!r})")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"{name}: {what} version {meta.get('version')!r} is not supported "
                                      f"(this minigrad reads version {VERSION})")
            try:
                return _unflatten(meta["state"], arrays, make_tensor)
            except KeyError as error:
                raise arrays.corrupt(f"array {error} is missing") from None
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 (a crafted file can raise anything; users catch one error)
        raise CheckpointError(f"{name}: truncated or corrupt {what} ({type(error).__name__}: {error})") from None


def load_checkpoint(path):
    """Read a checkpoint written by ``save_checkpoint``; returns the nested state."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    return decode(path, path)
