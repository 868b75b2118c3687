"""median, nanmedian, kthvalue, the index writes, rot90, tensor_split, kron, cross, cdist,
the linalg norms and the optimizers Adamax, NAdam and RAdam on CuPy arrays: the CPU's results and
gradients, no read from the device in forward or backward, and an index out of range
reported at the next read (as CUDA reports a device-side assert), not by a read of its own."""
import math

import numpy as np
import pytest

import cupy
import minigrad as mg
import minigrad.functional as F
from minigrad import optim

STANDIN = getattr(cupy, "STANDIN", False)


def reads():
    if not STANDIN:
        return 0
    totals = cupy._counts.totals()
    return totals["d2h"] + totals["scalar"] + totals["sync"]


def run(device, fn):
    """fn's outputs and the gradients of x and s on ``device`` (float64), with the number of
    reads from the device fn and backward made."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.permutation(24).reshape(2, 3, 4) / 7.0, device=device, requires_grad=True)
    s = mg.tensor(rng.uniform(-1, 1, (2, 3, 2)), device=device, requires_grad=True)
    if STANDIN:
        cupy._counts.reset()
    out = fn(x, s)
    out.sum().backward()
    counted = reads()
    return [t.numpy() for t in (out, x.grad, s.grad if s.grad is not None else mg.zeros(1))], counted


CASES = {
    "median": lambda x, s: mg.median(x, 1).values,
    "median_all": lambda x, s: mg.median(x) * s,
    "nanmedian": lambda x, s: mg.nanmedian(x, -1, keepdim=True).values * s,
    "kthvalue": lambda x, s: x.kthvalue(2, 0).values,
    "index_add": lambda x, s: mg.index_add(x, 2, mg.tensor([3, 0], device=x.device), s, alpha=2),
    "index_copy": lambda x, s: mg.index_copy(x, 2, mg.tensor([3, 1], device=x.device), s),
    "index_fill": lambda x, s: x.index_fill(1, mg.tensor([-1, 0], device=x.device), s.sum()),
    "rot90": lambda x, s: mg.rot90(x, 3, (2, 0)),
    "tensor_split": lambda x, s: mg.tensor_split(x, 3, 2)[0] * s,
    "kron": lambda x, s: mg.kron(x, s),
    "cross": lambda x, s: mg.linalg.cross(x[:, :, :3], x[:, :, 1:], dim=1),
    "cdist": lambda x, s: mg.cdist(x[:, :, :2], s, p=3),
    "vector_norm": lambda x, s: mg.linalg.vector_norm(x, 1.5, dim=(0, 2)),
    "matrix_norm": lambda x, s: mg.linalg.matrix_norm(x, "nuc") + mg.linalg.matrix_norm(x, -math.inf),
    "erfc": lambda x, s: mg.erfc(x),
    "erfinv": lambda x, s: mg.erfinv(x / 4 - 0.4),
    "lgamma": lambda x, s: mg.lgamma(x - 1.5),
    "digamma": lambda x, s: mg.digamma(x - 1.5),
    "unfold": lambda x, s: F.unfold(x, 2, padding=1, stride=(1, 2)),
    "fold": lambda x, s: F.fold(F.unfold(x, 2, dilation=(1, 2)), (3, 4), 2, dilation=(1, 2)),
    "adaptive_max_pool2d": lambda x, s: F.adaptive_max_pool2d(x, (2, 3), return_indices=True)[0],
}


@pytest.mark.parametrize("name", CASES)
def test_same_results_as_the_cpu_without_reading_the_device(name):
    cpu, _ = run("cpu", CASES[name])
    gpu, counted = run("cuda", CASES[name])
    assert counted == 0
    for g, c in zip(gpu, cpu):
        np.testing.assert_allclose(g, c, rtol=1e-10)


def test_an_index_out_of_range_is_reported_at_the_next_read():
    x = mg.zeros(3, 4, device="cuda")
    if STANDIN:
        cupy._counts.reset()
    y = x.index_add(0, mg.tensor([1, 3], device="cuda"), mg.ones(2, 4, device="cuda"))
    assert reads() == 0  # queued, not read
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 0 with size 3"):
        y.numpy()
    z = x.index_fill(1, mg.tensor([-5], device="cuda"), 1.0)
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        z.sum().item()


@pytest.mark.parametrize("name,hyperparameters", [("Adamax", dict(lr=0.01, weight_decay=0.01)),
                                                  ("NAdam", dict(lr=0.01, decoupled_weight_decay=True,
                                                                 weight_decay=0.01)),
                                                  ("RAdam", dict(lr=0.01, weight_decay=0.01))])
def test_new_optimizers_update_device_arrays_as_on_the_cpu(name, hyperparameters):
    from test_optim_cuda import run as run_steps  # 5 steps after clipping, arrays updated in place
    cls = getattr(optim, name)
    gpu, _ = run_steps(cls, hyperparameters, "cuda", steps=8)  # past RAdam's switch to the rectified step
    cpu, _ = run_steps(cls, hyperparameters, "cpu", steps=8)
    for p, q in zip(cpu, gpu):
        assert q.device == "cuda"
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-10, atol=1e-12)


SAMPLERS = {  # x: 2000 zeros, quarter: 2000 times 0.25, both on the device
    "normal_": lambda x, quarter: x.normal_(1.0, 2.0),
    "uniform_": lambda x, quarter: x.uniform_(-1.0, 1.0),
    "exponential_": lambda x, quarter: x.exponential_(2.0),
    "bernoulli_": lambda x, quarter: x.bernoulli_(quarter),
    "bernoulli": lambda x, quarter: mg.bernoulli(x.uniform_()),
    "normal": lambda x, quarter: mg.normal(x, quarter * 4),
    "multinomial": lambda x, quarter: mg.multinomial(x.uniform_().reshape(40, 50), 7),
    "multinomial_replacement": lambda x, quarter: mg.multinomial(x.uniform_().reshape(40, 50), 70, True),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_draw_on_the_device(name):
    def draw():
        x, quarter = mg.zeros(2000, device="cuda"), mg.full((2000,), 0.25, device="cuda")
        if STANDIN:
            cupy._counts.reset()
        made = SAMPLERS[name](x, quarter)
        assert made.device == "cuda"
        if STANDIN:
            assert cupy._counts.totals()["h2d"] == 0 and reads() == 0  # drawn there, nothing read
        return made.numpy()
    mg.manual_seed(5)
    first = draw()
    mg.manual_seed(5)
    np.testing.assert_array_equal(draw(), first)  # the generator's state decides the device's numbers
    expected = {"normal_": 1.0, "uniform_": 0.0, "exponential_": 0.5, "bernoulli_": 0.25, "bernoulli": 0.5,
                "normal": 0.0, "multinomial": 24.5, "multinomial_replacement": 24.5}[name]
    assert abs(first.mean() - expected) < 0.15 * max(1.0, expected)


def test_a_bad_distribution_on_the_device_is_reported_at_the_next_read():
    weights = mg.tensor([[0.5, -1.0, 2.0]], device="cuda")
    if STANDIN:
        cupy._counts.reset()
    picks = mg.multinomial(weights, 1)
    assert reads() == 0
    with pytest.raises(RuntimeError, match="element < 0"):
        picks.numpy()


def test_searching_and_counting_stay_on_the_device():
    def make(device):
        sequence = mg.tensor([[0.0, 1, 1, 3], [2, 2, 5, 9]], device=device)
        values = mg.tensor([[1.0, 4, -1], [2, 9, 10]], device=device)
        data = mg.tensor([0.5, 1, 1, 2.5, 4, 7], device=device)
        counts, weights = mg.tensor([3, 0, 3, 5], device=device), data[:4]
        first, second = sequence.unbind(0)
        if STANDIN and device == "cuda":
            cupy._counts.reset()
        made = [mg.searchsorted(sequence, values, right=True), mg.searchsorted(first, values),
                mg.bucketize(values, second), mg.histc(data, bins=4), mg.histc(data, 3, min=1, max=4)]
        on_device = STANDIN and device == "cuda"
        assert not on_device or reads() == 0
        made.append(mg.bincount(counts, weights))
        assert not on_device or reads() == 1  # bincount's length: the largest value + 1
        return [t.numpy() for t in made]
    for gpu, cpu in zip(make("cuda"), make("cpu")):
        np.testing.assert_array_equal(gpu, cpu)
    with pytest.raises(RuntimeError, match="non-negative"):
        mg.bincount(mg.tensor([2, -1], device="cuda"))


def test_adaptive_max_pool_indices_are_the_cpus():
    def make(device):
        x = mg.tensor(np.random.default_rng(0).normal(size=(2, 3, 5, 7)), device=device)
        if STANDIN and device == "cuda":
            cupy._counts.reset()
        _, index = F.adaptive_max_pool2d(x, (3, 4), return_indices=True)
        assert not (STANDIN and device == "cuda") or reads() == 0
        return index.numpy()
    np.testing.assert_array_equal(make("cuda"), make("cpu"))
