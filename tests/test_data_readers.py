"""IDX and CIFAR-10 readers on tiny files written here in the published formats."""
import gzip
import pickle
import struct

import numpy as np
import pytest

from minigrad.data import UnsafePickleError, load, read_cifar10, read_idx, read_mnist_folder

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}
MNIST_NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(array):
    """The IDX encoding, written from LeCun's description (header with struct)."""
    array = np.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False):
    raw = idx_bytes(array)
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = array + 10
    out = read_idx(write_idx(tmp_path / "a.idx", array, compress))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_read_idx_bad_files(tmp_path):
    good = idx_bytes(np.zeros((2, 3), np.uint8))
    (tmp_path / "magic").write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match=r"not an IDX file: its magic number is 01 02 08 02"):
        read_idx(tmp_path / "magic")
    (tmp_path / "type").write_bytes(b"\x00\x00\x07" + good[3:])
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "type")
    (tmp_path / "short").write_bytes(good[:-1])
    with pytest.raises(ValueError, match="has 17 bytes but its header .* needs 18"):
        read_idx(tmp_path / "short")
    (tmp_path / "header").write_bytes(good[:6])
    with pytest.raises(ValueError, match="truncated inside its header"):
        read_idx(tmp_path / "header")
    (tmp_path / "bad.gz").write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match="cannot be decompressed"):
        read_idx(tmp_path / "bad.gz")


def make_mnist_folder(directory, n_train=6, n_test=4, compress=(True, False, False, True)):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_train, dtype=np.uint8),
              rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n_test, dtype=np.uint8)]
    directory.mkdir(exist_ok=True)
    for name, array, gz in zip(MNIST_NAMES, arrays, compress):
        write_idx(directory / (name + ".gz" if gz else name), array, gz)
    return arrays


def test_mnist_folder_and_load(tmp_path):
    arrays = make_mnist_folder(tmp_path / "fashion")
    for got, want in zip(read_mnist_folder(tmp_path / "fashion"), arrays):
        np.testing.assert_array_equal(got, want)
    train, test = load(f"fashion-mnist:{tmp_path / 'fashion'}")
    assert train.x.shape == (6, 1, 28, 28) and train.x.dtype == np.float32
    np.testing.assert_allclose(train.x[:, 0], arrays[0] / 255, rtol=1e-6)
    np.testing.assert_array_equal(test.y, arrays[3])
    assert test.y.dtype == np.int64 and train.classes[0] == "T-shirt/top"
    flat, _ = load(f"mnist:{tmp_path / 'fashion'}", flatten=True)
    assert flat.x.shape == (6, 784) and flat.classes[0] == "0"


def test_mnist_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist") as err:
        read_mnist_folder(tmp_path / "nowhere")
    assert all(name in str(err.value) for name in MNIST_NAMES)
    make_mnist_folder(tmp_path / "partial")
    (tmp_path / "partial" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte;"):
        load(f"mnist:{tmp_path / 'partial'}")
    make_mnist_folder(tmp_path / "mismatch")
    write_idx(tmp_path / "mismatch" / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"\(6, 28, 28\).*\(5,\)"):
        read_mnist_folder(tmp_path / "mismatch")


# ---- CIFAR-10 -----------------------------------------------------------------------

def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return x, rng.integers(0, 10, n).astype(np.uint8)


def write_cifar_bin(directory, sizes=(3,) * 6):
    """Records as the CIFAR page describes them: label byte, then the red, green and
    blue 32×32 planes, each row by row — written one byte string per record."""
    directory.mkdir(parents=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    batches = []
    for seed, (name, n) in enumerate(zip(names, sizes)):
        x, y = cifar_batch(n, seed)
        records = [bytes([y[i]]) + b"".join(x[i, c].tobytes() for c in range(3)) for i in range(n)]
        (directory / name).write_bytes(b"".join(records))
        batches.append((x, y))
    return batches


def write_cifar_py(directory, protocol, sizes=(2,) * 6):
    """Dicts as the CIFAR page describes them: 'data' uint8 (N, 3072) of R, G, B planes,
    'labels' a list of ints. protocol 2 with bytes keys is what the published Python 2
    files load as; protocol 4 with str keys is what a Python 3 re-pickle gives."""
    directory.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = []
    for seed, (name, n) in enumerate(zip(names, sizes)):
        x, y = cifar_batch(n, seed)
        key = (lambda k: k.encode()) if protocol == 2 else (lambda k: k)
        batch = {key("batch_label"): b"batch", key("labels"): [int(v) for v in y],
                 key("data"): x.reshape(n, 3072), key("filenames"): [b"f.png"] * n}
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        batches.append((x, y))
    return batches


def check_cifar(result, batches):
    x_train, y_train, x_test, y_test = result
    np.testing.assert_array_equal(x_train, np.concatenate([x for x, _ in batches[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([y for _, y in batches[:5]]))
    np.testing.assert_array_equal(x_test, batches[5][0])
    np.testing.assert_array_equal(y_test, batches[5][1])
    assert x_train.dtype == np.uint8 and x_train.shape[1:] == (3, 32, 32)


def test_cifar_binary(tmp_path):
    batches = write_cifar_bin(tmp_path / "cifar-10-batches-bin")
    check_cifar(read_cifar10(tmp_path / "cifar-10-batches-bin"), batches)
    check_cifar(read_cifar10(tmp_path), batches)  # the parent folder works too
    train, test = load(f"cifar10:{tmp_path}")
    assert train.x.shape == (15, 3, 32, 32) and train.x.dtype == np.float32
    assert train.y.dtype == np.int64 and train.classes[9] == "truck"
    # pixel (row 5, column 7) of the green plane of test image 2 is byte 1 + 1024 + 5·32 + 7
    record = (tmp_path / "cifar-10-batches-bin" / "test_batch.bin").read_bytes()[2 * 3073:3 * 3073]
    assert test.x[2, 1, 5, 7] == np.float32(record[1 + 1024 + 5 * 32 + 7]) / np.float32(255)


@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar_python(tmp_path, protocol):
    batches = write_cifar_py(tmp_path / "cifar-10-batches-py", protocol)
    check_cifar(read_cifar10(tmp_path), batches)
    check_cifar(read_cifar10(tmp_path / "cifar-10-batches-py"), batches)


def test_cifar_binary_preferred_when_both_present(tmp_path):
    batches = write_cifar_bin(tmp_path / "cifar-10-batches-bin")
    write_cifar_py(tmp_path / "cifar-10-batches-py", 2)
    check_cifar(read_cifar10(tmp_path), batches)


class _Hostile:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):  # unpickling would create the marker file
        return open, (self.marker, "w")


def test_cifar_python_refuses_foreign_objects(tmp_path):
    write_cifar_py(tmp_path / "cifar-10-batches-py", 2)
    marker = tmp_path / "was-run"
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_3", "wb") as f:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0],
                     b"x": _Hostile(marker)}, f, protocol=2)
    with pytest.raises(UnsafePickleError, match="refusing to load io.open .*data_batch_3"):
        read_cifar10(tmp_path)
    assert not marker.exists()


def test_cifar_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        read_cifar10(tmp_path)
    for name in ("cifar-10-batches-bin", "data_batch_1.bin", "test_batch.bin",
                 "cifar-10-batches-py", "data_batch_5,", "test_batch"):
        assert name in str(err.value)
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 batches"):
        load(f"cifar10:{tmp_path / 'missing'}")
    write_cifar_bin(tmp_path / "bin")
    (tmp_path / "bin" / "data_batch_4.bin").unlink()
    with pytest.raises(FileNotFoundError, match="incomplete: missing data_batch_4.bin"):
        read_cifar10(tmp_path / "bin")
    (tmp_path / "bin" / "data_batch_4.bin").write_bytes(b"\x00" * 3072)
    with pytest.raises(ValueError, match="3072 bytes, not a positive multiple of the 3073"):
        read_cifar10(tmp_path / "bin")
    (tmp_path / "bin" / "data_batch_4.bin").write_bytes(b"\x0a" + b"\x00" * 3072)
    with pytest.raises(ValueError, match="label 10"):
        read_cifar10(tmp_path / "bin")
    write_cifar_py(tmp_path / "py", 4)
    (tmp_path / "py" / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch cannot be unpickled"):
        read_cifar10(tmp_path / "py")
    with open(tmp_path / "py" / "test_batch", "wb") as f:
        pickle.dump({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}, f)
    with pytest.raises(ValueError, match=r"uint8 \(2, 100\).*expected uint8 \(N, 3072\)"):
        read_cifar10(tmp_path / "py")
