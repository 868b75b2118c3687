"""The ops an op-by-op comparison with PyTorch exercises (values, gradients, dtypes and
error classes): trigonometric and hyperbolic functions, erf, bitwise ops, running
reductions, rearrangements, einsum's ellipsis and diagonals, activations, attention,
interpolation and transposed convolution. Each differentiable op is gradchecked in
float64, and compared with torch where torch is installed."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F


def _torch():
    return pytest.importorskip("torch")


def _dtype_name(dtype):
    """"float64" for minigrad's and torch's float64 alike, however each prints it."""
    return str(dtype).replace("minigrad.", "").replace("torch.", "")


def _inputs(shapes, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=shape) for shape in shapes]


def _same_as_torch(fn, shapes, library=None, low=-2.0, high=2.0, atol=1e-9, seed=0):
    """fn(L, F, *xs) run on minigrad and on torch in float64: same shape, dtype, values and
    gradients of the sum."""
    torch = _torch()
    arrays = _inputs(shapes, low, high, seed)
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(mg, F, *ours)
    expected = fn(torch, torch.nn.functional, *theirs)
    assert y.shape == tuple(expected.shape)
    assert _dtype_name(y.dtype) == _dtype_name(expected.dtype)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), atol=atol, rtol=1e-7)
    y.sum().backward()
    grads = torch.autograd.grad(expected.sum(), theirs, allow_unused=True)
    for mine, reference in zip(ours, grads):
        if reference is not None:
            np.testing.assert_allclose(mine.grad.numpy(), reference.numpy(), atol=atol, rtol=1e-7)


# ---- functions of one variable: gradchecked on hypothesis shapes, compared with torch ----------
UNARY = {  # name: (low, high) of the domain where the function and its derivative are finite
    "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "atan": (-3, 3), "sinh": (-3, 3),
    "cosh": (-3, 3), "asinh": (-3, 3), "acosh": (1.1, 3), "atanh": (-0.9, 0.9), "log2": (0.2, 3),
    "exp2": (-3, 3), "erf": (-2.5, 2.5),
}
shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes)
def test_unary_gradcheck(name, shape):
    low, high = UNARY[name]
    x = mg.tensor(np.random.default_rng(len(shape)).uniform(low, high, size=shape), requires_grad=True)
    assert mg.gradcheck(getattr(mg, name), [x])
    assert mg.gradcheck(lambda t: getattr(t, name)(), [x])  # the method is the same function


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name):
    low, high = UNARY[name]
    _same_as_torch(lambda L, F, x: getattr(L, name)(x), [(4, 5)], low=low, high=high, atol=1e-12)
    _same_as_torch(lambda L, F, x: getattr(x, name)(), [()], low=low, high=high, atol=1e-12)


def test_unary_float32_keeps_its_dtype_and_ints_become_floats():
    assert mg.tan(mg.ones(3)).dtype == mg.float32
    assert mg.erf(mg.tensor([0, 1])).dtype == mg.float32
    np.testing.assert_allclose(mg.erf(mg.tensor([0.0, 1.0, -1.0])).numpy(), [0.0, 0.8427008, -0.8427008], atol=1e-6)


# ---- functions of two variables ---------------------------------------------------------------
BINARY = {
    "atan2": lambda L, F, a, b: L.atan2(a, b),
    "copysign": lambda L, F, a, b: L.copysign(a, b),
    "logaddexp": lambda L, F, a, b: L.logaddexp(a, b),
    "hypot": lambda L, F, a, b: L.hypot(a, b),
    "fmod": lambda L, F, a, b: L.fmod(a, b),
    "lerp": lambda L, F, a, b: L.lerp(a, b, 0.3),
    "lerp_tensor_weight": lambda L, F, a, b: a.lerp(b, b.sigmoid()),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shape_pair", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), ())])
def test_binary_gradcheck_and_torch(name, shape_pair):
    a, b = (mg.tensor(v, requires_grad=True) for v in _inputs(shape_pair, 0.3, 2.0))
    sign = mg.tensor(np.where(np.random.default_rng(1).random(shape_pair[0]) < 0.5, -1.0, 1.0))
    assert mg.gradcheck(lambda x, y: BINARY[name](mg, F, x * sign, y), [a, b])
    _same_as_torch(BINARY[name], list(shape_pair))


def test_logaddexp_is_stable_and_fmod_keeps_the_sign_of_a():
    assert mg.logaddexp(mg.tensor([1000.0]), mg.tensor([1000.0])).item() == pytest.approx(1000 + math.log(2))
    np.testing.assert_array_equal(mg.fmod(mg.tensor([-7, 7]), 3).numpy(), [-1, 1])
    assert mg.copysign(mg.tensor([2.0]), mg.tensor([-0.0])).item() == -2.0


# ---- bitwise and logical ops ------------------------------------------------------------------
def test_bitwise_ops_match_torch_and_refuse_floats_as_torch():
    torch = _torch()
    data = [[1, -8, 1], [32, 1, 6]]
    ours, theirs = mg.tensor(data, dtype=mg.int32), torch.tensor(data, dtype=torch.int32)
    for fn in (lambda t: t ^ 0x1337, lambda t: 0x1337 ^ t, lambda t: 0x1337 & t, lambda t: t | 5, lambda t: 5 | t,
               lambda t: ~t, lambda t: t.bitwise_not(), lambda t: t << 2, lambda t: t >> 1, lambda t: 2 << t % 4,
               lambda t: t.bitwise_and(3), lambda t: t.bitwise_left_shift(2), lambda t: t.bitwise_right_shift(1)):
        np.testing.assert_array_equal(fn(ours).numpy(), fn(theirs).numpy())
        assert _dtype_name(fn(ours).dtype) == _dtype_name(fn(theirs).dtype)
    for fn in (lambda t: t.bitwise_xor(t), lambda t: t & t, lambda t: t << 1, lambda t: t.bitwise_not()):
        with pytest.raises(RuntimeError, match="not implemented"):  # torch's NotImplementedError
            fn(mg.ones(3))
        with pytest.raises(RuntimeError):
            fn(torch.ones(3))


def test_logical_ops_test_nonzero_as_torch():
    torch = _torch()
    a, b = [1.0, 0.0, 2.0, -0.5], [0.0, 0.0, 3.0, 1.0]
    for name in ("logical_and", "logical_or", "logical_xor"):
        np.testing.assert_array_equal(getattr(mg, name)(mg.tensor(a), mg.tensor(b)).numpy(),
                                      getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy())
    np.testing.assert_array_equal(mg.tensor(a).logical_not().numpy(), torch.tensor(a).logical_not().numpy())
    assert mg.logical_not(mg.tensor([True, False])).tolist() == [False, True]


# ---- running reductions and paired statistics -------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_logcumsumexp_cummax_cummin_gradcheck_and_torch(dim):
    x = mg.tensor(_inputs([(3, 4)])[0], requires_grad=True)
    for name in ("cumprod", "logcumsumexp"):
        assert mg.gradcheck(lambda t: getattr(t, name)(dim), [x])
        _same_as_torch(lambda L, F, t: getattr(t, name)(dim), [(3, 4)])
    for name in ("cummax", "cummin"):
        assert mg.gradcheck(lambda t: getattr(t, name)(dim).values, [x])
        _same_as_torch(lambda L, F, t: getattr(L, name)(t, dim)[0], [(3, 4)])


def test_cumprod_gradient_through_zeros_and_0d():
    torch = _torch()
    values = [2.0, 0.0, 3.0, 0.0, 5.0]
    ours, theirs = mg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    ours.cumprod(0).sum().backward()
    theirs.cumprod(0).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
    x = mg.tensor(_inputs([(4,)])[0], requires_grad=True)
    assert mg.gradcheck(lambda t: (t * mg.tensor([1.0, 0.0, 1.0, 1.0])).cumprod(0), [x])
    _same_as_torch(lambda L, F, t: t.cumprod(0), [()])
    _same_as_torch(lambda L, F, t: t.logcumsumexp(0), [()])


def test_running_extremes_pick_the_later_index_on_ties_and_propagate_nan():
    torch = _torch()
    values = [1.0, 3.0, 3.0, 2.0, 3.0, 5.0, float("nan"), 1.0]
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(mg, name)(mg.tensor(values), 0), getattr(torch, name)(torch.tensor(values), 0)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert mg.logcumsumexp(mg.tensor([0.0, 100.0]), 0).numpy()[1] == pytest.approx(100.0)
    assert mg.logcumsumexp(mg.tensor([-1000.0, 0.0]), 0).numpy()[0] == -1000.0


def test_std_mean_var_mean_and_stable_sort():
    _same_as_torch(lambda L, F, x: L.stack(L.std_mean(x, 1, correction=0)), [(3, 4)])
    _same_as_torch(lambda L, F, x: L.stack(L.var_mean(x, (0, 2), keepdim=True)), [(3, 4, 2)])
    data = [0, 1] * 5
    for descending in (False, True):
        ours = mg.tensor(data).sort(stable=True, descending=descending).indices
        torch = _torch()
        theirs = torch.tensor(data).sort(stable=True, descending=descending).indices
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert mg.tensor(data).argsort(descending=descending, stable=True).tolist() == theirs.tolist()


# ---- rearrangements ---------------------------------------------------------------------------
SHAPE_OPS = {
    "unflatten": ((4, 6), lambda L, F, x: x.unflatten(-1, (3, 2, 1))),
    "movedim": ((2, 3, 4), lambda L, F, x: L.movedim(x, (0, 1), (2, 0))),
    "repeat_interleave": ((3, 2), lambda L, F, x: x.repeat_interleave(3, -2)),
    "repeat_interleave_flat": ((3, 2), lambda L, F, x: L.repeat_interleave(x, 2)),
    "repeat_interleave_counts": ((3, 2), lambda L, F, x: x.repeat_interleave(L.tensor([1, 0, 2]), 0)),
    "roll": ((2, 4, 3), lambda L, F, x: x.roll((2, -5), (0, 1))),
    "roll_flat": ((2, 4), lambda L, F, x: x.roll(3)),
    "diagonal": ((3, 4, 5), lambda L, F, x: x.diagonal(1, 2, 0)),
    "diagonal_negative": ((4, 5), lambda L, F, x: x.diagonal(-2)),
    "diag_vector": ((4,), lambda L, F, x: L.diag(x, 2)),
    "diag_vector_below": ((4,), lambda L, F, x: x.diag(-1)),
    "diag_matrix": ((4, 5), lambda L, F, x: x.diag(1)),
    "diag_embed": ((2, 3), lambda L, F, x: L.diag_embed(x)),
    "trace": ((4, 5), lambda L, F, x: x.trace()),
    "unfold": ((3, 8), lambda L, F, x: x.unfold(1, 3, 2)),
    "unfold_first": ((7, 2), lambda L, F, x: x.unfold(0, 2, 3)),
    "meshgrid_ij": ((3,), lambda L, F, x: L.stack(L.meshgrid(x, x[:2] * 2, indexing="ij"))),
    "meshgrid_xy": ((3,), lambda L, F, x: L.stack(L.meshgrid([x, x[:2] * 2], indexing="xy"))),
    "swapdims": ((2, 3), lambda L, F, x: x.swapdims(0, 1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops_gradcheck_and_torch(name):
    shape, fn = SHAPE_OPS[name]
    x = mg.tensor(_inputs([shape])[0], requires_grad=True)
    assert mg.gradcheck(lambda t: fn(mg, F, t), [x])
    _same_as_torch(fn, [shape])


def test_shape_ops_refuse_as_torch():
    x = mg.ones(2, 4)
    with pytest.raises(RuntimeError, match="shifts"):
        x.roll((1, 2))
    with pytest.raises(RuntimeError, match="align"):
        x.roll(1, (0, 1))
    with pytest.raises(RuntimeError, match="maximum size"):
        mg.ones(8).unfold(0, 9, 3)
    with pytest.raises(RuntimeError, match="step"):
        mg.ones(8).unfold(0, 1, 0)
    with pytest.raises(IndexError):
        mg.ones(8).unfold(1, 2, 1)
    with pytest.raises(RuntimeError, match="indexing"):
        mg.meshgrid(mg.ones(2), indexing="bad")
    with pytest.raises(RuntimeError, match="1D or 2D"):
        mg.ones(2, 2, 2).diag()


# ---- einsum: ellipsis and repeated letters --------------------------------------------------
EINSUM = {
    "...id,...jd->...ij": [(3, 4, 5), (3, 2, 5)],
    "...id,...jd": [(2, 4, 5), (1, 2, 5)],          # broadcast ellipsis, dims first in the output
    "i...j,ji...->...": [(2, 3, 4, 5), (5, 2, 4)],
    "ii->i": [(4, 4)],
    "ii->": [(4, 4)],
    "...ii->...": [(3, 4, 4)],
    "iji->j": [(3, 2, 3)],
    "ij,jk": [(3, 4), (4, 2)],
}


@pytest.mark.parametrize("equation", sorted(EINSUM))
def test_einsum_ellipsis_and_diagonals(equation):
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(EINSUM[equation])]
    assert mg.gradcheck(lambda *ts: mg.einsum(equation, *ts), xs)
    _same_as_torch(lambda L, F, *ts: L.einsum(equation, *ts), EINSUM[equation])


def test_einsum_refuses_as_torch():
    with pytest.raises(RuntimeError, match="more than one ellipsis"):
        mg.einsum("...i...->i", mg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="operands"):
        mg.einsum("ij,jk->ik", mg.ones(2, 2))
    with pytest.raises(RuntimeError):
        mg.einsum("i...j,ji...->...", mg.ones(2, 3, 4), mg.ones(2, 3, 4))


# ---- activations, distances, attention --------------------------------------------------------
ACTIVATIONS = {
    "selu": lambda L, F, x: F.selu(x), "celu": lambda L, F, x: F.celu(x, 1.5), "softsign": lambda L, F, x: F.softsign(x),
    "mish": lambda L, F, x: F.mish(x), "hardswish": lambda L, F, x: F.hardswish(x),
    "hardsigmoid": lambda L, F, x: F.hardsigmoid(x), "relu6": lambda L, F, x: F.relu6(x * 4),
    "hardtanh": lambda L, F, x: F.hardtanh(x, -0.5, 1.5), "softmin": lambda L, F, x: F.softmin(x, dim=-1),
    "glu": lambda L, F, x: F.glu(x, -1), "threshold": lambda L, F, x: F.threshold(x, 0.3, -1.0),
    "softshrink": lambda L, F, x: F.softshrink(x, 0.4), "hardshrink": lambda L, F, x: F.hardshrink(x, 0.4),
    "tanhshrink": lambda L, F, x: F.tanhshrink(x), "rrelu_eval": lambda L, F, x: F.rrelu(x, training=False),
    "normalize": lambda L, F, x: F.normalize(x, dim=-1), "normalize_p3": lambda L, F, x: F.normalize(x, 3.0, 0),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_gradcheck_and_torch(name):
    # inputs kept off the kinks (±3, ±0.4, 0.3, ...) where a one-sided difference is not a derivative
    values = np.array([[-3.7, -2.2, -1.1, -0.13], [0.21, 0.77, 1.36, 2.9]])
    x = mg.tensor(values, requires_grad=True)
    assert mg.gradcheck(lambda t: ACTIVATIONS[name](mg, F, t), [x])
    torch = _torch()
    y = ACTIVATIONS[name](mg, F, x)
    t = torch.tensor(values, requires_grad=True)
    expected = ACTIVATIONS[name](torch, torch.nn.functional, t)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), atol=1e-12)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_prelu_cosine_similarity_pairwise_distance():
    _same_as_torch(lambda L, F, x, w: F.prelu(x, w), [(2, 3, 4), (3,)])
    _same_as_torch(lambda L, F, a, b: F.cosine_similarity(a, b), [(4, 5), (4, 5)])
    _same_as_torch(lambda L, F, a, b: F.pairwise_distance(a, b), [(4, 5), (4, 5)])
    a, b = (mg.tensor(v, requires_grad=True) for v in _inputs([(3, 4), (3, 4)]))
    assert mg.gradcheck(F.cosine_similarity, [a, b])


@pytest.mark.parametrize("case", ["plain", "float_mask", "bool_mask", "causal", "gqa", "scale"])
def test_scaled_dot_product_attention(case):
    shapes = {"gqa": [(2, 4, 3, 5), (2, 2, 4, 5), (2, 2, 4, 5)]}.get(case, [(2, 2, 3, 5), (2, 2, 4, 5), (2, 2, 4, 5)])
    mask = np.random.default_rng(3).normal(size=(3, 4))

    def attention(L, F, q, k, v):
        options = {"float_mask": dict(attn_mask=L.tensor(mask)), "bool_mask": dict(attn_mask=L.tensor(mask > -0.5)),
                   "causal": dict(is_causal=True), "gqa": dict(enable_gqa=True), "scale": dict(scale=0.7)}
        return F.scaled_dot_product_attention(q, k, v, **options.get(case, {}))
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(shapes)]
    assert mg.gradcheck(lambda *ts: attention(mg, F, *ts), xs)
    _same_as_torch(attention, shapes)


def test_attention_refuses_a_mask_with_is_causal():
    q = mg.ones(1, 2, 3)
    with pytest.raises(RuntimeError, match="attn_mask"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mg.ones(2, 2), is_causal=True)


# ---- interpolation, 1-d and transposed convolution --------------------------------------------
INTERPOLATE = [
    ((1, 2, 7), dict(size=5, mode="linear")), ((1, 2, 5), dict(size=9, mode="linear", align_corners=True)),
    ((1, 2, 5, 4), dict(size=(3, 7), mode="nearest")), ((1, 2, 5, 4), dict(size=(7, 3), mode="nearest-exact")),
    ((1, 2, 4, 5), dict(size=(6, 3), mode="bilinear")), ((1, 1, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((1, 2, 3, 4), dict(size=(5, 2), mode="bilinear", align_corners=True)),
    ((1, 1, 3, 2, 4), dict(size=(2, 4, 3), mode="trilinear")), ((1, 1, 3, 4), dict(scale_factor=1.5)),
]


@pytest.mark.parametrize("shape, options", INTERPOLATE)
def test_interpolate(shape, options):
    x = mg.tensor(_inputs([shape])[0], requires_grad=True)
    assert mg.gradcheck(lambda t: F.interpolate(t, **options), [x])
    _same_as_torch(lambda L, F, t: F.interpolate(t, **options), [shape])


def test_interpolate_refuses_what_it_does_not_do():
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(mg.ones(1, 1, 3, 3), size=4, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(mg.ones(1, 1, 3), size=4, align_corners=True)


CONVS = [
    ("conv1d", [(2, 3, 9), (4, 3, 3), (4,)], dict(stride=2, padding=1)),
    ("conv1d", [(3, 9), (4, 3, 2)], dict(padding="same", dilation=2)),
    ("conv_transpose2d", [(2, 3, 4, 5), (3, 2, 3, 3), (2,)], dict()),
    ("conv_transpose2d", [(1, 4, 3, 4), (4, 3, 3, 2), (6,)], dict(stride=(2, 1), padding=1, output_padding=(1, 0),
                                                                  groups=2)),
    ("conv_transpose2d", [(4, 3, 3), (4, 2, 2, 3)], dict(stride=2, dilation=(1, 2))),
    ("conv_transpose1d", [(2, 3, 5), (3, 2, 3)], dict(stride=3, padding=1, output_padding=2)),
    ("conv3d", [(1, 2, 4, 4, 3), (2, 2, 3, 2, 2), (2,)], dict(padding=1)),
    ("conv3d", [(4, 5, 3, 4), (2, 2, 2, 2, 1)], dict(stride=(2, 1, 1), dilation=(2, 1, 1), groups=2)),
]


@pytest.mark.parametrize("name, shapes, options", CONVS)
def test_conv1d_and_transposed_convolutions(name, shapes, options):
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(shapes)]
    assert mg.gradcheck(lambda *ts: getattr(F, name)(*ts, **options), xs)
    _same_as_torch(lambda L, F, *ts: getattr(F, name)(*ts, **options), shapes)


# ---- what torch refuses, refused with its class -----------------------------------------------
def test_error_classes_are_torchs():
    x = mg.ones(3, 3)
    for call in (lambda: F.pad(x, (2, 0, 2)), lambda: F.pad(x, (0, 0, 0, 0, 1, 0, 3, 0)),
                 lambda: F.pad(mg.ones(1, 1, 5, 5), (3, 5, 0, 0), mode="reflect"),
                 lambda: F.conv2d(mg.ones(8, 8), mg.ones(4, 3, 3, 3)),
                 lambda: F.max_pool2d(mg.ones(4, 4), 2),
                 lambda: F.cross_entropy(mg.ones(4, 3), mg.ones(4, 1))):
        with pytest.raises(RuntimeError):
            call()
    with pytest.raises(ValueError, match="labels of shape"):  # a wrong batch size is torch's ValueError
        F.cross_entropy(mg.ones(4, 3), mg.tensor([0, 1]))


def test_avg_pool2d_pools_int64_as_torch_and_refuses_other_integers():
    torch = _torch()
    data = np.arange(1, 21).reshape(1, 1, 4, 5) * np.array([1, -1, 3, 1, 1])
    for options in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                    dict(kernel_size=2, ceil_mode=True)):
        ours = F.avg_pool2d(mg.tensor(data), **options)
        theirs = torch.nn.functional.avg_pool2d(torch.tensor(data), **options)
        assert ours.dtype == mg.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(NotImplementedError, match="avg_pool2d"):
        F.avg_pool2d(mg.tensor(data, dtype=mg.int32), 2)


def test_batchnorm_bias_argument_as_torch():
    torch = _torch()
    ours, theirs = mg.nn.BatchNorm2d(3, bias=False), torch.nn.BatchNorm2d(3, bias=False)
    assert repr(ours) == repr(theirs)
    assert repr(mg.nn.BatchNorm1d(4)) == repr(torch.nn.BatchNorm1d(4))
    assert ours.bias is None and list(ours.state_dict()) == list(theirs.state_dict())
    x = mg.randn(2, 3, 4, 4)
    ours(x).sum().backward()
    assert ours.weight.grad is not None
    ours.reset_parameters()


def test_recurrent_layers_refuse_a_state_of_another_dtype():
    x, h = mg.randn(5, 2, 3), mg.zeros(1, 2, 4, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="float64"):
        mg.nn.RNN(3, 4)(x, h)
    with pytest.raises(RuntimeError, match="float64"):
        mg.nn.LSTM(3, 4)(x, (h, h))
    with pytest.raises(RuntimeError, match="float64"):
        mg.nn.GRUCell(3, 4)(x[0], h[0])
    with pytest.raises(ValueError, match="does not match weight dtype"):
        mg.nn.GRU(3, 4)(x.double())


def test_clamp_with_tensor_bounds():
    x, low, high = (mg.tensor(v, requires_grad=True) for v in _inputs([(3, 4), (4,), (3, 4)], seed=2))
    assert mg.gradcheck(lambda a, b, c: a.clamp(b, c), [x, low, high])
    _same_as_torch(lambda L, F, a, b, c: a.clamp(b, c), [(3, 4), (4,), (3, 4)], seed=2)
    _same_as_torch(lambda L, F, a, b: L.clamp(a, max=b), [(3, 4), (3, 1)], seed=2)


POOLS = [
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("max_pool1d", (3, 9), dict(kernel_size=2, stride=3, dilation=2)),
    ("avg_pool3d", (1, 2, 5, 4, 6), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool3d", (2, 4, 4, 5), dict(kernel_size=(2, 3, 2), divisor_override=5)),
    ("max_pool3d", (1, 2, 5, 4, 6), dict(kernel_size=(3, 2, 3), stride=2, padding=1)),
]


@pytest.mark.parametrize("name, shape, options", POOLS)
def test_pool1d_and_pool3d(name, shape, options):
    x = mg.tensor(np.random.default_rng(4).permutation(np.prod(shape)).reshape(shape) / 7.0, requires_grad=True)
    assert mg.gradcheck(lambda t: getattr(F, name)(t, **options), [x])
    torch = _torch()
    t = torch.tensor(x.numpy(), requires_grad=True)
    y, expected = getattr(F, name)(x, **options), getattr(torch.nn.functional, name)(t, **options)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), atol=1e-12)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    torch = _torch()
    rng = np.random.default_rng(5)
    index, x, src = rng.integers(0, 3, (3, 4, 2)), rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 2))
    for dim in (0, -1):
        ours = mg.tensor(x).scatter_reduce(dim, mg.tensor(index), mg.tensor(src), reduce, include_self=include_self)
        theirs = torch.tensor(x).scatter_reduce(dim, torch.tensor(index), torch.tensor(src), reduce,
                                                include_self=include_self)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)
    if reduce in ("sum", "mean"):
        a, b = mg.tensor(x, requires_grad=True), mg.tensor(src, requires_grad=True)
        assert mg.gradcheck(lambda s, t: s.scatter_reduce(1, mg.tensor(index), t, reduce, include_self=include_self),
                            [a, b])
    else:
        with pytest.raises(NotImplementedError, match="gradient"):
            mg.tensor(x, requires_grad=True).scatter_reduce(1, mg.tensor(index), mg.tensor(src), reduce)


def test_scatter_with_reduce_and_bool_triangles():
    torch = _torch()
    index = np.array([[0, 1], [2, 0]])
    for reduce in ("add", "multiply"):
        ours = mg.ones(2, 3).scatter(1, mg.tensor(index), value=2.5, reduce=reduce)
        theirs = torch.ones(2, 3).scatter(1, torch.tensor(index), 2.5, reduce=reduce)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="add or multiply"):
        mg.ones(2, 3).scatter(1, mg.tensor(index), value=1.0, reduce="typo")
    assert mg.tensor([[True] * 3] * 3).triu(1).dtype == mg.bool
    np.testing.assert_array_equal(mg.tensor([[True] * 3] * 3).tril().numpy(), np.tril(np.ones((3, 3), bool)))


SMALL_OPS = {
    "xlogy": ([(3, 4), (4,)], lambda L, F, a, b: L.xlogy(a, b.abs() + 0.1)),
    "frac": ([(3, 4)], lambda L, F, x: L.frac(x * 3.3)),
    "deg2rad": ([(3, 4)], lambda L, F, x: L.deg2rad(x)),
    "rad2deg": ([(3, 4)], lambda L, F, x: x.rad2deg()),
    "logit": ([(3, 4)], lambda L, F, x: L.logit(x.sigmoid(), eps=0.2)),
    "float_power": ([(3, 4), (3, 4)], lambda L, F, a, b: L.float_power(a.abs() + 0.1, b)),
    "addcmul": ([(3, 4), (3, 4), (4,)], lambda L, F, x, a, b: L.addcmul(x, a, b, value=0.5)),
    "addcdiv": ([(3, 4), (3, 4), (4,)], lambda L, F, x, a, b: x.addcdiv(a, b.abs() + 0.5, value=-2)),
    "clamp_min_max": ([(3, 4)], lambda L, F, x: L.clamp_max(L.clamp_min(x, -0.55), 0.77)),
    "nan_to_num": ([(3, 4)], lambda L, F, x: L.nan_to_num(x.log(), nan=-3.0, neginf=-7.0)),
    "aminmax": ([(3, 4)], lambda L, F, x: L.stack(L.aminmax(x, dim=1, keepdim=True))),
    "nansum": ([(3, 4)], lambda L, F, x: L.nansum(x.log(), 1)),
    "take_along_dim": ([(3, 4)], lambda L, F, x: L.take_along_dim(x, L.tensor([[0, 3, 3]]).T, dim=1)),
    "take_along_flat": ([(3, 4)], lambda L, F, x: L.take_along_dim(x, L.tensor([0, 11, 5]))),
    "stacks": ([(3,), (3,)], lambda L, F, a, b: L.cat([L.hstack([a, b]), L.vstack([a, b]).flatten(),
                                                       L.dstack([a, b]).flatten(), L.column_stack([a, b]).flatten()])),
    "atleast": ([()], lambda L, F, x: L.atleast_3d(x) + L.atleast_2d(x) + L.atleast_1d(x)),
    "flips": ([(3, 4)], lambda L, F, x: L.fliplr(x) * L.flipud(x)),
    "tensordot": ([(3, 4, 5), (5, 4, 2)], lambda L, F, a, b: L.tensordot(a, b, dims=([1, 2], [1, 0]))),
    "tensordot_int": ([(3, 4), (4, 2)], lambda L, F, a, b: L.tensordot(a, b, 1)),
    "addmm": ([(4,), (3, 5), (5, 4)], lambda L, F, x, a, b: L.addmm(x, a, b, beta=0.5, alpha=2)),
    "baddbmm": ([(2, 3, 4), (2, 3, 5), (2, 5, 4)], lambda L, F, x, a, b: L.baddbmm(x, a, b)),
}


@pytest.mark.parametrize("name", sorted(SMALL_OPS))
def test_small_ops_gradcheck_and_torch(name):
    shapes, fn = SMALL_OPS[name]
    xs = [mg.tensor(a, requires_grad=True) for a in _inputs(shapes, seed=6)]
    assert mg.gradcheck(lambda *ts: fn(mg, F, *ts), xs)
    _same_as_torch(fn, shapes, seed=6)


def test_counting_and_bit_tests_match_torch():
    torch = _torch()
    values = [[0.0, -0.0, 2.0], [float("nan"), -1.0, 0.0]]
    for fn in (lambda L, x: L.count_nonzero(x), lambda L, x: L.count_nonzero(x, dim=1), lambda L, x: L.signbit(x),
               lambda L, x: L.argwhere(x), lambda L, x: x.nan_to_num()):
        ours, theirs = fn(mg, mg.tensor(values)), fn(torch, torch.tensor(values))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype)


def test_pixel_shuffle():
    _same_as_torch(lambda L, F, x: F.pixel_shuffle(x, 2), [(2, 8, 3, 2)])
    _same_as_torch(lambda L, F, x: F.pixel_shuffle(x, 3), [(9, 2, 2)])
    with pytest.raises(RuntimeError, match="divisible"):
        F.pixel_shuffle(mg.ones(1, 6, 2, 2), 2)


def test_where_method_is_torchs():
    _same_as_torch(lambda L, F, x, y: x.where(x > 0.3, y), [(3, 4), (4,)])
    _same_as_torch(lambda L, F, x: x.where(x < 0, 0.5), [(3, 4)])
