"""Adamax, NAdam, RAdam and the schedules OneCycleLR and CosineAnnealingWarmRestarts against
torch.optim: 20 steps of every optimizer option combination (the check of
tests/test_optim_torch.py), the defaults, and every rate (and momentum) a schedule sets.
Skipped where PyTorch is not installed."""
import math

import numpy as np
import pytest
from test_optim_torch import case_id, combinations
from test_optim_torch import test_matches_torch as matches_torch

from minigrad import optim
from minigrad.tensor import Tensor

CASES = ([("Adamax", dict(lr=0.05, **c)) for c in combinations(
             betas=[(0.9, 0.999), (0.5, 0.8)], weight_decay=[0, 0.1], maximize=[False, True])]
         + [("NAdam", dict(lr=0.05, **c)) for c in combinations(
             betas=[(0.9, 0.999), (0.5, 0.8)], momentum_decay=[4e-3, 0.1], weight_decay=[0, 0.1],
             decoupled_weight_decay=[False, True], maximize=[False, True])]
         + [("RAdam", dict(lr=0.05, **c)) for c in combinations(
             betas=[(0.9, 0.999), (0.5, 0.8)], weight_decay=[0, 0.1], decoupled_weight_decay=[False, True],
             maximize=[False, True])])


@pytest.mark.parametrize("name,options", CASES, ids=[case_id(c) for c in CASES])
def test_new_optimizers_match_torch(name, options):
    torch = pytest.importorskip("torch")
    # torch keeps NAdam's Π μ_i in its default dtype (float32 unless set), which moves the 8th
    # digit; minigrad keeps a Python float. Under float64 the two agree to the last digits.
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        matches_torch(name, options)  # parameters and every state entry after 20 steps
    finally:
        torch.set_default_dtype(default)




@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_state_dict_resumes_the_same_trajectory(name):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=3) for _ in range(6)]

    def run(steps, resume_from=None):
        p = Tensor(np.ones(3), requires_grad=True)
        opt = getattr(optim, name)([p], lr=0.1)
        if resume_from is not None:
            p.array[:], saved = resume_from
            opt.load_state_dict(saved)
        for g in steps:
            p.grad = Tensor(g)
            opt.step()
        return p, opt
    whole, _ = run(grads)
    half, opt = run(grads[:3])
    resumed, _ = run(grads[3:], (half.array.copy(), opt.state_dict()))
    np.testing.assert_array_equal(resumed.array, whole.array)
    with pytest.raises(ValueError, match="betas"):
        getattr(optim, name)([Tensor(np.ones(1))], betas=(1.0, 0.9))


def _schedules(torch, ours_make, theirs_make, optimizer, steps, **options):
    """The rates (and momenta) each step sets, ours and torch's, for two parameter groups."""
    params = [Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)]
    tparams = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    ours = getattr(optim, optimizer)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1)
    theirs = getattr(torch.optim, optimizer)([{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.05}], lr=0.1)
    mine, reference = ours_make(ours, **options), theirs_make(theirs, **options)
    seen = []
    for _ in range(steps):
        record = [[g["lr"] for g in o.param_groups] + [g.get("momentum", g.get("betas", (None,))[0])
                                                        for g in o.param_groups] for o in (ours, theirs)]
        seen.append(record)
        ours.step()
        theirs.step()
        mine.step()
        reference.step()
    for step, (a, b) in enumerate(seen):
        np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-12,
                                   err_msg=f"step {step}")
    return mine


@pytest.mark.parametrize("options", [dict(T_0=3), dict(T_0=2, T_mult=2, eta_min=0.001), dict(T_0=1, T_mult=3)])
def test_cosine_warm_restarts_matches_torch(options):
    torch = pytest.importorskip("torch")
    _schedules(torch, optim.lr_scheduler.CosineAnnealingWarmRestarts,
               torch.optim.lr_scheduler.CosineAnnealingWarmRestarts, "SGD", 40, **options)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("options", [dict(max_lr=0.5, total_steps=30),
                                     dict(max_lr=[0.5, 0.2], epochs=3, steps_per_epoch=7, anneal_strategy="linear"),
                                     dict(max_lr=1.0, total_steps=25, three_phase=True, pct_start=0.4,
                                          base_momentum=[0.8, 0.7], max_momentum=0.9),
                                     dict(max_lr=0.3, total_steps=10, cycle_momentum=False, div_factor=5.0)])
def test_one_cycle_matches_torch(optimizer, options):
    torch = pytest.importorskip("torch")
    if optimizer == "SGD" and options.get("cycle_momentum", True):
        make_ours = lambda o, **k: optim.lr_scheduler.OneCycleLR(o, **k)  # noqa: E731
        make_theirs = lambda o, **k: torch.optim.lr_scheduler.OneCycleLR(o, **k)  # noqa: E731
        params = [Tensor(np.zeros(1), requires_grad=True)]
        with pytest.raises(ValueError, match="momentum"):
            optim.lr_scheduler.OneCycleLR(optim.Adagrad(params), max_lr=1.0, total_steps=5)
    else:
        make_ours, make_theirs = optim.lr_scheduler.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR
    steps = options.get("total_steps") or options["epochs"] * options["steps_per_epoch"]
    schedule = _schedules(torch, make_ours, make_theirs, optimizer if optimizer == "Adam" else "SGD", steps,
                          **options)
    with pytest.raises(ValueError, match="total steps"):
        schedule.step()
        schedule.step()


def test_schedules_resume_from_their_state_dict_and_check_arguments():
    def make(kind):
        opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1, momentum=0.9)
        if kind == "one_cycle":
            return opt, optim.lr_scheduler.OneCycleLR(opt, max_lr=0.4, total_steps=20)
        return opt, optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    for kind in ("one_cycle", "restarts"):
        opt, schedule = make(kind)
        for _ in range(7):
            schedule.step()
        expected = [(schedule.step(), schedule.get_last_lr(), opt.param_groups[0]["momentum"])[1:]
                    for _ in range(5)]
        opt2, again = make(kind)
        opt_saved, schedule_saved = make(kind)
        for _ in range(7):
            schedule_saved.step()
        opt2.load_state_dict(opt_saved.state_dict())
        again.load_state_dict(schedule_saved.state_dict())
        got = [(again.step(), again.get_last_lr(), opt2.param_groups[0]["momentum"])[1:] for _ in range(5)]
        assert got == expected
    opt = optim.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=0.1)
    for bad in (dict(T_0=0), dict(T_0=2, T_mult=0), dict(T_0=1.5)):
        with pytest.raises(ValueError):
            optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, **bad)
    for bad in (dict(max_lr=1.0), dict(max_lr=1.0, total_steps=0), dict(max_lr=1.0, total_steps=5, pct_start=1),
                dict(max_lr=1.0, total_steps=5, anneal_strategy="exp"), dict(max_lr=[1.0, 2.0], total_steps=5)):
        with pytest.raises(ValueError):
            optim.lr_scheduler.OneCycleLR(opt, cycle_momentum=False, **bad)
    assert math.isclose(optim.lr_scheduler.OneCycleLR(opt, 1.0, 10, cycle_momentum=False).get_last_lr()[0], 0.04)
