"""Ops on CuPy arrays: no host array is made or read where the CPU run makes none, and
the results are the CPU's. Runs where ``import cupy`` finds CuPy or the stand-in
(``tests/test_device_standin.py`` arranges the stand-in, whose counts are checked)."""
import numpy as np
import pytest

import cupy
import minigrad as mg
import minigrad.functional as F

STANDIN = getattr(cupy, "STANDIN", False)


@pytest.fixture(autouse=True)
def fresh_counts():
    if STANDIN:
        cupy._counts.reset()


def counted(kind):
    return sum(cupy._counts.counts()[kind].values()) if STANDIN else 0


def both(make):
    """``make(device)`` on the CPU and on the device (the device's counted alone)."""
    cpu = make("cpu")
    if STANDIN:
        cupy._counts.reset()
    return cpu, make("cuda")


@pytest.mark.parametrize("dtype, number, expected", [("float32", 2.0, "float32"), ("float64", 2.0, "float64"),
                                                     ("float16", 3, "float16"), ("int64", 2, "float32"),
                                                     ("int32", 2.5, "float32")])
def test_a_python_number_goes_to_the_device_as_a_scalar(dtype, number, expected):
    def make(device):
        x = mg.tensor(np.arange(1, 7).reshape(2, 3).astype(dtype), device=device)
        return (x * number + number) / number - number  # true division: ints give float32
    cpu, gpu = both(make)
    assert gpu.dtype == cpu.dtype == np.dtype(expected)  # PyTorch's dtype rule, on both devices
    assert counted("h2d") == (1 if STANDIN else 0)  # x itself: nothing made on the host for the numbers
    np.testing.assert_array_equal(gpu.numpy(), cpu.numpy())


def test_gradients_through_scalars_match_the_cpu():
    def make(device):
        x = mg.tensor(np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3), device=device, requires_grad=True)
        (((x * 3.0 + 1) ** 2) / 4.0 - x.masked_fill(x > 0, 0.5)).sum().backward()
        return x.grad.numpy()
    cpu, gpu = both(make)
    np.testing.assert_array_equal(gpu, cpu)


def reads():
    totals = cupy._counts.totals()
    return totals["d2h"] + totals["scalar"] + totals["sync"]


def test_clip_grad_norm_reads_once_and_clips_as_on_the_cpu():
    from minigrad import optim
    grads = [np.random.default_rng(i).normal(size=s).astype(np.float32) for i, s in enumerate([(5, 4), (4,), (3, 2)])]

    def make(device):
        params = [mg.zeros(g.shape, requires_grad=True, device=device) for g in grads]
        for p, g in zip(params, grads):
            p.grad = mg.tensor(g, device=device)
        if STANDIN:
            cupy._counts.reset()
        total = optim.clip_grad_norm_(params, 1.0)
        return total, [p.grad.numpy() for p in params], reads() if STANDIN and device == "cuda" else None

    (cpu_total, cpu_grads, _), (gpu_total, gpu_grads, counted) = make("cpu"), make("cuda")
    assert gpu_total.device.type == "cuda" and gpu_total.shape == () and gpu_total.item() == cpu_total.item()
    for g, c in zip(gpu_grads, cpu_grads):
        np.testing.assert_array_equal(g, c)
    if STANDIN:
        assert counted == 1 + 3  # the norms, together; then the three gradients read by the test


def test_dropout_draws_its_mask_on_the_device():
    # cuRAND's numbers are not NumPy's, so the mask is checked by its statistics, and a seed
    # (or a saved generator state) must give the same mask again
    x = mg.ones((200, 100), device="cuda")
    mg.manual_seed(0)
    if STANDIN:
        cupy._counts.reset()
    y = F.dropout(x, 0.3)
    assert y.device == "cuda" and y.dtype == np.float32
    if STANDIN:
        assert cupy._counts.totals()["h2d"] == 0 and reads() == 0
    values = y.numpy()
    assert set(np.unique(values)) <= {0.0, np.float32(1 / 0.7)}
    kept = (values > 0).mean()
    assert abs(kept - 0.7) < 5 * (0.3 * 0.7 / values.size) ** 0.5  # 5 standard deviations
    assert abs((values > 0).mean(axis=0) - 0.7).max() < 0.25   # no column left out
    state = mg.random.get_rng_state()
    again = F.dropout(x, 0.3).numpy()
    mg.random.set_rng_state(state)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), again)  # a checkpoint resumes the masks
    assert not np.array_equal(again, values)


# --- device inputs where NumPy's asarray would copy them to the host (CuPy refuses it) ------

LABELS = np.array([[2, 0], [1, 2]])


def test_one_hot_of_device_labels_stays_on_the_device():
    labels = cupy.asarray(LABELS)
    for given in (labels, mg.tensor(LABELS, device="cuda")):  # a raw device array or a tensor
        if STANDIN:
            cupy._counts.reset()
        out = F.one_hot(given, 3)
        assert out.device == "cuda" and (not STANDIN or reads() == 0)  # the range check is queued, not read
        np.testing.assert_array_equal(out.numpy(), F.one_hot(mg.tensor(LABELS), 3).numpy())
    bad = F.one_hot(mg.tensor([0, 5], device="cuda"), 3)
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 5"):
        bad.numpy()  # reported at the next read from the device, as CUDA reports a device-side assert


def test_embedding_of_device_indices_matches_the_cpu():
    weight = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)

    def make(device):
        w = mg.tensor(weight, requires_grad=True, device=device)
        index = cupy.asarray(LABELS) if device == "cuda" else LABELS
        out = F.embedding(index, w, padding_idx=0)
        (out * out).sum().backward()
        return out.numpy(), w.grad.numpy()
    (cpu, cpu_grad), (gpu, gpu_grad) = both(make)
    np.testing.assert_array_equal(gpu, cpu)
    np.testing.assert_array_equal(gpu_grad, cpu_grad)
    bad = F.embedding(mg.tensor([1, 4], device="cuda"), mg.tensor(weight, device="cuda"))
    with pytest.raises(IndexError, match="index 4 is out of range for 4 embeddings"):
        bad.numpy()


def test_where_takes_a_device_condition():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for condition in (cupy.asarray(x > 2), mg.tensor(x > 2, device="cuda")):
        out = mg.where(condition, mg.tensor(x, device="cuda"), 0.0)
        np.testing.assert_array_equal(out.numpy(), np.where(x > 2, x, 0))
    np.testing.assert_array_equal(mg.where(cupy.asarray(x > 2), 1.0, -1.0).numpy(), np.where(x > 2, 1.0, -1.0))


def test_indexing_with_device_indices_matches_the_cpu():
    data = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    rows = np.array([4, 0, 0, 2])

    def make(device):
        x = mg.tensor(data, requires_grad=True, device=device)
        index = cupy.asarray(rows) if device == "cuda" else rows
        picked = [x[index], x[mg.tensor(rows, device=device)], x.index_select(0, index), x.take(index),
                  x[x > 0]]
        sum(p.sum() for p in picked).backward()
        return [p.numpy() for p in picked] + [x.grad.numpy()]
    cpu, gpu = both(make)
    for c, g in zip(cpu, gpu):
        np.testing.assert_array_equal(g, c)
    if STANDIN:
        copies = cupy._counts.counts()["h2d"]  # the test's own (x, the indices), none by the indexing
        assert not [site for site in copies if site.startswith("minigrad/ops/shape.py")], copies
