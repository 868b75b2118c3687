"""Batch transforms: what each does to the pixels, seeding, and bad arguments."""
import numpy as np
import pytest

from minigrad import random
from minigrad.data import (Compose, Normalize, RandomCrop, RandomHorizontalFlip,
                           channel_stats)


def images(n=6, c=3, h=5, w=7, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


def test_normalize_per_channel():
    x = images()
    mean, std = [0.1, 0.5, 0.9], [0.2, 1.0, 4.0]
    out = Normalize(mean, std)(x)
    assert out.dtype == np.float32
    for c in range(3):
        np.testing.assert_allclose(out[:, c], (x[:, c] - mean[c]) / std[c], rtol=1e-6)
    np.testing.assert_allclose(Normalize(0.5, 2.0)(x), (x - 0.5) / 2, rtol=1e-6)
    x64 = x.astype(np.float64)
    assert Normalize(mean, std)(x64).dtype == np.float64
    flat = np.arange(12, dtype=np.uint8).reshape(3, 4)  # (N, features): one "channel" stat
    np.testing.assert_allclose(Normalize(2, 4)(flat), (flat.astype(np.float64) - 2) / 4)
    np.testing.assert_array_equal(x, images())  # input untouched


def test_channel_stats_feed_normalize():
    x = images(n=20)
    mean, std = channel_stats(x)
    for c in range(3):
        assert mean[c] == pytest.approx(x[:, c].mean(dtype=np.float64), rel=1e-6)
        assert std[c] == pytest.approx(x[:, c].std(dtype=np.float64), rel=1e-6)
    out = Normalize(mean, std)(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=1e-5)


def test_normalize_errors():
    with pytest.raises(ValueError, match="std must be positive"):
        Normalize([0, 0], [1, 0])
    with pytest.raises(ValueError, match="same length"):
        Normalize([0, 0, 0], [1, 1])
    with pytest.raises(ValueError,
                       match=r"3 channel statistics do not fit a batch of shape \(6, 1, 5, 7\)"):
        Normalize([0, 0, 0], [1, 1, 1])(images(c=1))


def find_window(padded, window):
    """All (top, left) where ``window`` (C, h, w) sits inside ``padded`` (C, H, W)."""
    h, w = window.shape[1:]
    return [(i, j) for i in range(padded.shape[1] - h + 1) for j in range(padded.shape[2] - w + 1)
            if np.array_equal(padded[:, i:i + h, j:j + w], window)]


def test_random_crop_with_padding_moves_pixels():
    """Each output is a window of the zero-padded image: the picture shifted by at most
    `padding` pixels each way, zeros filling what moved in. Every shift occurs."""
    n, p = 300, 1
    # distinct nonzero pixel values, so each window has a single place it can come from
    x = (np.arange(n * 2 * 3 * 4).reshape(n, 2, 3, 4) + 1).astype(np.float32)
    out = RandomCrop((3, 4), padding=p)(x, np.random.default_rng(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    shifts = set()
    for k in range(n):
        places = find_window(padded[k], out[k])
        assert len(places) == 1
        shifts.add(places[0])
        top, left = places[0]
        # pixel (i, j) of the image lands at (i + p - top, j + p - left)
        i, j = 1, 2
        assert out[k, 0, i + p - top, j + p - left] == x[k, 0, i, j]
    assert shifts == {(i, j) for i in range(3) for j in range(3)}


def test_random_crop_smaller_window_and_fill():
    x = images(n=40, c=1, h=6, w=6)
    out = RandomCrop(3, fill=0)(x, np.random.default_rng(1))
    assert out.shape == (40, 1, 3, 3)
    for k in range(40):
        assert len(find_window(x[k], out[k])) == 1
    filled = RandomCrop(6, padding=(2, 0), fill=-5.0)(x, np.random.default_rng(2))
    for k in range(40):  # rows shift by up to 2 with -5 moving in, columns do not shift
        padded = np.pad(x[k], ((0, 0), (2, 2), (0, 0)), constant_values=-5)
        assert len(find_window(padded, filled[k])) == 1


def test_random_transforms_are_seeded():
    x = images(n=50)
    for t in (RandomCrop(5, padding=2), RandomHorizontalFlip()):
        a = t(x, np.random.default_rng(11))
        np.testing.assert_array_equal(a, t(x, np.random.default_rng(11)))
        assert not np.array_equal(a, t(x, np.random.default_rng(12)))
        random.manual_seed(4)
        b = t(x)
        random.manual_seed(4)
        np.testing.assert_array_equal(b, t(x))


def test_horizontal_flip():
    x = images(n=1000, c=2, h=3, w=4)
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(x), x)
    out = RandomHorizontalFlip(0.5)(x, np.random.default_rng(0))
    kept = np.all(out == x, axis=(1, 2, 3))
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    assert np.all(kept ^ flipped)  # each image whole, one way or the other
    assert 400 < flipped.sum() < 600
    np.testing.assert_array_equal(x, images(n=1000, c=2, h=3, w=4))  # input untouched


def test_compose_shares_one_generator():
    x = images(n=30)
    crop, flip, norm = RandomCrop(5, padding=1), RandomHorizontalFlip(), Normalize(0.5, 0.25)
    rng = np.random.default_rng(9)
    by_hand = norm(flip(crop(x, rng), rng))
    np.testing.assert_array_equal(Compose([crop, flip, norm])(x, np.random.default_rng(9)), by_hand)


def test_transform_errors():
    with pytest.raises(ValueError, match="p must be a probability in"):
        RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="RandomCrop size must be an int ≥ 1"):
        RandomCrop(0)
    with pytest.raises(ValueError, match="RandomCrop padding must be an int ≥ 0"):
        RandomCrop(3, padding=-1)
    with pytest.raises(ValueError, match="RandomCrop size"):
        RandomCrop((3, 3, 3))
    with pytest.raises(ValueError, match=r"window 8×8 is larger than the padded image 7×9"):
        RandomCrop(8, padding=1)(images())
    with pytest.raises(ValueError,
                       match=r"RandomHorizontalFlip: expected a batch of images \(N, C, H, W\)"):
        RandomHorizontalFlip()(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="not callable"):
        Compose([RandomHorizontalFlip(), "crop"])
    with pytest.raises(ValueError, match="channel_stats: expected images"):
        channel_stats(np.zeros((3, 4)))
