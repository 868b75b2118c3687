"""kernels.pool: the cpu face against the NumPy reference on hypothesis-drawn
windows (odd sizes, stride > kernel, kernel = padded input, batch of 1,
non-contiguous input, float32/float64); the reference against PyTorch; bad input."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import kernels.pool
from kernels.pool import cpu, reference


@st.composite
def cases(draw, max_dilation=1):
    """(x, kernel, stride, padding, dilation), every window valid, x possibly non-contiguous."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), dh * (kh - 1) + 6))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), dw * (kw - 1) + 6))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if draw(st.booleans()):  # a transposed view: strides not in row-major order
        x = rng.standard_normal((n, c, w, h)).astype(dtype).swapaxes(2, 3)
    else:
        x = rng.standard_normal((n, c, h, w)).astype(dtype)
    try:  # with dilation a window can fall between the inputs: refused, so not drawn
        kernels.pool.output_shape("test", x.shape, (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    except RuntimeError:
        assume(False)
    return x, (kh, kw), (sh, sw), (ph, pw), (dh, dw)


def dilated_cases():
    """Max pooling's geometries: dilation 1 … 3."""
    return cases(max_dilation=3)


def tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@given(case=dilated_cases(), seed=st.integers(0, 2**16))
def test_max_pool_cpu_matches_reference(case, seed):
    x, kernel, stride, padding, dilation = case
    y, argmax = cpu.max_forward(x, kernel, stride, padding, dilation)
    y_ref, argmax_ref = reference.max_forward(x, kernel, stride, padding, dilation)
    assert y.dtype == x.dtype and argmax.dtype == np.int64
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    gy = np.random.default_rng(seed).standard_normal(y.shape).astype(x.dtype)
    np.testing.assert_allclose(cpu.max_backward(gy, argmax, x.shape, kernel, stride, padding, dilation),
                               reference.max_backward(gy, argmax_ref, x.shape, kernel, stride, padding, dilation),
                               **tolerance(x.dtype))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64])
@given(case=dilated_cases(), seed=st.integers(0, 2**16))
def test_integer_max_pool_against_reference_and_torch(dtype, case, seed):
    """Integers pool exactly (no float round trip: int64 values past 2^53 too), in both
    faces, as PyTorch pools them."""
    x, kernel, stride, padding, dilation = case
    info = np.iinfo(dtype)
    x = np.random.default_rng(seed).integers(info.min, info.max, x.shape, dtype=dtype, endpoint=True)
    y, argmax = kernels.pool.max_forward(x, kernel, stride, padding, dilation)
    y_ref, argmax_ref = reference.max_forward(x, kernel, stride, padding, dilation)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(argmax, argmax_ref)
    torch = pytest.importorskip("torch")
    yt, it = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride, padding, dilation,
                                            return_indices=True)
    np.testing.assert_array_equal(y, yt.numpy())
    np.testing.assert_array_equal(argmax, it.numpy())


@given(case=cases(), seed=st.integers(0, 2**16))
def test_avg_pool_cpu_matches_reference(case, seed):
    x, kernel, stride, padding, _ = case
    y = cpu.avg_forward(x, kernel, stride, padding)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y, reference.avg_forward(x, kernel, stride, padding), **tolerance(x.dtype))
    gy = np.random.default_rng(seed).standard_normal(y.shape).astype(x.dtype)
    gx = cpu.avg_backward(gy, x.shape, kernel, stride, padding)
    assert gx.shape == x.shape and gx.dtype == x.dtype
    np.testing.assert_allclose(gx, reference.avg_backward(gy, x.shape, kernel, stride, padding), **tolerance(x.dtype))


def test_max_pool_by_hand():
    """A 4×4 plane, 2×2 windows: the maxima and where they sit, worked out by hand."""
    x = np.array([[1, 2, 0, 5], [3, 4, 6, 1], [0, 0, 1, 1], [9, 0, 1, 2]], dtype=np.float64)[None, None]
    y, argmax = kernels.pool.max_forward(x, 2)
    np.testing.assert_array_equal(y[0, 0], [[4, 6], [9, 2]])
    np.testing.assert_array_equal(argmax[0, 0], [[5, 6], [12, 15]])  # h·W + w
    gx = kernels.pool.max_backward(np.ones_like(y), argmax, x.shape, 2)
    assert gx.sum() == 4 and gx[0, 0, 1, 1] == gx[0, 0, 1, 2] == gx[0, 0, 3, 0] == gx[0, 0, 3, 3] == 1


def test_overlapping_windows_add_their_gradients():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the centre wins all four 2×2 windows at stride 1
    y, argmax = kernels.pool.max_forward(x, 2, 1)
    gx = kernels.pool.max_backward(np.ones_like(y), argmax, x.shape, 2, 1)
    assert gx[0, 0, 1, 1] == 4 and gx.sum() == 4


def test_average_counts_the_padding():
    x = np.ones((1, 1, 2, 2))
    y = kernels.pool.avg_forward(x, 3, 1, 1)  # every 3×3 window sees 4 ones and 5 zeros of padding
    np.testing.assert_allclose(y, np.full((1, 1, 2, 2), 4 / 9))


@pytest.mark.parametrize("pool", ["max", "avg"])
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_reference_matches_torch(pool, data, seed):
    torch = pytest.importorskip("torch")
    # average pooling has no dilation (as in PyTorch)
    x, kernel, stride, padding, dilation = data.draw(dilated_cases() if pool == "max" else cases())
    x = x.astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    if pool == "max":
        yt, it = torch.nn.functional.max_pool2d(xt, kernel, stride, padding, dilation, return_indices=True)
        y, argmax = reference.max_forward(x, kernel, stride, padding, dilation)
        np.testing.assert_array_equal(argmax, it.numpy())
    else:
        yt = torch.nn.functional.avg_pool2d(xt, kernel, stride, padding)  # count_include_pad=True
        y = reference.avg_forward(x, kernel, stride, padding)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = np.random.default_rng(seed).standard_normal(y.shape)
    yt.backward(torch.tensor(gy))
    gx = (reference.max_backward(gy, argmax, x.shape, kernel, stride, padding) if pool == "max"
          else reference.avg_backward(gy, x.shape, kernel, stride, padding))
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_forced_reference_face_is_used(monkeypatch):
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    monkeypatch.setenv("MINIGRAD_FACE", "reference")
    monkeypatch.setattr(reference, "avg_forward", lambda *args: "reference ran")
    assert kernels.pool.avg_forward(x, 2) == "reference ran"


BAD_WINDOWS = [  # PyTorch's classes: RuntimeError for bad values, TypeError for a bad type
    (dict(kernel_size=0), RuntimeError, "kernel_size must be positive"),
    (dict(kernel_size=2, stride=0), RuntimeError, "stride must be positive"),
    (dict(kernel_size=2, stride=(1, -1)), RuntimeError, "stride must be positive"),
    (dict(kernel_size=3, padding=-1), RuntimeError, "padding must be non-negative"),
    (dict(kernel_size=3, padding=2), RuntimeError, r"padding \(2, 2\) must be at most half the kernel \(3, 3\)"),
    (dict(kernel_size=2.0), TypeError, "kernel_size must be an int or a pair"),
    (dict(kernel_size=(2, 2, 2)), RuntimeError, r"kernel_size must be an int or a pair of ints, got 3 values"),
    (dict(kernel_size=2, padding=(1, 1, 1)), RuntimeError, r"padding must be an int or a pair of ints, got 3 values"),
    (dict(kernel_size=6), RuntimeError, r"kernel \(6, 6\) spanning \(6, 6\) is larger than the padded input"),
]


@pytest.mark.parametrize("arguments, message", [
    (dict(kernel_size=3, dilation=3), r"kernel \(3, 3\) \(dilation \(3, 3\)\) spanning \(7, 7\) is larger"),
    (dict(kernel_size=2, dilation=0), r"max_pool2d: dilation must be positive, got \(0, 0\)"),
    # taps at −1 and 2 of a 2-wide input: the window falls between the inputs
    (dict(kernel_size=2, stride=1, padding=1, dilation=3), r"window 0 along the height reads only padding"),
])
def test_bad_dilations_are_refused(arguments, message):
    x = np.zeros((1, 1, 2, 2)) if arguments.get("padding") else np.zeros((1, 1, 5, 5))
    with pytest.raises(RuntimeError, match=message):
        kernels.pool.max_forward(x, **arguments)


@pytest.mark.parametrize("forward", [kernels.pool.max_forward, kernels.pool.avg_forward])
@pytest.mark.parametrize("arguments, error, message", BAD_WINDOWS)
def test_bad_windows_are_refused(forward, arguments, error, message):
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(error, match=message):
        forward(x, **arguments)


@pytest.mark.parametrize("forward", [kernels.pool.max_forward, kernels.pool.avg_forward])
def test_bad_arrays_are_refused(forward):
    op = "max_pool2d" if forward is kernels.pool.max_forward else "avg_pool2d"
    with pytest.raises(ValueError, match=rf"{op}: expects an \(N, C, H, W\) input, got shape \(5, 5\)"):
        forward(np.zeros((5, 5)), 2)
    with pytest.raises(TypeError, match=rf"{op}: supports float32 and float64.*float16"):
        forward(np.zeros((1, 1, 4, 4), dtype=np.float16), 2)
    if op == "avg_pool2d":  # max pooling takes integers (tested above)
        with pytest.raises(TypeError, match=rf"{op}: supports float32 and float64.*int64"):
            forward(np.zeros((1, 1, 4, 4), dtype=np.int64), 2)
    with pytest.raises(TypeError, match=rf"{op}: supports float32 and float64.*bool"):
        forward(np.zeros((1, 1, 4, 4), dtype=bool), 2)


def test_bad_backward_arguments_are_refused():
    x = np.zeros((1, 2, 4, 4))
    y, argmax = kernels.pool.max_forward(x, 2)
    with pytest.raises(ValueError, match=r"gradient of shape \(1, 2, 3, 3\) does not match the pooled shape "
                                         r"\(1, 2, 2, 2\)"):
        kernels.pool.max_backward(np.zeros((1, 2, 3, 3)), argmax, x.shape, 2)
    with pytest.raises(ValueError, match="argmax must be integers"):
        kernels.pool.max_backward(y, argmax.astype(np.float64), x.shape, 2)
    with pytest.raises(ValueError, match=r"argmax values must lie in \[0, 16\) for an input of shape "
                                         r"\(1, 2, 4, 4\); 8 of 8 do not"):
        kernels.pool.max_backward(y, argmax + 16, x.shape, 2)
    with pytest.raises(ValueError, match="avg_pool2d backward: gradient of shape"):
        kernels.pool.avg_backward(np.zeros((1, 2, 4, 4)), x.shape, 2)
    with pytest.raises(TypeError, match="max_pool2d backward: arrays must share one dtype|supports float32"):
        kernels.pool.max_backward(y.astype(np.float16), argmax, x.shape, 2)


class FakeGpuArray(np.ndarray):
    """Stands for a CuPy array: face.is_cupy is patched to say so (no GPU needed)."""


def test_mixing_cpu_and_gpu_arrays_is_refused(monkeypatch):
    from kernels import face
    monkeypatch.setattr(face, "is_cupy", lambda a: isinstance(a, FakeGpuArray))
    gy = np.zeros((1, 1, 2, 2)).view(FakeGpuArray)
    with pytest.raises(TypeError, match="max_pool2d backward: arrays mix CPU .NumPy. and GPU .CuPy. memory"):
        kernels.pool.max_backward(gy, np.zeros((1, 1, 2, 2), dtype=np.int64), (1, 1, 4, 4), 2)


@pytest.mark.parametrize("shape", [(2, 3, 6, 8), (1, 2, 5, 7), (3, 1, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_2x2_fast_path_with_ties_and_nans(shape, dtype):
    """kernels/pool/cpu.py unrolls 2×2 windows at stride 2 (odd sizes drop the last
    row/column); ties and NaNs must pick the same input as the reference (the first
    maximum; the first NaN) — in the fast path and in the general kernel."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, shape).astype(dtype)  # many ties
    x[rng.random(shape) < 0.1] = np.nan
    for kernel, stride, padding in [((2, 2), (2, 2), (0, 0)), ((2, 2), (2, 2), (1, 1)), ((3, 3), (1, 1), (1, 1))]:
        y, argmax = cpu.max_forward(x, kernel, stride, padding)
        y_ref, argmax_ref = reference.max_forward(x, kernel, stride, padding)
        np.testing.assert_array_equal(y, y_ref)  # NaN == NaN here
        np.testing.assert_array_equal(argmax, argmax_ref)


def test_minus_infinity_inputs_pick_a_real_input():
    x = np.full((1, 1, 3, 3), -np.inf)
    for face in (reference, cpu):
        y, argmax = face.max_forward(x, (3, 3), (2, 2), (1, 1))
        assert np.all(y == -np.inf) and argmax.min() >= 0 and argmax.max() < 9
        np.testing.assert_array_equal(argmax, reference.max_forward(x, (3, 3), (2, 2), (1, 1))[1])
