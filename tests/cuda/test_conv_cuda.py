"""The CUDA face of kernels.conv against the reference: forward, backward_data and
backward_weight, float32 and float64, a few strides and paddings. Shapes are tiny:
under the simulator every thread is a Python thread."""
import numpy as np
import pytest
from conv_cases import Case, cases
from cuda_arrays import on_device, to_host
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels.conv as conv
from kernels.conv import reference

TOLERANCE = {np.float32: dict(rtol=1e-4, atol=1e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}

CASES = {
    "3x3 pad 1": Case(2, 2, 3, 5, 4, (3, 3), (1, 1), (1, 1)),
    "stride 2, rectangular kernel": Case(1, 2, 2, 6, 5, (2, 3), (2, 1), (0, 1)),
    "1x1 kernel, stride > kernel": Case(2, 3, 2, 5, 5, (1, 1), (3, 2), (0, 0)),
    "kernel = padded input": Case(1, 1, 2, 2, 3, (4, 3), (1, 1), (1, 0)),
    "dilated, grouped": Case(1, 4, 2, 5, 6, (2, 3), (1, 2), (1, 1), (2, 2), 2),
}


def strided(a):
    """``a`` on the device as every other column of a wider array: not contiguous."""
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return on_device(wide)[..., ::2]


def compare(case, dtype, seed, with_bias=True, put=on_device):
    x, w, b, gy = case.arrays(dtype, seed)
    b = b if with_bias else None
    got = (conv.forward(put(x), put(w), None if b is None else put(b), *case.geometry),
           conv.backward_data(put(gy), put(w), case.x_shape, *case.geometry),
           conv.backward_weight(put(gy), put(x), case.w_shape, *case.geometry))
    with pytest.MonkeyPatch.context() as patch:  # the reference face, groups split by the same dispatcher
        patch.setenv("MINIGRAD_FACE", "reference")
        expected = (conv.forward(x, w, b, *case.geometry),
                    conv.backward_data(gy, w, case.x_shape, *case.geometry),
                    conv.backward_weight(gy, x, case.w_shape, *case.geometry))
    for name, a, e in zip(("forward", "backward_data", "backward_weight"), got, expected):
        a = to_host(a)
        assert a.dtype == dtype and a.shape == e.shape, name
        np.testing.assert_allclose(a, e, err_msg=name, **TOLERANCE[dtype])


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_face_matches_reference(name, dtype):
    compare(CASES[name], dtype, seed=0)


def test_cuda_face_on_an_empty_batch():
    """N = 0: empty outputs and a zero weight gradient, with no kernel launched on an empty grid."""
    x, w = np.zeros((0, 2, 5, 4), np.float32), np.ones((3, 2, 3, 3), np.float32)
    gy = np.zeros((0, 3, 5, 4), np.float32)
    assert to_host(conv.forward(on_device(x), on_device(w), None, 1, 1)).shape == (0, 3, 5, 4)
    assert to_host(conv.backward_data(on_device(gy), on_device(w), x.shape, 1, 1)).shape == x.shape
    np.testing.assert_array_equal(to_host(conv.backward_weight(on_device(gy), on_device(x), w.shape, 1, 1)),
                                  np.zeros(w.shape, np.float32))


def test_cuda_face_without_bias():
    compare(CASES["3x3 pad 1"], np.float32, seed=1, with_bias=False)


def test_cuda_face_on_non_contiguous_arrays():
    compare(CASES["stride 2, rectangular kernel"], np.float64, seed=2, put=strided)


@settings(max_examples=10)
@given(case=cases(max_batch=2, max_channels=2, max_kernel=3, max_stride=2, max_padding=1, max_extra=2,
                  max_dilation=2, max_groups=2),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_cuda_face_on_drawn_geometries(case, seed, dtype):
    compare(case, dtype, seed)


@pytest.mark.parametrize("name", ["stride 2, rectangular kernel", "dilated, grouped"])
def test_columns_kept_from_forward_give_backward_weight_the_same_gradient(monkeypatch, name):
    import kernels.conv.cuda as conv_cuda

    case = CASES[name]
    x, w, b, gy = case.arrays(np.float32, 3)
    asked = []  # the bytes keeps_columns was asked about: once per layer, all groups together
    keeps = conv_cuda.keeps_columns
    monkeypatch.setattr(conv_cuda, "keeps_columns",
                        lambda nbytes, like: asked.append(nbytes) or keeps(nbytes, like))
    y, columns = conv.forward(on_device(x), on_device(w), on_device(b), *case.geometry, keep_columns=True)
    assert columns is not None  # the simulator has no memory limit; on a GPU these few bytes fit
    n, _, oh, ow = case.y_shape
    assert asked == [n * oh * ow * case.c_in * case.kernel[0] * case.kernel[1] * 4]
    if case.groups > 1:  # one im2col per group, as each group's GEMM multiplied it
        assert isinstance(columns, list) and len(columns) == case.groups
    np.testing.assert_array_equal(to_host(y), to_host(conv.forward(on_device(x), on_device(w), on_device(b),
                                                                   *case.geometry)))
    kept = conv.backward_weight(on_device(gy), on_device(x), case.w_shape, *case.geometry, columns=columns)
    rebuilt = conv.backward_weight(on_device(gy), on_device(x), case.w_shape, *case.geometry)
    np.testing.assert_array_equal(to_host(kept), to_host(rebuilt))
    if case.groups > 1:  # one group's columns alone, in a list or bare: refused, never a wrong gradient
        for wrong in (columns[::-1][:1], columns[0]):
            with pytest.raises(ValueError, match="columns must be what forward"):
                conv.backward_weight(on_device(gy), on_device(x), case.w_shape, *case.geometry, columns=wrong)
    monkeypatch.setenv("MINIGRAD_CONV_KEEP_COLUMNS", "0")
    assert conv.forward(on_device(x), on_device(w), None, *case.geometry, keep_columns=True)[1] is None
    monkeypatch.setenv("MINIGRAD_CONV_KEEP_COLUMNS", "yes")
    with pytest.raises(ValueError, match="MINIGRAD_CONV_KEEP_COLUMNS='yes'"):
        conv.forward(on_device(x), on_device(w), None, *case.geometry, keep_columns=True)


@pytest.mark.parametrize("name", ["3x3 pad 1", "dilated, grouped"])
def test_conv2d_op_on_the_cuda_face_matches_the_reference_face(monkeypatch, name):
    """minigrad's conv2d keeps the forward's columns for gW on the cuda face (one
    array per group when grouped): its gradients against the same op on the reference face."""
    import minigrad as mg
    import minigrad.functional as F

    case = CASES[name]
    arrays = case.arrays(np.float64, 4)

    def run():
        x, w, b = (mg.tensor(on_device(a), requires_grad=True) for a in arrays[:3])
        y = F.conv2d(x, w, b, *case.geometry)
        (y * mg.tensor(on_device(arrays[3]))).sum().backward()
        return [to_host(t.array) for t in (y, x.grad, w.grad, b.grad)]

    on_cuda = run()
    monkeypatch.setenv("MINIGRAD_FACE", "reference")
    monkeypatch.setattr("cuda_arrays.GPU", False)  # the reference face reads NumPy arrays
    for got, want in zip(on_cuda, run()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
