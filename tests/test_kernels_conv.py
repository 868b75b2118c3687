"""kernels.conv: the reference against a naive direct convolution and against PyTorch,
the CPU face against the reference (dilated and grouped too), and every bad input
refused with a clear error."""
import os
import types

import numpy as np
import pytest
from conv_cases import Case, cases
from hypothesis import given
from hypothesis import strategies as st

import kernels.conv as conv
from kernels import face
from kernels.conv import cpu, reference

TOLERANCE = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}
seeds = st.integers(0, 2**16)
dtypes = st.sampled_from([np.float32, np.float64])


def direct(case, x, w, b, gy):
    """The convolution and its two gradients straight from the definition
    y[n, o, i, j] = b[o] + Σ_{c,p,q} w[o, c, p, q] · x_pad[n, g·C_in/G + c, i·sh + p·dh, j·sw + q·dw]
    (g the group of o), one output pixel at a time, with no im2col and no per-group
    split: an oracle independent of the faces."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = case.kernel, case.stride, case.padding, case.dilation
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y, gx_pad, gw = np.zeros(case.y_shape), np.zeros(x_pad.shape), np.zeros(w.shape)
    n, c_out, oh, ow = case.y_shape
    per_group_in, per_group_out = case.c_in // case.groups, c_out // case.groups
    for b_ in range(n):
        for o in range(c_out):
            g = o // per_group_out
            for i in range(oh):
                for j in range(ow):
                    field = (b_, slice(g * per_group_in, (g + 1) * per_group_in),
                             slice(i * sh, i * sh + dh * (kh - 1) + 1, dh), slice(j * sw, j * sw + dw * (kw - 1) + 1, dw))
                    y[b_, o, i, j] = b[o] + np.sum(w[o] * x_pad[field])
                    gx_pad[field] += gy[b_, o, i, j] * w[o]     # ∂y/∂x_pad = w on the field
                    gw[o] += gy[b_, o, i, j] * x_pad[field]     # ∂y/∂w = the field
    return y, gx_pad[:, :, ph:ph + case.h, pw:pw + case.w], gw


def run(face_module, case, x, w, b, gy):
    """forward, backward_data, backward_weight through the dispatcher (which splits the
    groups) with ``face_module``'s face forced."""
    saved = os.environ.get("MINIGRAD_FACE")
    os.environ["MINIGRAD_FACE"] = face_module.__name__.rsplit(".", 1)[1]
    try:
        return (conv.forward(x, w, b, *case.geometry),
                conv.backward_data(gy, w, case.x_shape, *case.geometry),
                conv.backward_weight(gy, x, case.w_shape, *case.geometry))
    finally:
        os.environ.pop("MINIGRAD_FACE") if saved is None else os.environ.update(MINIGRAD_FACE=saved)


def assert_same(got, expected, dtype):
    for name, a, e in zip(("forward", "backward_data", "backward_weight"), got, expected):
        assert a.shape == e.shape, name
        np.testing.assert_allclose(a, e, err_msg=name, **TOLERANCE[dtype])


@given(case=cases(max_dilation=3, max_groups=3, max_channels=2), seed=seeds)
def test_reference_matches_the_direct_definition(case, seed):
    x, w, b, gy = case.arrays(np.float64, seed)
    assert_same(run(reference, case, x, w, b, gy), direct(case, x, w, b, gy), np.float64)


@given(case=cases(max_dilation=3, max_groups=3, max_channels=2), seed=seeds)
def test_reference_matches_pytorch(case, seed):
    torch = pytest.importorskip("torch")
    x, w, b, gy = case.arrays(np.float64, seed)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=case.stride, padding=case.padding, dilation=case.dilation,
                                    groups=case.groups)
    yt.backward(torch.from_numpy(gy))
    got = run(reference, case, x, w, b, gy)
    assert_same(got, (yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()), np.float64)
    np.testing.assert_allclose(bt.grad.numpy(), gy.sum(axis=(0, 2, 3)))  # the op's gb rule


def strided(array, layout):
    """The same values in a non-contiguous array: every other element of a wider
    buffer, or a transposed copy transposed back (a 1-d bias is only strided)."""
    if layout == "strided" or (layout == "transposed" and array.ndim == 1):
        wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
        wide[..., ::2] = array
        return wide[..., ::2]
    if layout == "transposed":
        return np.ascontiguousarray(array.swapaxes(-1, -2)).swapaxes(-1, -2)
    return array


# the forward's two paths in the cpu face: im2col and GEMM, or the definition for a tiny call
FORWARDS = {"im2col": -1, "direct": 1 << 62}  # cpu.DIRECT_MACS for each


@given(case=cases(max_batch=5, max_dilation=3, max_groups=2), seed=seeds, dtype=dtypes,
       layout=st.sampled_from(["contiguous", "strided", "transposed"]), images_per_chunk=st.sampled_from([1, 2, None]),
       forward=st.sampled_from(sorted(FORWARDS)), bias=st.booleans())
def test_cpu_face_matches_reference(case, seed, dtype, layout, images_per_chunk, forward, bias):
    x, w, b, gy = case.arrays(dtype, seed)
    b = b if bias else None  # without one, the faces add none (no zeros array)
    expected = run(reference, case, x, w, b, gy)
    # the batch runs in chunks of images; draw chunk sizes that leave a short last chunk
    column_bytes = case.y_shape[2] * case.y_shape[3] * int(np.prod(case.w_shape[1:])) * np.dtype(dtype).itemsize
    saved = cpu.CHUNK_BYTES, cpu.DIRECT_MACS
    cpu.CHUNK_BYTES = saved[0] if images_per_chunk is None else images_per_chunk * column_bytes
    cpu.DIRECT_MACS = FORWARDS[forward]
    cpu._plan.cache_clear()  # plans are remembered per geometry with the chunk size of their day
    try:
        got = run(cpu, case, *(None if a is None else strided(a, layout) for a in (x, w, b, gy)))
    finally:
        cpu.CHUNK_BYTES, cpu.DIRECT_MACS = saved
        cpu._plan.cache_clear()
    for array in got:
        assert array.dtype == dtype and array.flags.c_contiguous
    assert_same(got, expected, dtype)


# the odd sizes by name, beside hypothesis' draws
EDGES = {
    "1x1 kernel": Case(2, 3, 2, 4, 5, (1, 1), (1, 1), (0, 0)),
    "kernel = input": Case(2, 2, 3, 3, 4, (3, 4), (1, 1), (0, 0)),
    "kernel = padded input": Case(1, 2, 2, 2, 1, (4, 3), (1, 1), (1, 1)),
    "stride > kernel": Case(2, 1, 2, 9, 7, (2, 2), (4, 3), (0, 1)),
    "batch of 1": Case(1, 3, 4, 6, 6, (3, 3), (2, 2), (1, 1)),
    "empty batch": Case(0, 2, 3, 5, 5, (3, 3), (1, 1), (1, 1)),
    # the cpu face trims taps that meet only padding (kernels/conv/cpu.py, item 6)
    "3x3 on 1x1 (one live tap)": Case(3, 4, 2, 1, 1, (3, 3), (1, 1), (1, 1)),
    "stride 2 on 2x2 (four live taps)": Case(2, 3, 5, 2, 2, (3, 3), (2, 2), (1, 1)),
    "last input rows unread": Case(2, 2, 3, 7, 6, (2, 2), (3, 4), (0, 0)),
    "every tap on padding": Case(2, 2, 3, 1, 1, (1, 1), (3, 3), (2, 2)),
    # dilation: the live taps of a dilated kernel, the first dead ones kept when dropping
    # them would need a negative padding
    "dilated 3x3 on 1x1": Case(2, 2, 3, 1, 1, (3, 3), (1, 1), (2, 2), (2, 2)),
    "dilated, first tap dead, padding 1": Case(1, 2, 2, 5, 5, (3, 3), (5, 5), (1, 1), (3, 3)),
    "dilation only across": Case(2, 3, 2, 4, 9, (2, 3), (1, 2), (0, 1), (1, 4)),
    "depthwise": Case(2, 4, 4, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1), 4),
    "groups, two outputs per group": Case(1, 6, 4, 5, 5, (2, 3), (2, 1), (0, 1), (2, 1), 2),
    "groups, empty batch": Case(0, 4, 2, 5, 5, (3, 3), (1, 1), (1, 1), (1, 1), 2),
}


@pytest.mark.parametrize("name", EDGES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("face_name, forward", [("cpu", "im2col"), ("cpu", "direct"), ("reference", None)])
def test_edge_cases_through_the_dispatcher(name, dtype, face_name, forward, monkeypatch):
    monkeypatch.setenv("MINIGRAD_FACE", face_name)  # the oracle must handle them too (an empty batch)
    if forward:
        monkeypatch.setattr(cpu, "DIRECT_MACS", FORWARDS[forward])
    case = EDGES[name]
    x, w, b, gy = case.arrays(dtype, seed=1)
    got = (conv.forward(x, w, b, *case.geometry),
           conv.backward_data(gy, w, case.x_shape, *case.geometry),
           conv.backward_weight(gy, x, case.w_shape, *case.geometry))
    assert got[0].shape == case.y_shape
    assert_same(got, direct(case, *(a.astype(np.float64) for a in (x, w, b, gy))), dtype)


def test_live_taps_trim_only_padding():
    assert cpu.live_taps(32, 5, 1, 2, 32) == (0, 5)     # a 32×32 image: every tap reads pixels
    assert cpu.live_taps(1, 3, 1, 1, 1) == (1, 2)       # 3×3 on 1×1: only the centre
    assert cpu.live_taps(2, 3, 2, 1, 1) == (1, 3)       # stride 2 on 2×2, one output
    assert cpu.live_taps(1, 1, 3, 2, 2) == (0, 0)       # every tap on padding
    assert cpu.live_taps(1, 3, 1, 2, 1, d=2) == (1, 2)  # dilated 3×3 on 1×1: only the centre
    assert cpu.live_taps(5, 3, 5, 1, 1, d=3) == (1, 2)  # tap 0 reads −1, tap 2 reads 5: both padding


def test_output_size_and_pair():
    assert conv.output_size(32, 5, 1, 2) == 32
    assert conv.output_size(7, 3, 2, 0) == 3
    assert conv.output_size(7, 3, 1, 0, 2) == 3     # a 3-tap kernel with dilation 2 spans 5
    assert conv.output_size(32, 3, 1, 2, 2) == 32   # PyTorch's floor((H + 2p − d(k−1) − 1)/s) + 1
    assert conv.pair(3, "stride", "op") == (3, 3)
    assert conv.pair((1, np.int64(2)), "stride", "op") == (1, 2)


X, W = np.zeros((2, 3, 5, 5), np.float32), np.zeros((4, 3, 3, 3), np.float32)
BAD = [
    ("kernel larger than padded input", (X, np.zeros((4, 3, 7, 3), np.float32)), {},
     RuntimeError, r"conv2d: kernel 7x3 is larger than the padded input 5x5"),
    ("dilated kernel larger than padded input", (X, W), dict(dilation=(3, 1)), RuntimeError,
     r"conv2d: kernel 7x3 \(kernel 3x3 with dilation \(3, 1\)\) is larger than the padded input 5x5"),
    ("stride 0", (X, W), dict(stride=0), RuntimeError, r"conv2d: stride must be positive, got \(0, 0\)"),
    ("negative stride", (X, W), dict(stride=(1, -2)), RuntimeError, r"stride must be positive, got \(1, -2\)"),
    ("negative padding", (X, W), dict(padding=-1), RuntimeError,
     r"conv2d: padding must be non-negative, got \(-1, -1\)"),
    ("dilation 0", (X, W), dict(dilation=0), RuntimeError, r"conv2d: dilation must be positive, got \(0, 0\)"),
    ("float stride", (X, W), dict(stride=1.5), TypeError, r"conv2d: stride must be an int or a pair of ints, got 1.5"),
    ("three paddings", (X, W), dict(padding=(1, 1, 1)), RuntimeError,
     r"conv2d: padding must be an int or a pair of ints, got 3 values \(1, 1, 1\)"),
    ("channel mismatch", (X, np.zeros((4, 2, 3, 3), np.float32)), {}, RuntimeError,
     r"conv2d: input has 3 channels \(shape \(2, 3, 5, 5\)\) but the weight \(shape \(4, 2, 3, 3\)\) "
     r"with groups=1 expects 2"),
    ("groups: input channels", (X, W), dict(groups=2), RuntimeError,
     r"conv2d: input has 3 channels .* with groups=2 expects 6"),
    ("groups: output channels", (np.zeros((2, 4, 5, 5), np.float32), np.zeros((3, 2, 3, 3), np.float32)),
     dict(groups=2), RuntimeError, r"conv2d: groups=2 must divide the weight's 3 output channels"),
    ("groups 0", (X, W), dict(groups=0), RuntimeError, r"conv2d: groups must be positive, got 0"),
    ("float groups", (X, W), dict(groups=1.0), TypeError, r"conv2d: groups must be an int, got 1.0"),
    ("3-d input", (X[0], W), {}, ValueError, r"conv2d: input must have shape \(N, C_in, H, W\), got \(3, 5, 5\)"),
    ("2-d weight", (X, W[:, :, 0, 0]), {}, ValueError, r"conv2d: weight must have shape \(C_out, C_in / groups, kh, kw\)"),
    ("bias of the wrong length", (X, W, np.zeros(3, np.float32)), {}, ValueError,
     r"conv2d: bias must have shape \(4,\) for 4 output channels, got \(3,\)"),
    ("float16", (X.astype(np.float16), W.astype(np.float16)), {}, TypeError,
     r"conv2d: supports float32 and float64 arrays, got \['float16'\]"),
    ("integers", (X.astype(np.int64), W.astype(np.int64)), {}, TypeError, r"conv2d: supports float32 and float64"),
    ("mixed precision", (X, W.astype(np.float64)), {}, TypeError,
     r"conv2d: arrays must share one dtype, got \['float32', 'float64'\]"),
    ("a list for the weight", (X, W.tolist()), {}, TypeError,
     r"conv2d: weight must be a NumPy or CuPy array, got list"),
    ("empty channels", (np.zeros((2, 0, 5, 5), np.float32), np.zeros((4, 0, 3, 3), np.float32)), {}, ValueError,
     r"conv2d: empty input"),
]


@pytest.mark.parametrize("name, args, kwargs, error, message", BAD, ids=[case[0] for case in BAD])
def test_bad_input_is_refused_clearly(name, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        conv.forward(*args, **kwargs)


def test_bad_gradients_are_refused_clearly():
    gy = np.zeros((2, 4, 3, 3), np.float32)  # the output of X, W with no padding
    conv.backward_data(gy, W, X.shape)
    with pytest.raises(ValueError, match=r"conv2d backward_data: output gradient has shape \(2, 4, 3, 3\), "
                                         r"but the convolution's output has shape \(2, 4, 5, 5\)"):
        conv.backward_data(gy, W, X.shape, padding=1)
    with pytest.raises(ValueError, match=r"conv2d backward_weight: output gradient has shape \(2, 4, 5, 5\)"):
        conv.backward_weight(np.zeros((2, 4, 5, 5), np.float32), X, W.shape)
    with pytest.raises(TypeError, match=r"conv2d backward_weight: arrays must share one dtype"):
        conv.backward_weight(gy.astype(np.float64), X, W.shape)


class _FakeGpuArray(np.ndarray):
    """Stands in for ``cupy.ndarray`` so the device check runs without a GPU."""


def test_byte_swapped_floats_are_refused():
    # float32 in big-endian order has float32's type code: the check must still refuse it
    x = np.ones((1, 1, 3, 3), dtype=">f4")
    with pytest.raises(TypeError, match=r"conv2d: supports float32 and float64 arrays, got \['>f4'\]"):
        conv.forward(x, np.ones((1, 1, 2, 2), dtype=">f4"))


def test_cpu_and_gpu_arrays_are_not_mixed(monkeypatch):
    monkeypatch.setattr(face, "cupy", types.SimpleNamespace(ndarray=_FakeGpuArray))
    with pytest.raises(TypeError, match=r"conv2d: arrays mix CPU \(NumPy\) and GPU \(CuPy\) memory"):
        conv.forward(X, W.view(_FakeGpuArray))
    with pytest.raises(TypeError, match=r"conv2d backward_data: arrays mix CPU"):
        conv.backward_data(np.zeros((2, 4, 3, 3), np.float32).view(_FakeGpuArray), W, X.shape)


def test_forced_reference_face_runs_the_reference(monkeypatch):
    calls = []
    monkeypatch.setenv("MINIGRAD_FACE", "reference")
    monkeypatch.setattr(reference, "im2col", lambda *a, _f=reference.im2col: calls.append(1) or _f(*a))
    conv.forward(X, W)
    assert calls == [1]


def test_cpu_face_runs_on_two_threads_at_once():
    # The Numba loops release the GIL and keep no state between calls, so a training
    # step may run two halves of a batch on two threads (shared/PERFORMANCE.md).
    from concurrent.futures import ThreadPoolExecutor
    case = Case(6, 4, 5, 9, 8, (3, 3), (1, 2), (1, 1))
    inputs = [case.arrays(np.float32, seed) for seed in range(4)]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(lambda a: (cpu.forward(a[0], a[1], a[2], case.stride, case.padding),
                                            cpu.backward_data(a[3], a[1], case.x_shape, case.stride, case.padding),
                                            cpu.backward_weight(a[3], a[0], case.w_shape, case.stride, case.padding)),
                                 inputs))
    for arrays, got in zip(inputs, together):
        assert_same(got, run(reference, case, *arrays), np.float32)
