"""Optimizers and clipping on CuPy parameters give the CPU's numbers, update the GPU
arrays in place, and save state dicts as NumPy. Skipped without CuPy and a GPU."""
import numpy as np
import pytest

from minigrad import backend, optim
from minigrad.tensor import Tensor

pytestmark = pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and a GPU")

CASES = [(optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
         (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
         (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
         (optim.Adadelta, dict(weight_decay=0.01)),
         (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
         (optim.AdamW, dict(lr=0.01, amsgrad=True))]


def run(cls, hyperparameters, device, steps=5):
    rng = np.random.default_rng(0)
    params = [Tensor(rng.normal(size=s), requires_grad=True, device=device) for s in [(4, 3), ()]]
    arrays = [p.array for p in params]
    opt = cls(params, **hyperparameters)
    for _ in range(steps):
        for p in params:
            p.grad = Tensor(np.asarray(rng.normal(size=p.shape)), device=device)
        optim.clip_grad_norm_(params, 1.0)
        optim.clip_grad_value_(params, 0.05)
        opt.step()
    assert all(p.array is a for p, a in zip(params, arrays))
    return params, opt


@pytest.mark.parametrize("cls,hyperparameters", CASES, ids=[c.__name__ for c, _ in CASES])
def test_gpu_matches_cpu(cls, hyperparameters):
    cpu, _ = run(cls, hyperparameters, "cpu")
    gpu, opt = run(cls, hyperparameters, "cuda")
    for p, q in zip(cpu, gpu):
        assert q.device == "cuda"
        np.testing.assert_allclose(backend.to_numpy(q.array), p.array, rtol=1e-10, atol=1e-12)
    saved = opt.state_dict()
    for entries in saved["state"].values():
        for name, value in entries.items():
            assert name == "step" or isinstance(value, np.ndarray)
    restored = cls([Tensor(np.zeros(p.shape), requires_grad=True, device="cuda") for p in gpu])
    restored.load_state_dict(saved)
    for state in restored.state.values():
        for name, value in state.items():
            assert name == "step" or backend.is_cupy(value)
