"""The cuda face of kernels.pool, kernels.relu and kernels.batchnorm against the
reference face: forward and backward, float32 and float64, on small shapes that
still cover padding, overlapping windows (the gather backward), stride > kernel,
rectangular windows, a batch of 1, and more values per channel than a block has
threads (the block-stride loop of the reductions), split between several blocks
per channel (the partial sums and their fold)."""
import numpy as np
import pytest
from cuda_arrays import GPU, on_device, to_host

import kernels.batchnorm
import kernels.pool
import kernels.relu
from kernels.batchnorm import reference as bn_reference
from kernels.pool import reference as pool_reference
from kernels.relu import reference as relu_reference

DTYPES = [np.float32, np.float64]
WINDOWS = {  # name: (x shape, kernel, stride, padding)
    "padded 3x3 stride 2": ((2, 2, 5, 6), 3, 2, 1),
    "overlapping 2x2 stride 1": ((1, 2, 4, 4), 2, 1, 0),
    "stride > kernel, rectangular": ((1, 1, 5, 7), (1, 2), (3, 2), 0),
}
DILATED = {  # name: (x shape, kernel, stride, padding, dilation), max pooling only
    "dilated 3x3, padded, overlapping": ((1, 2, 7, 6), 3, 1, 1, 2),
    "dilated across only": ((1, 1, 4, 8), (2, 2), (2, 1), 0, (1, 3)),
}


def tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def data(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", WINDOWS)
def test_max_pool(name, dtype):
    shape, k, s, p = WINDOWS[name]
    x = data(shape, dtype, 0)
    window = kernels.pool.window("test", k, s, p)
    y, argmax = kernels.pool.max_forward(on_device(x), k, s, p)
    y_ref, argmax_ref = pool_reference.max_forward(x, *window)
    np.testing.assert_array_equal(to_host(y), y_ref)
    np.testing.assert_array_equal(to_host(argmax), argmax_ref)
    gy = data(y_ref.shape, dtype, 1)
    gx = kernels.pool.max_backward(on_device(gy), argmax, shape, k, s, p)
    np.testing.assert_allclose(to_host(gx), pool_reference.max_backward(gy, argmax_ref, shape, *window),
                               **tolerance(dtype))


@pytest.mark.parametrize("name", DILATED)
def test_dilated_max_pool(name):
    shape, k, s, p, d = DILATED[name]
    x = data(shape, np.float64, 13)
    geometry = kernels.pool.window("test", k, s, p) + (kernels.pool.dilation_pair("test", d),)
    y, argmax = kernels.pool.max_forward(on_device(x), k, s, p, d)
    y_ref, argmax_ref = pool_reference.max_forward(x, *geometry)
    np.testing.assert_array_equal(to_host(y), y_ref)
    np.testing.assert_array_equal(to_host(argmax), argmax_ref)
    gy = data(y_ref.shape, np.float64, 14)
    gx = kernels.pool.max_backward(on_device(gy), argmax, shape, k, s, p, d)  # overlapping windows: the gather
    np.testing.assert_allclose(to_host(gx), pool_reference.max_backward(gy, argmax_ref, shape, *geometry),
                               **tolerance(np.float64))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_integer_max_pool(dtype):
    """Integers exactly (int64 past 2^53 too): the kernel never holds a value in a float."""
    info = np.iinfo(dtype)
    x = np.random.default_rng(15).integers(info.max - 100, info.max, (1, 2, 5, 5), dtype=dtype, endpoint=True)
    y, argmax = kernels.pool.max_forward(on_device(x), 3, 2, 1)
    y_ref, argmax_ref = pool_reference.max_forward(x, (3, 3), (2, 2), (1, 1))
    assert to_host(y).dtype == dtype
    np.testing.assert_array_equal(to_host(y), y_ref)
    np.testing.assert_array_equal(to_host(argmax), argmax_ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", WINDOWS)
def test_avg_pool(name, dtype):
    shape, k, s, p = WINDOWS[name]
    x = data(shape, dtype, 2)
    window = kernels.pool.window("test", k, s, p)
    y = kernels.pool.avg_forward(on_device(x), k, s, p)
    np.testing.assert_allclose(to_host(y), pool_reference.avg_forward(x, *window), **tolerance(dtype))
    gy = data(y.shape, dtype, 3)
    gx = kernels.pool.avg_backward(on_device(gy), shape, k, s, p)
    np.testing.assert_allclose(to_host(gx), pool_reference.avg_backward(gy, shape, *window), **tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu(dtype):
    x = data((3, 5, 7), dtype, 4)[:, ::2]  # non-contiguous
    x[0, 0, :2] = [0, np.nan]
    y = kernels.relu.forward(on_device(x))
    np.testing.assert_array_equal(to_host(y), relu_reference.forward(x))
    gy = data(y.shape, dtype, 5)
    gx = kernels.relu.backward(on_device(gy), y)
    np.testing.assert_array_equal(to_host(gx), relu_reference.backward(gy, to_host(y)))


BN_SHAPES = {"(N, C)": (5, 3), "(N, C, H, W), batch of 1": (1, 2, 3, 3),
             "more values per channel than threads per block": (3, 1, 10, 10),
             "several blocks per channel, the last one partly filled": (3, 2, 15, 17)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", BN_SHAPES)
def test_batch_norm(name, dtype):
    shape = BN_SHAPES[name]
    c = shape[1]
    x = (2 * data(shape, dtype, 6) + 1).astype(dtype)
    weight, bias, gy = data(c, dtype, 7), data(c, dtype, 8), data(shape, dtype, 9)
    x3, gy3 = x.reshape(shape[0], c, -1), gy.reshape(shape[0], c, -1)
    mean, var = kernels.batchnorm.statistics(on_device(x))
    mean_ref, var_ref = bn_reference.statistics(x3)
    np.testing.assert_allclose(to_host(mean), mean_ref, **tolerance(dtype))
    np.testing.assert_allclose(to_host(var), var_ref, **tolerance(dtype))
    y = kernels.batchnorm.normalize(on_device(x), mean, var, on_device(weight), on_device(bias), 1e-5)
    np.testing.assert_allclose(to_host(y).reshape(x3.shape),
                               bn_reference.normalize(x3, mean_ref, var_ref, weight, bias, 1e-5), **tolerance(dtype))
    got = kernels.batchnorm.backward(on_device(gy), on_device(x), mean, var, on_device(weight), 1e-5)
    want = bn_reference.backward(gy3, x3, mean_ref, var_ref, weight, 1e-5)
    np.testing.assert_allclose(to_host(got[0]).reshape(x3.shape), want[0], **tolerance(dtype))
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(to_host(g), w, **tolerance(dtype))


def test_batch_norm_splits_a_channel_between_blocks_and_adds_in_a_fixed_order():
    """The last shape above runs 3 blocks per channel; two runs give the same bits (no atomics)."""
    from kernels.batchnorm import cuda as bn_cuda
    assert bn_cuda._parts(2, 3 * 15 * 17) == 3
    x = on_device(data((3, 1, 15, 17), np.float32, 13))
    runs = [[to_host(a) for a in kernels.batchnorm.statistics(x)] for _ in range(2)]
    for first, second in zip(*runs):
        np.testing.assert_array_equal(first, second)


def test_minigrad_ops_on_the_cuda_face_match_the_reference_face(monkeypatch):
    """The ops hand the cuda face its arrays and take its gradients back: a tiny
    batch norm → ReLU → max pool → average pool chain, gradients compared with the
    same chain on the reference face."""
    import minigrad as mg
    import minigrad.functional as F
    from minigrad import backend

    def run():
        x = mg.tensor(on_device(data((2, 2, 4, 4), np.float64, 10)), requires_grad=True)
        w = mg.tensor(on_device(data(2, np.float64, 11)), requires_grad=True)
        b = mg.tensor(on_device(data(2, np.float64, 12)), requires_grad=True)
        y = F.avg_pool2d(F.max_pool2d(F.relu(F.batch_norm(x, None, None, w, b, training=True)), 2, 1), 2, 1, 1)
        (y * y).sum().backward()
        return [backend.to_numpy(t.array) for t in (y, x.grad, w.grad, b.grad)]

    on_cuda = run()
    monkeypatch.setenv("MINIGRAD_FACE", "reference")
    if GPU:  # the reference face reads NumPy arrays
        monkeypatch.setattr("cuda_arrays.GPU", False)
    for got, want in zip(on_cuda, run()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
