"""Every optimizer against torch.optim: 20 steps on random float64 data, for every
combination of its options, two parameter groups with their own lr. The per-parameter
state (same names as PyTorch's) must match too. Skipped when PyTorch is not installed."""
import itertools
import zlib

import numpy as np
import pytest

from minigrad import optim
from minigrad.tensor import Tensor

STEPS = 20
SHAPES = [(4, 3), (3,), ()]


def combinations(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_CASES = [c for c in combinations(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                                     weight_decay=[0, 0.1], maximize=[False, True])
             if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)]
CASES = ([("SGD", dict(lr=0.05, **c)) for c in SGD_CASES]
         + [("Adagrad", dict(lr=0.1, **c)) for c in combinations(
             lr_decay=[0, 0.05], initial_accumulator_value=[0, 0.5], weight_decay=[0, 0.1],
             maximize=[False, True])]
         + [("RMSprop", dict(lr=0.01, **c)) for c in combinations(
             alpha=[0.99, 0.8], momentum=[0, 0.5], centered=[False, True], weight_decay=[0, 0.1],
             maximize=[False, True])]
         + [("Adadelta", dict(**c)) for c in combinations(
             lr=[1.0, 0.3], rho=[0.9, 0.5], weight_decay=[0, 0.1], maximize=[False, True])]
         + [(name, dict(lr=0.05, **c)) for name in ("Adam", "AdamW") for c in combinations(
             betas=[(0.9, 0.999), (0.5, 0.8)], amsgrad=[False, True], weight_decay=[0, 0.1],
             maximize=[False, True])])


def case_id(case):
    name, options = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in options.items() if k != "lr")


@pytest.mark.parametrize("name,options", CASES, ids=[case_id(c) for c in CASES])
def test_matches_torch(name, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(zlib.crc32(case_id((name, options)).encode()))
    starts = [rng.normal(size=s) for s in SHAPES]
    # gradients of a coupled quadratic plus noise, so each step depends on the last
    a = rng.normal(size=(4, 4))

    ours = [Tensor(x.copy(), requires_grad=True) for x in starts]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in starts]

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": options.get("lr", 1.0) / 2}]

    opt = getattr(optim, name)(groups(ours), **options)
    ref = getattr(torch.optim, name)(groups(theirs), **options)
    for _ in range(STEPS):
        noise = [rng.normal(size=s) for s in SHAPES]
        grads = [a @ ours[0].array + noise[0], ours[1].array + noise[1], 3 * ours[2].array + noise[2]]
        for p, q, g in zip(ours, theirs, grads):
            g = np.asarray(g)  # a 0-d result is a NumPy scalar, which Tensor() makes float32
            p.grad, q.grad = Tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.array, q.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"parameter {i}")
        for key, value in ref.state[q].items():
            if key == "step" or value is None:
                continue
            np.testing.assert_allclose(opt.state[p][key], value.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"state {key} of parameter {i}")
        if "step" in ref.state[q]:
            assert opt.state[p]["step"] == STEPS


@pytest.mark.parametrize("name", ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam"])
def test_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([Tensor(np.zeros(1), requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
    for key, value in ours.items():
        assert theirs[key] == value, key
