"""Readers for the IDX format of MNIST and Fashion-MNIST, as their authors publish it.

An IDX file is a tiny header followed by one big-endian array (LeCun's MNIST page):

    bytes 0-1  zero
    byte  2    element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
               0x0D float32, 0x0E float64
    byte  3    number of dimensions d
    then       d big-endian uint32 sizes, then the data in C order

Files may be gzip-compressed (``*.gz``, as downloaded) or plain (as unpacked); the
reader looks at the first two bytes, not the name, to tell which.
"""
import gzip
import zlib
from pathlib import Path

import numpy as np

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"

# The four files of the MNIST / Fashion-MNIST distribution, by split and role.
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path):
    """Read one IDX file (plain or gzip) into a NumPy array in native byte order.

    Returns e.g. uint8 ``(N, 28, 28)`` for an ``idx3-ubyte`` image file and uint8
    ``(N,)`` for an ``idx1-ubyte`` label file. Raises ``ValueError`` naming the file
    when the magic number, the type code or the length is wrong.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"read_idx: {path} looks gzip-compressed but cannot be "
                             f"decompressed ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file: its magic number is "
                         f"{raw[:4].hex(' ') or 'missing'}, expected 00 00 <type> <ndim> "
                         f"with type one of {', '.join(f'{t:02x}' for t in _IDX_TYPES)}")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header "
                         f"({len(raw)} bytes, header needs {header})")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", ndim, offset=4))
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise ValueError(f"read_idx: {path} has {len(raw)} bytes but its header "
                         f"(shape {shape}, {dtype.name}) needs {expected}")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable copy in native order


def _find(directory, name):
    """``name`` or ``name.gz`` inside ``directory``, or None."""
    for candidate in (directory / name, directory / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def read_mnist_folder(directory):
    """Read a folder laid out as MNIST / Fashion-MNIST are published.

    The folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or with
    ``.gz``. Returns ``(x_train, y_train, x_test, y_test)`` as stored: images uint8
    ``(N, H, W)``, labels uint8 ``(N,)``. Raises ``FileNotFoundError`` naming the
    files expected when any is missing, ``ValueError`` when one is malformed.
    """
    directory = Path(directory)
    names = [name for pair in MNIST_FILES.values() for name in pair]
    found = {name: _find(directory, name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        where = "does not exist" if not directory.is_dir() else "lacks " + ", ".join(missing)
        raise FileNotFoundError(
            f"MNIST-style folder {directory} {where}; expected the four IDX files "
            f"{', '.join(names)} (each plain or with .gz)")
    arrays = []
    for images_name, labels_name in MNIST_FILES.values():
        x, y = read_idx(found[images_name]), read_idx(found[labels_name])
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"MNIST-style folder {directory}: {images_name} has shape "
                             f"{x.shape} and {labels_name} has shape {y.shape}; expected "
                             f"(N, H, W) images and (N,) labels with the same N")
        # both sets have 10 classes: a label beyond 0..9 would index past the class names
        bad = (y < 0) | (y > 9)
        if bad.any():
            raise ValueError(f"MNIST-style folder {directory}: {labels_name} holds label "
                             f"{y[bad][0]} (item {int(np.argmax(bad))}); labels are 0..9")
        arrays += [x, y]
    return tuple(arrays)
