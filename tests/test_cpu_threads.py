"""kernels.cpu_threads: the batch split over threads, BLAS limited and restored, and
every cpu face giving the reference's answers when its batch really is split
(batches of 1, 2, 3 and 17 over 2 and 3 threads; the other kernel tests run
small arrays, which stay on one thread)."""
import threading

import numpy as np
import pytest
import threadpoolctl
from conv_cases import Case

import kernels.batchnorm
import kernels.conv
import kernels.pool
import kernels.relu
from kernels import cpu_threads
from kernels.conv import cpu as conv_cpu
from kernels.conv import reference as conv_reference
from kernels.batchnorm import reference as batchnorm_reference
from kernels.pool import reference as pool_reference

BATCHES = [1, 2, 3, 17]


@pytest.fixture(params=[2, 3], ids=["2 threads", "3 threads"])
def threads(request, monkeypatch):
    """Every call split over ``request.param`` threads, however small."""
    monkeypatch.setattr(cpu_threads, "THREADS", request.param)
    monkeypatch.setattr(cpu_threads, "SERIAL_BELOW", 0)
    return request.param


def blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


@pytest.mark.parametrize("n, parts", [(0, 2), (1, 2), (2, 2), (3, 2), (7, 2), (17, 3), (5, 8)])
def test_ranges_cover_the_batch_evenly(n, parts):
    ranges = cpu_threads.ranges(n, parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # contiguous, in order
    lengths = [b1 - b0 for b0, b1 in ranges]
    assert len(ranges) == max(1, min(parts, n)) and max(lengths) - min(lengths) <= 1
    assert n == 0 or min(lengths) >= 1


def test_results_come_back_in_range_order_from_several_threads(threads):
    names = []
    got = cpu_threads.over_batch(17, lambda b0, b1: names.append(threading.current_thread().name) or (b0, b1), 1)
    assert got == cpu_threads.ranges(17, threads)
    assert len(set(names)) > 1  # really on several threads (the pool was sized when first used)


def test_blas_is_one_thread_inside_and_restored_after(threads):
    before = blas_threads()
    inside = cpu_threads.over_batch(4, lambda b0, b1: blas_threads(), 1)
    assert all(counts == [1] * len(before) for counts in inside)
    assert blas_threads() == before


def test_an_error_is_raised_after_every_range_has_finished(threads):
    finished = []

    def work(b0, b1):
        if b0 == 0:
            raise RuntimeError("first range failed")
        finished.append(b0)

    with pytest.raises(RuntimeError, match="first range failed"):
        cpu_threads.over_batch(6, work, 1)
    assert len(finished) == threads - 1
    assert cpu_threads._active == 0  # BLAS restored


def test_ctrl_c_while_waiting_is_raised_after_the_range_ends(threads):
    class InterruptedOnce:  # the worker's "done" lock, as if Ctrl-C came during the first wait
        def __init__(self, lock):
            self.lock, self.interrupted = lock, False

        def acquire(self):
            if not self.interrupted:
                self.interrupted = True
                raise KeyboardInterrupt
            return self.lock.acquire()

        def release(self):
            self.lock.release()

    cpu_threads.over_batch(threads, lambda b0, b1: None, 1)  # the workers exist
    worker = cpu_threads._workers[0]
    worker.done = InterruptedOnce(worker.done)
    with pytest.raises(KeyboardInterrupt):
        cpu_threads.over_batch(threads, lambda b0, b1: b0, 1)
    worker.done = worker.done.lock
    assert cpu_threads.over_batch(6, lambda b0, b1: (b0, b1), 1) == cpu_threads.ranges(6, threads)  # still in step


def test_a_call_from_inside_a_range_runs_serially(threads):
    inner = cpu_threads.over_batch(2, lambda b0, b1: cpu_threads.over_batch(5, lambda c0, c1: (c0, c1), 1), 1)
    assert inner == [[(0, 5)]] * 2


def test_small_calls_stay_on_the_callers_thread(monkeypatch):
    monkeypatch.setattr(cpu_threads, "THREADS", 2)
    names = cpu_threads.over_batch(8, lambda b0, b1: threading.current_thread().name, cpu_threads.SERIAL_BELOW - 1)
    assert names == [threading.current_thread().name]


def test_scratch_is_reused_per_thread_and_grows():
    a = cpu_threads.scratch("test scratch", (4, 8), np.dtype(np.float32))
    a[...] = 1
    b = cpu_threads.scratch("test scratch", (2, 3), np.dtype(np.float64))  # smaller: the same memory
    assert b.shape == (2, 3) and b.dtype == np.float64 and np.shares_memory(a, b)
    c = cpu_threads.scratch("test scratch", (100, 100), np.dtype(np.float32))  # larger: a new buffer
    assert c.shape == (100, 100) and not np.shares_memory(a, c)
    assert np.shares_memory(c, cpu_threads.scratch("test scratch", (10,), np.dtype(np.float32)))
    assert not np.shares_memory(c, cpu_threads.scratch("other scratch", (10,), np.dtype(np.float32)))
    seen = []  # another thread gets its own buffer under the same name
    worker = threading.Thread(
        target=lambda: seen.append(cpu_threads.scratch("test scratch", (10,), np.dtype(np.float32))))
    worker.start()
    worker.join()
    assert not np.shares_memory(c, seen[0])


def test_conv_calls_reuse_their_scratch_and_agree(threads):
    """Scratch buffers hold the last call's numbers: a second call of another geometry
    through the same buffers must not see them."""
    gen = np.random.default_rng(0)
    for shape, w_shape in (((3, 4, 9, 9), (5, 4, 3, 3)), ((2, 2, 5, 5), (3, 2, 3, 3)), ((3, 4, 9, 9), (5, 4, 3, 3))):
        x, w = gen.standard_normal(shape), gen.standard_normal(w_shape)
        expected = conv_reference.forward(x, w, None, (1, 1), (1, 1))
        np.testing.assert_allclose(conv_cpu.forward(x, w, None, (1, 1), (1, 1)), expected, rtol=1e-12, atol=1e-12)


def test_bad_thread_count_is_refused(monkeypatch):
    for value in ("0", "-1", "two"):
        monkeypatch.setenv("MINIGRAD_CPU_THREADS", value)
        with pytest.raises(ValueError, match=f"MINIGRAD_CPU_THREADS must be a positive integer, got '{value}'"):
            cpu_threads._thread_count()
    monkeypatch.setenv("MINIGRAD_CPU_THREADS", "3")
    assert cpu_threads._thread_count() == 3


@pytest.mark.parametrize("shapes", [((64, 128), (128, 64)), ((3, 40, 64), (64, 50)), ((5, 6), (6, 7)),
                                    ((0, 4), (4, 3))])
def test_matmul_is_numpys_and_restores_blas(shapes, monkeypatch):
    monkeypatch.setattr(cpu_threads, "THREADS", 2)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s) for s in shapes)
    before = blas_threads()
    np.testing.assert_allclose(cpu_threads.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert blas_threads() == before


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_split_over_threads_matches_reference(n, dtype, threads, monkeypatch):
    case = Case(n, 3, 4, 7, 6, (3, 2), (1, 2), (1, 1))
    x, w, b, gy = case.arrays(dtype, seed=n)
    monkeypatch.setattr(conv_cpu, "CHUNK_BYTES", 1)  # one image per chunk, several chunks per thread
    got = (kernels.conv.forward(x, w, b, case.stride, case.padding),
           kernels.conv.backward_data(gy, w, x.shape, case.stride, case.padding),
           kernels.conv.backward_weight(gy, x, w.shape, case.stride, case.padding))
    monkeypatch.setenv("MINIGRAD_FACE", "reference")
    want = (kernels.conv.forward(x, w, b, case.stride, case.padding),
            kernels.conv.backward_data(gy, w, x.shape, case.stride, case.padding),
            kernels.conv.backward_weight(gy, x, w.shape, case.stride, case.padding))
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for name, g, e in zip(("forward", "gx", "gw"), got, want):
        np.testing.assert_allclose(g, e, err_msg=name, **tolerance)


def test_conv_weight_gradient_is_the_same_every_run(threads):
    x, w, b, gy = Case(17, 3, 4, 7, 6, (3, 3), (1, 1), (1, 1)).arrays(np.float32, seed=3)
    first = kernels.conv.backward_weight(gy, x, w.shape, 1, 1)
    for _ in range(3):
        assert np.array_equal(kernels.conv.backward_weight(gy, x, w.shape, 1, 1), first)


@pytest.mark.parametrize("n", BATCHES)
def test_pool_and_relu_split_over_threads_are_exact(n, threads):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3, 6, 7))
    for kernel, stride, padding in [(2, 2, 0), (3, 2, 1)]:
        y, argmax = kernels.pool.max_forward(x, kernel, stride, padding)
        gy = rng.standard_normal(y.shape)
        gx = kernels.pool.max_backward(gy, argmax, x.shape, kernel, stride, padding)
        avg = kernels.pool.avg_forward(x, kernel, stride, padding)
        gx_avg = kernels.pool.avg_backward(gy, x.shape, kernel, stride, padding)
        ref = pool_reference
        y_ref, argmax_ref = ref.max_forward(x, (kernel,) * 2, (stride,) * 2, (padding,) * 2)
        assert np.array_equal(y, y_ref) and np.array_equal(argmax, argmax_ref)
        assert np.array_equal(gx, ref.max_backward(gy, argmax_ref, x.shape, (kernel,) * 2, (stride,) * 2,
                                                   (padding,) * 2))
        np.testing.assert_allclose(avg, ref.avg_forward(x, (kernel,) * 2, (stride,) * 2, (padding,) * 2),
                                   rtol=1e-12)
        np.testing.assert_allclose(gx_avg, ref.avg_backward(gy, x.shape, (kernel,) * 2, (stride,) * 2,
                                                            (padding,) * 2), rtol=1e-12)
    y = kernels.relu.forward(x)
    assert np.array_equal(y, np.where(x < 0, 0, x))
    assert np.array_equal(kernels.relu.backward(x, y), np.where(y > 0, x, 0))


@pytest.mark.parametrize("shape", [(0, 5), (0,), (3, 0), (), (5,)])
def test_relu_of_empty_and_0_d_arrays(shape, threads):
    x = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    y = kernels.relu.forward(x)
    assert y.shape == x.shape and np.array_equal(y, np.maximum(x, 0))
    assert np.array_equal(kernels.relu.backward(x, y), np.where(y > 0, x, 0))


@pytest.mark.parametrize("n", BATCHES)
@pytest.mark.parametrize("shape", [(4,), (3, 5, 2)], ids=["2-d", "4-d"])
def test_batch_norm_split_over_threads_matches_reference(n, shape, threads):
    if n == 1 and len(shape) == 1:
        n = 2  # a variance needs two values per channel
    rng = np.random.default_rng(n)
    x = 3 * rng.standard_normal((n,) + shape) + 1
    weight, bias, gy = rng.standard_normal(shape[0]), rng.standard_normal(shape[0]), rng.standard_normal(x.shape)
    ref, as_3d = batchnorm_reference, lambda a: a.reshape(a.shape[0], a.shape[1], -1)
    mean, var = kernels.batchnorm.statistics(x)
    for g, e in zip((mean, var), ref.statistics(as_3d(x))):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    y = kernels.batchnorm.normalize(x, mean, var, weight, bias)
    np.testing.assert_allclose(as_3d(y), ref.normalize(as_3d(x), mean, var, weight, bias, 1e-5), rtol=1e-12)
    got = kernels.batchnorm.backward(gy, x, mean, var, weight)
    want = ref.backward(as_3d(gy), as_3d(x), mean, var, weight, 1e-5)
    np.testing.assert_allclose(as_3d(got[0]), want[0], rtol=1e-10, atol=1e-10)
    for g, e in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)
