"""F.unfold / F.fold (im2col, col2im; nn.Unfold, nn.Fold) and F.adaptive_max_pool2d
(nn.AdaptiveMaxPool2d, return_indices): values, indices, shapes and error classes against
torch where it is installed; gradients gradchecked in float64 on hypothesis geometries."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def _torch():
    return pytest.importorskip("torch")


@st.composite
def geometries(draw):
    """An input shape and a window (kernel, dilation, padding, stride) with at least one block."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = [max(d * (k - 1) + 1 - 2 * p, 1) + draw(st.integers(0, 4))
            for k, d, p in zip(kernel, dilation, padding)]
    lead = draw(st.sampled_from([(), (1,), (2,)]))
    return lead + (draw(st.integers(1, 3)),) + tuple(size), kernel, dilation, padding, stride


@settings(max_examples=15, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**16))
def test_unfold_and_fold_match_torch_and_gradcheck(geometry, seed):
    torch = _torch()
    shape, kernel, dilation, padding, stride = geometry
    window = dict(kernel_size=kernel, dilation=dilation, padding=padding, stride=stride)
    data = np.random.default_rng(seed).normal(size=shape)
    x, t = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    cols, expected = F.unfold(x, **window), torch.nn.functional.unfold(t, **window)
    assert cols.shape == tuple(expected.shape)
    np.testing.assert_array_equal(cols.detach().numpy(), expected.detach().numpy())
    weights = np.random.default_rng(seed + 1).normal(size=cols.shape)
    (cols * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)

    size = shape[-2:]
    c_data = np.random.default_rng(seed + 2).normal(size=cols.shape)
    c, tc = mg.tensor(c_data, requires_grad=True), torch.tensor(c_data, requires_grad=True)
    image, expected_image = F.fold(c, size, **window), torch.nn.functional.fold(tc, size, **window)
    np.testing.assert_allclose(image.detach().numpy(), expected_image.detach().numpy(), rtol=1e-12, atol=1e-12)
    image.sum().backward()
    expected_image.sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), tc.grad.numpy())

    assert mg.gradcheck(lambda x: F.unfold(x, **window), [mg.tensor(data, requires_grad=True)])
    assert mg.gradcheck(lambda c: F.fold(c, size, **window), [mg.tensor(c_data, requires_grad=True)])
    assert mg.gradgradcheck(lambda c: F.fold(c, size, **window) ** 2, [mg.tensor(c_data, requires_grad=True)])


def test_fold_of_unfold_counts_the_windows_over_each_pixel():
    x = mg.ones(1, 1, 4, 4)
    covered = F.fold(F.unfold(x, 2), (4, 4), 2)  # the classic check: each pixel times its windows
    assert covered.numpy()[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    layer = nn.Sequential(nn.Unfold(2, stride=2), nn.Fold((4, 4), 2, stride=2))
    np.testing.assert_array_equal(layer(mg.arange(16.0).reshape(1, 1, 4, 4)).numpy(),
                                  np.arange(16.0).reshape(1, 1, 4, 4))  # non-overlapping: the identity


@pytest.mark.parametrize("call", [
    lambda m, F: F.unfold(m.ones(1, 3, 2, 2), 3), lambda m, F: F.unfold(m.ones(1, 3, 4, 4), 0),
    lambda m, F: F.fold(m.ones(1, 12, 8), (4, 4), 2), lambda m, F: F.fold(m.ones(1, 13, 9), (4, 4), 2),
    lambda m, F: F.fold(m.ones(1, 1, 12, 9), (4, 4), 2),
    lambda m, F: F.adaptive_max_pool2d(m.ones(5, 6), 2), lambda m, F: F.adaptive_max_pool2d(m.ones(1, 1, 0, 6), 2),
    lambda m, F: F.adaptive_max_pool2d(m.arange(6).reshape(1, 2, 3), 2)])
def test_errors_are_torchs(call):
    torch = _torch()
    with pytest.raises(Exception) as theirs:
        call(torch, torch.nn.functional)
    with pytest.raises(theirs.type):
        call(mg, F)


@settings(max_examples=15, deadline=None)
@given(height=st.integers(1, 7), width=st.integers(1, 7), data=st.data(), seed=st.integers(0, 2**16),
       batched=st.booleans())
def test_adaptive_max_pool_matches_torch_and_gradchecks(height, width, data, seed, batched):
    torch = _torch()
    out_h = data.draw(st.one_of(st.none(), st.integers(1, 2 * height)))
    out_w = data.draw(st.integers(1, 2 * width))
    shape = ((2,) if batched else ()) + (3, height, width)
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    x, t = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    (y, index), (expected, expected_index) = (F.adaptive_max_pool2d(x, (out_h, out_w), return_indices=True),
                                              torch.nn.functional.adaptive_max_pool2d(t, (out_h, out_w), True))
    np.testing.assert_array_equal(y.detach().numpy(), expected.detach().numpy())
    assert index.dtype == mg.int64
    np.testing.assert_array_equal(index.numpy(), expected_index.numpy())
    weights = np.random.default_rng(seed + 1).normal(size=y.shape)
    (y * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert mg.gradcheck(lambda x: F.adaptive_max_pool2d(x, (out_h, out_w)), [mg.tensor(values, requires_grad=True)])


def test_adaptive_max_pool_layer_and_ties():
    torch = _torch()
    layer = nn.AdaptiveMaxPool2d((2, 3), return_indices=True)
    assert repr(layer) == "AdaptiveMaxPool2d(output_size=(2, 3))"
    values = np.array([[[1.0, 1.0, 0.0], [1.0, np.nan, 2.0], [3.0, 3.0, 3.0]]])  # ties and a NaN
    y, index = layer(mg.tensor(values))
    expected, expected_index = torch.nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(torch.tensor(values))
    np.testing.assert_array_equal(y.numpy(), expected.numpy())
    np.testing.assert_array_equal(index.numpy(), expected_index.numpy())
    with pytest.raises(ValueError):
        nn.AdaptiveMaxPool2d((2, 0))
