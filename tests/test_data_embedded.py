"""The datasets shipped inside minigrad: present, offline, balanced, and usable."""
from pathlib import Path

import numpy as np
import pytest

import minigrad.data as data
from minigrad.data import load, stratified_indices

DATA_DIR = Path(data.__file__).parent
# name → (file, train images per class, test images per class), as PROVENANCE.md states
EMBEDDED = {"mnist": ("mnist.npz", 2000, 400), "fashion-mnist": ("fashion_mnist.npz", 900, 200)}


@pytest.fixture(scope="module", params=sorted(EMBEDDED))
def embedded(request):
    return request.param, load(request.param)


def test_files_are_small_plain_npz():
    total = 0
    for filename, _, _ in EMBEDDED.values():
        path = DATA_DIR / filename
        total += path.stat().st_size
        assert path.stat().st_size < 5_000_000
        with np.load(path, allow_pickle=False) as f:  # readable without unpickling
            assert sorted(f.files) == ["test_source_index", "train_source_index",
                                       "x_test", "x_train", "y_test", "y_train"]
            for split, pool in (("train", 60000), ("test", 10000)):
                x, y, index = f[f"x_{split}"], f[f"y_{split}"], f[f"{split}_source_index"]
                assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and y.dtype == np.uint8
                # every kept image is a different source image
                assert len(np.unique(index)) == len(index) == len(x) and index.max() < pool
    assert total < 10_000_000
    assert (DATA_DIR / "PROVENANCE.md").read_text().count("sha256") >= 4


def test_shapes_dtypes_range_and_balance(embedded):
    name, (train, test) = embedded
    _, per_train, per_test = EMBEDDED[name]
    for split, per_class in ((train, per_train), (test, per_test)):
        assert split.x.shape == (10 * per_class, 1, 28, 28)
        assert split.x.dtype == np.float32 and split.y.dtype == np.int64
        assert split.x.min() == 0.0 and split.x.max() == 1.0
        # the pixels are the original bytes / 255
        np.testing.assert_array_equal(split.x * 255, np.round(split.x * 255))
        np.testing.assert_array_equal(np.bincount(split.y, minlength=10), [per_class] * 10)
        # classes are interleaved, so even the first 100 examples of an unshuffled pass
        # see most classes
        assert len(np.unique(split.y[:100])) >= 8
    assert len(train.classes) == 10


def test_images_match_labels(embedded):
    """A nearest-class-mean classifier on the flattened pixels gets far above chance
    (10%) only if every image sits beside its own label (≈ 83% MNIST, 68% Fashion)."""
    name, (train, test) = embedded
    x_train = train.x.reshape(len(train), -1)  # MLP-ready rows (N, 784)
    x_test = test.x.reshape(len(test), -1)
    assert x_train.shape == (len(train), 784)
    centroids = np.stack([x_train[train.y == k].mean(axis=0) for k in range(10)])
    distances = ((x_test[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    accuracy = (distances.argmin(axis=1) == test.y).mean()
    assert accuracy > {"mnist": 0.78, "fashion-mnist": 0.62}[name]


def test_flatten_and_normalize():
    train, test = load("mnist")
    flat_train, flat_test = load("mnist", flatten=True)
    np.testing.assert_array_equal(flat_train.x, train.x.reshape(len(train), 784))
    np.testing.assert_array_equal(flat_test.y, test.y)
    norm_train, norm_test = load("mnist", normalize=True)
    mean, std = train.x.mean(dtype=np.float64), train.x.std(dtype=np.float64)
    assert abs(norm_train.x.mean()) < 1e-5 and abs(norm_train.x.std() - 1) < 1e-5
    # the test split is scaled with the *training* statistics
    np.testing.assert_allclose(norm_test.x, (test.x - mean) / std, atol=1e-5)
    both_train, _ = load("fashion-mnist", flatten=True, normalize=True)
    assert both_train.x.shape == (9000, 784) and abs(both_train.x.mean()) < 1e-5


def test_spec_errors():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        load("imagenet")
    with pytest.raises(ValueError, match="cifar10:DIR"):
        load("cifar10")
    with pytest.raises(ValueError, match="names no folder"):
        load("mnist:")
    assert load("MNIST")[1].x.shape == (4000, 1, 28, 28)  # names are case-insensitive


def test_stratified_indices():
    labels = np.repeat(np.arange(4), [10, 20, 30, 5])
    rng = np.random.default_rng(3)
    index = stratified_indices(labels, 5, rng)
    assert index.dtype == np.int64 and len(np.unique(index)) == 20
    np.testing.assert_array_equal(np.bincount(labels[index]), [5, 5, 5, 5])
    np.testing.assert_array_equal(index, stratified_indices(labels, 5, np.random.default_rng(3)))
    assert not np.array_equal(index, stratified_indices(labels, 5, np.random.default_rng(4)))
    per_label = stratified_indices(labels, {0: 1, 2: 30}, rng)
    np.testing.assert_array_equal(np.bincount(labels[per_label], minlength=4), [1, 0, 30, 0])
    with pytest.raises(ValueError, match="6 examples of label 3, which has 5"):
        stratified_indices(labels, 6, rng)
