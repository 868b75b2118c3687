"""conv2d as a minigrad op (gradcheck in float64, first-order only) and nn.Conv2d
(shapes, PyTorch's defaults, state_dict names, weights shared with PyTorch)."""
import math

import numpy as np
import pytest
from conv_cases import cases
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


@given(case=cases(max_batch=2, max_channels=2, max_kernel=3, max_padding=1, max_extra=3),
       seed=st.integers(0, 2**16), with_bias=st.booleans())
def test_conv2d_gradients_match_finite_differences(case, seed, with_bias):
    x, w, b, _ = (mg.tensor(a, requires_grad=True) for a in case.arrays(np.float64, seed))
    inputs = [x, w, b] if with_bias else [x, w]
    assert mg.gradcheck(lambda *t: F.conv2d(*t, stride=case.stride, padding=case.padding), inputs)


@given(case=cases(max_batch=2, max_channels=2, max_kernel=3, max_padding=1, max_extra=2, max_dilation=2,
                  max_groups=2), seed=st.integers(0, 2**16))
def test_dilated_grouped_conv2d_gradients_match_finite_differences(case, seed):
    x, w, b, _ = (mg.tensor(a, requires_grad=True) for a in case.arrays(np.float64, seed))
    assert mg.gradcheck(lambda *t: F.conv2d(*t, stride=case.stride, padding=case.padding, dilation=case.dilation,
                                            groups=case.groups), [x, w, b])


def test_conv2d_only_the_inputs_that_need_gradients_get_them():
    x = mg.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)))
    w = mg.tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad.shape == w.shape
    with mg.no_grad():
        assert F.conv2d(x, w).node is None


def test_conv2d_is_first_order_and_says_so():
    x = mg.tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    w = mg.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"conv2d: this op's backward is computed by a kernel and is first-order"):
        mg.grad(F.conv2d(x, w).sum(), [x], create_graph=True)


def test_conv2d_refuses_arrays_and_names_the_argument():
    with pytest.raises(TypeError, match=r"conv2d: weight must be a Tensor, got ndarray"):
        F.conv2d(mg.tensor(np.ones((1, 1, 3, 3))), np.ones((1, 1, 2, 2)))


def test_conv2d_layer_shapes_defaults_and_repr():
    layer = nn.Conv2d(3, 32, 5, padding=2)
    assert layer.weight.shape == (32, 3, 5, 5) and layer.bias.shape == (32,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    bound = 1 / math.sqrt(3 * 5 * 5)  # kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in), bias the same
    for p in (layer.weight, layer.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.8 * bound
    assert layer(mg.tensor(np.zeros((4, 3, 32, 32), np.float32))).shape == (4, 32, 32, 32)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert repr(layer) == "Conv2d(3, 32, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    plain = nn.Conv2d(2, 4, (3, 1), stride=(2, 1), bias=False, dtype=np.float64)
    assert plain.bias is None and list(plain.state_dict()) == ["weight"] and plain.weight.dtype == np.float64
    assert repr(plain) == "Conv2d(2, 4, kernel_size=(3, 1), stride=(2, 1), bias=False)"  # PyTorch omits padding 0
    assert plain(mg.tensor(np.zeros((1, 2, 7, 5)))).shape == (1, 4, 3, 5)


def test_conv2d_layer_init_is_seeded():
    mg.manual_seed(3)
    a = nn.Conv2d(2, 3, 3).state_dict()
    mg.manual_seed(3)
    b = nn.Conv2d(2, 3, 3).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("args, message", [
    ((0, 4, 3), r"Conv2d: in_channels must be a positive int, got 0"),
    ((2, -1, 3), r"Conv2d: out_channels must be a positive int, got -1"),
    ((2, 4, 0), r"Conv2d: kernel_size must be positive, got \(0, 0\)"),
    ((3, 4, 3, 1, 0, 1, 2), r"Conv2d: in_channels=3 must be divisible by groups=2"),
    ((4, 3, 3, 1, 0, 1, 2), r"Conv2d: out_channels=3 must be divisible by groups=2"),
    ((4, 4, 3, 1, 0, 1, 0), r"Conv2d: groups must be a positive integer, got 0"),
])
def test_conv2d_layer_refuses_bad_hyperparameters(args, message):
    with pytest.raises(ValueError, match=message):  # PyTorch's class at construction
        nn.Conv2d(*args)


@pytest.mark.parametrize("args, message", [
    ((2, 4, 3, 0), r"Conv2d: stride must be positive, got \(0, 0\)"),
    ((2, 4, 3, 1, (1, -1)), r"Conv2d: padding must be non-negative, got \(1, -1\)"),
    ((2, 4, 3, 1, 0, 0), r"Conv2d: dilation must be positive, got \(0, 0\)"),
    ((2, 4, 3, 1, (1, 1, 1)), r"Conv2d: padding must be an int or a pair of ints, got 3 values"),
])
def test_conv2d_layer_refuses_bad_geometry_as_pytorch_does(args, message):
    with pytest.raises(RuntimeError, match=message):
        nn.Conv2d(*args)


def test_conv2d_errors_are_pytorchs_runtime_errors():
    x = mg.tensor(np.zeros((2, 3, 5, 5)))
    with pytest.raises(RuntimeError, match=r"conv2d: kernel 7x3 is larger than the padded input 5x5"):
        F.conv2d(x, mg.tensor(np.zeros((4, 3, 7, 3))))
    with pytest.raises(RuntimeError, match=r"conv2d: padding must be an int or a pair of ints, got 3 values"):
        F.conv2d(x, mg.tensor(np.zeros((4, 3, 3, 3))), padding=(1, 1, 1))
    with pytest.raises(RuntimeError, match=r"conv2d: input has 3 channels .* with groups=2 expects 6"):
        F.conv2d(x, mg.tensor(np.zeros((4, 3, 3, 3))), groups=2)


@pytest.mark.parametrize("kwargs", [dict(groups=2, dilation=2, padding=1), dict(groups=4, dilation=(2, 3), padding="same"),
                                    dict(groups=2, stride=(2, 1), bias=False, padding=(1, 2), padding_mode="reflect")])
def test_grouped_dilated_conv2d_layer_loads_pytorchs_weights(kwargs):
    """PyTorch's weight shape (C_out, C_in / groups, kh, kw), so its state_dict loads; the
    same repr, output and gradients."""
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Conv2d(4, 8, 3, **kwargs), torch.nn.Conv2d(4, 8, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 4, 9, 8)).astype(np.float32)
    y, yt = ours(mg.tensor(x)), theirs(torch.from_numpy(x))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_grouped_conv2d_layer_init_uses_the_groups_fan_in():
    layer = nn.Conv2d(6, 6, 3, groups=3)
    bound = 1 / math.sqrt(2 * 3 * 3)  # fan_in = (in_channels / groups)·kh·kw, as PyTorch
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.weight.numpy()).max() > 0.8 * bound


def test_conv2d_layer_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    ours = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 2))
    theirs = torch.nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 2))
    assert repr(ours) == repr(theirs)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    y = ours(mg.tensor(x))
    yt = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
