"""ArrayDataset and DataLoader: batching, shuffling, determinism and exact resume."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import backend, random
from minigrad.data import (ArrayDataset, Compose, DataLoader, RandomCrop, RandomHorizontalFlip)
from minigrad.tensor import Tensor


def toy(n=10, shape=(1, 4, 4)):
    """x[i] is filled with i, so a batch tells which examples it holds."""
    x = np.broadcast_to(np.arange(n, dtype=np.float32).reshape(-1, *[1] * len(shape)),
                        (n, *shape)).copy()
    return ArrayDataset(x, np.arange(n, dtype=np.uint8) % 3)


def served(loader):
    """One epoch → list of (x, y) NumPy pairs."""
    return [(x.numpy(), y.numpy()) for x, y in loader]


def test_array_dataset():
    ds = ArrayDataset(np.zeros((5, 2)), np.arange(5))
    assert len(ds) == 5
    x, y = ds[np.array([4, 1])]
    assert x.shape == (2, 2) and list(y) == [4, 1]
    assert ds[2][1] == 2
    with pytest.raises(ValueError, match=r"x has shape \(5, 2\) and y has shape \(4,\)"):
        ArrayDataset(np.zeros((5, 2)), np.arange(4))
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset(np.float32(1), np.arange(1))


def test_unshuffled_batches_are_slices_as_tensors():
    ds = toy(10)
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    for b, (x, y) in enumerate(batches):
        assert isinstance(x, Tensor) and isinstance(y, Tensor)
        assert x.dtype == np.float32 and y.dtype == np.int64 and x.device == "cpu"
        np.testing.assert_array_equal(x.numpy(), ds.x[4 * b:4 * b + 4])
        np.testing.assert_array_equal(y.numpy(), ds.y[4 * b:4 * b + 4])
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(x) for x, _ in dropped] == [4, 4]
    # a batch is a copy: writing into it leaves the dataset alone
    x, _ = next(iter(loader))
    x.array[:] = -1
    assert ds.x.min() == 0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       seed=st.integers(0, 2**32))
def test_each_epoch_is_a_permutation(n, batch_size, drop_last, seed):
    loader = DataLoader(toy(n, (1,)), batch_size=batch_size, shuffle=True,
                        drop_last=drop_last, seed=seed)
    expected_batches = n // batch_size if drop_last else math.ceil(n / batch_size)
    for _ in range(2):
        ids = [x[:, 0].astype(int) for x, _ in served(loader)]
        assert len(ids) == len(loader) == expected_batches
        assert all(len(b) == batch_size for b in ids[:n // batch_size])
        seen = np.concatenate(ids) if ids else np.array([], int)
        assert len(np.unique(seen)) == len(seen) == (expected_batches * batch_size
                                                     if drop_last else n)


def test_shuffle_is_seeded_and_changes_every_epoch():
    ds = toy(50, (1,))
    order = lambda loader: np.concatenate([x[:, 0] for x, _ in served(loader)])  # noqa: E731
    a, b = DataLoader(ds, 8, shuffle=True, seed=7), DataLoader(ds, 8, shuffle=True, seed=7)
    first, second = order(a), order(a)
    np.testing.assert_array_equal(first, order(b))
    np.testing.assert_array_equal(second, order(b))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, a.order(0))
    assert not np.array_equal(first, order(DataLoader(ds, 8, shuffle=True, seed=8)))
    # a NumPy generator, or minigrad's default generator, fixes the seed as well
    g1 = DataLoader(ds, 8, shuffle=True, generator=np.random.default_rng(1))
    g2 = DataLoader(ds, 8, shuffle=True, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(order(g1), order(g2))
    random.manual_seed(3)
    m1 = DataLoader(ds, 8, shuffle=True)
    random.manual_seed(3)
    m2 = DataLoader(ds, 8, shuffle=True)
    assert m1.seed == m2.seed
    np.testing.assert_array_equal(order(m1), order(m2))


def augmented_loader(seed=5):
    transform = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip()])
    ds = ArrayDataset(np.random.default_rng(0).random((23, 2, 4, 4), dtype=np.float32),
                      np.arange(23))
    return DataLoader(ds, batch_size=5, shuffle=True, seed=seed, transform=transform)


def test_resume_mid_epoch_is_bit_identical():
    """Three epochs straight vs. stopped after 7 batches, state saved (as JSON, like a
    checkpoint would), restored into a new loader, and continued."""
    straight = augmented_loader()
    reference = [pair for _ in range(3) for pair in served(straight)]
    first = augmented_loader()
    got, it = [], iter(first)
    for _ in range(5):  # all of epoch 0
        x, y = next(it)
        got.append((x.numpy(), y.numpy()))
    it = iter(first)
    for _ in range(2):  # two batches of epoch 1
        x, y = next(it)
        got.append((x.numpy(), y.numpy()))
    state = json.loads(json.dumps(first.state_dict()))
    assert state == {"seed": 5, "epoch": 1, "batch": 2}
    resumed = augmented_loader(seed=999)  # the seed comes back from the state
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    got += served(resumed) + served(resumed)
    assert len(got) == len(reference) == 15
    for (x, y), (rx, ry) in zip(got, reference):
        np.testing.assert_array_equal(x, rx)
        np.testing.assert_array_equal(y, ry)


def test_state_dict_between_epochs():
    loader = augmented_loader()
    assert loader.state_dict() == {"seed": 5, "epoch": 0, "batch": 0}
    it = iter(loader)
    for _ in range(5):
        next(it)
    # the last batch of epoch 0 was served: next comes epoch 1, batch 0
    assert loader.state_dict() == {"seed": 5, "epoch": 1, "batch": 0}
    served(loader)
    assert loader.state_dict() == {"seed": 5, "epoch": 2, "batch": 0}
    fresh = augmented_loader()
    fresh.load_state_dict(loader.state_dict())
    np.testing.assert_array_equal(served(fresh)[0][0], served(loader)[0][0])


def test_transform_randomness_depends_on_epoch_and_batch():
    loader = augmented_loader()
    epoch0, epoch1 = served(loader), served(loader)
    ds = loader.dataset
    # the transform changed the images (else this test could not fail)
    assert not np.array_equal(epoch0[0][0], ds.x[loader.order(0)[:5]])
    assert not np.array_equal(epoch0[0][0], epoch1[0][0])


def test_bad_arguments():
    ds = toy(4)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="seed or generator, not both"):
        DataLoader(ds, seed=1, generator=np.random.default_rng())
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        DataLoader(ds, seed=-1)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        DataLoader(ds, device="tpu")
    with pytest.raises(TypeError, match="not callable"):
        DataLoader(ds, transform=3)
    loader = DataLoader(ds, batch_size=2)
    with pytest.raises(KeyError, match="missing keys"):
        loader.load_state_dict({"epoch": 0})
    with pytest.raises(ValueError, match="batch 3 out of range for a loader of 2 batches"):
        loader.load_state_dict({"seed": 0, "epoch": 0, "batch": 3})


def test_cuda_device():
    ds = toy(6)
    if not backend.cuda_available():
        with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
            DataLoader(ds, batch_size=4, device="cuda")
        return
    x, y = next(iter(DataLoader(ds, batch_size=4, device="cuda")))
    assert x.device == y.device == "cuda" and y.dtype == np.int64
    np.testing.assert_array_equal(x.numpy(), ds.x[:4])
