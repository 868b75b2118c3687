"""Readers for CIFAR-10 in its two published layouts (Krizhevsky, "Learning Multiple
Layers of Features from Tiny Images", 2009; https://www.cs.toronto.edu/~kriz/cifar.html).

Binary version, folder ``cifar-10-batches-bin``: ``data_batch_1.bin`` … ``data_batch_5.bin``
and ``test_batch.bin``, each 10 000 records of 3073 bytes: one label byte, then the
32×32 red plane, green plane and blue plane (1024 bytes each, rows in order). Read
with NumPy alone.

Python version, folder ``cifar-10-batches-py``: ``data_batch_1`` … ``data_batch_5`` and
``test_batch``, each a **pickle** of a dict with ``data`` (uint8 ``(10000, 3072)``, the
same plane order) and ``labels`` (a list of ints). Unpickling can run code chosen by
whoever wrote the file, so minigrad reads this layout only from a folder the user
names, and through an unpickler that accepts nothing but the NumPy array pieces
such a file contains (any other object raises ``UnsafePickleError``, a kind of
``pickle.UnpicklingError``). Prefer the binary version.
"""
import codecs
import pickle
from pathlib import Path

import numpy as np

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
_TEST = ["test_batch"]
_RECORD = 1 + 3 * 32 * 32  # label byte + three 32×32 planes


def _read_bin_batch(path):
    """One ``.bin`` batch → (uint8 ``(N, 3, 32, 32)``, uint8 ``(N,)``)."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(f"CIFAR-10 binary batch {path} has {raw.size} bytes, not a "
                         f"positive multiple of the {_RECORD}-byte record "
                         f"(1 label byte + 3×32×32 pixels)")
    records = raw.reshape(-1, _RECORD)
    _check_labels(path, "binary", records[:, 0])
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), records[:, 0].copy()


def _check_labels(path, layout, labels):
    """Labels are integers 0..9: one outside (CIFAR-100's, or -1) would be wrapped to a
    wrong class by the cast to uint8."""
    if labels.dtype.kind not in "iu":
        raise ValueError(f"CIFAR-10 {layout} batch {path} has {labels.dtype} labels; expected integers 0..9")
    bad = (labels < 0) | (labels > 9)
    if bad.any():
        raise ValueError(f"CIFAR-10 {layout} batch {path} holds label {labels[bad][0]} (record "
                         f"{int(np.argmax(bad))}); labels are 0..9 (is this CIFAR-100?)")


# NumPy pickles an array as _reconstruct(ndarray, shape, dtype) + its bytes; the
# function lives in numpy.core (1.x) or numpy._core (2.x), so take it from NumPy itself.
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes at protocol 2
}


class UnsafePickleError(pickle.UnpicklingError):
    """A CIFAR-10 pickle asked for an object that such a file never holds."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Builds only what a CIFAR-10 Python batch holds: dicts, lists, bytes, numbers
    and NumPy arrays. Any other global (``os.system`` in a hostile file) is refused
    before it can be called."""

    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")  # the published files come from Python 2
        self.path = path

    def find_class(self, module, name):
        try:
            return _PICKLE_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from the CIFAR-10 pickle {self.path}: "
                f"only NumPy arrays, lists and numbers are expected") from None


def _read_py_batch(path):
    """One pickled batch → (uint8 ``(N, 3, 32, 32)``, uint8 ``(N,)``)."""
    with open(path, "rb") as f:
        try:
            batch = _ArrayOnlyUnpickler(f, path).load()
        except UnsafePickleError:
            raise
        except Exception as err:  # truncated, or not a pickle at all
            raise ValueError(f"CIFAR-10 Python batch {path} cannot be unpickled: {err}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"CIFAR-10 Python batch {path} holds a {type(batch).__name__}, "
                         f"expected a dict with 'data' and 'labels'")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"CIFAR-10 Python batch {path} has keys {sorted(batch)}, "
                         f"expected 'data' and 'labels'")
    data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _RECORD - 1 \
            or labels.shape != (len(data),):
        raise ValueError(f"CIFAR-10 Python batch {path}: data is {data.dtype} {data.shape} "
                         f"and labels {labels.shape}; expected uint8 (N, 3072) and (N,)")
    _check_labels(path, "Python", labels)
    return data.reshape(-1, 3, 32, 32), labels.astype(np.uint8)


_LAYOUTS = {  # folder name → (batch file suffix, reader)
    "cifar-10-batches-bin": (".bin", _read_bin_batch),
    "cifar-10-batches-py": ("", _read_py_batch),
}


def _expected_files_message(directory):
    lines = [f"no CIFAR-10 batches found in {directory}; expected either layout, in that "
             f"folder or in a subfolder of that name:"]
    for folder, (suffix, _) in _LAYOUTS.items():
        lines.append(f"  {folder}: " + ", ".join(n + suffix for n in _TRAIN + _TEST))
    return "\n".join(lines)


def read_cifar10(directory):
    """Read CIFAR-10 from ``directory`` in either published layout.

    ``directory`` is the batches folder itself or its parent (the folder the archive
    was unpacked into). The binary layout is used when present, else the Python
    (pickle) layout. Returns ``(x_train, y_train, x_test, y_test)``: images uint8
    ``(N, 3, 32, 32)`` (50 000 train, 10 000 test in the full set), labels uint8 ``(N,)``.
    Raises ``FileNotFoundError`` naming the files expected when no complete layout is there.
    """
    directory = Path(directory)
    for folder, (suffix, read_batch) in _LAYOUTS.items():
        for root in (directory, directory / folder):
            paths = [root / (name + suffix) for name in _TRAIN + _TEST]
            present = [p.is_file() for p in paths]
            if all(present):
                train = [read_batch(p) for p in paths[:len(_TRAIN)]]
                x_test, y_test = read_batch(paths[-1])
                # the published batches hold 10 000 records each: one of another size is
                # a truncated or partial copy (the binary layout can lose whole records)
                sizes = [len(y) for _, y in train] + [len(y_test)]
                if len(set(sizes)) > 1:
                    raise ValueError(f"CIFAR-10 folder {root}: its batches hold {sizes} records "
                                     f"({', '.join(p.name for p in paths)}); every batch of the "
                                     f"published set holds the same number (10 000): a truncated copy?")
                return (np.concatenate([x for x, _ in train]),
                        np.concatenate([y for _, y in train]), x_test, y_test)
            if any(present):
                missing = [p.name for p, ok in zip(paths, present) if not ok]
                raise FileNotFoundError(f"CIFAR-10 folder {root} is incomplete: missing "
                                        f"{', '.join(missing)}")
    raise FileNotFoundError(_expected_files_message(directory))
