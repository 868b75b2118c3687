"""Learning-rate schedules against their formulas (hand numbers), against
torch.optim.lr_scheduler where PyTorch has the same schedule (skipped without it),
state_dict round trips mid-run, and invalid arguments."""
import json
import math
import warnings

import numpy as np
import pytest

from minigrad import optim
from minigrad.optim import lr_scheduler as S
from minigrad.tensor import Tensor

LRS = (0.1, 0.02)  # two parameter groups, each with its own starting rate


def sgd(lrs=LRS):
    return optim.SGD([{"params": [Tensor(np.zeros(1), requires_grad=True)], "lr": lr} for lr in lrs])


def rates(scheduler, steps):
    """[rates at t = 0, 1, …, steps], the optimizer's and the schedule's, which must agree."""
    out = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        assert [g["lr"] for g in scheduler.optimizer.param_groups] == scheduler.get_last_lr()
        out.append(scheduler.get_last_lr())
    return out


def column(trajectory, group=0):
    return [lrs[group] for lrs in trajectory]


# ---- formulas on hand numbers -------------------------------------------------------------
def test_step_lr():
    # lr₀ · 0.5^⌊t/3⌋
    assert column(rates(S.StepLR(sgd((1.0,)), step_size=3, gamma=0.5), 7)) == \
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_inverse_time_lr():
    # lr₀ · C/(C + t) with C = 2: 1, 2/3, 1/2, 2/5, 1/3
    got = column(rates(S.InverseTimeLR(sgd((1.0,)), C=2), 4))
    np.testing.assert_allclose(got, [1, 2 / 3, 1 / 2, 2 / 5, 1 / 3], rtol=1e-15)


def test_inverse_sqrt_lr():
    # lr₀/√(1 + t/C) with C = 1: 1, 1/√2, 1/√3, 1/2; with C = 4 it starts slower
    got = column(rates(S.InverseSqrtLR(sgd((1.0,)), C=1), 3))
    np.testing.assert_allclose(got, [1, 1 / math.sqrt(2), 1 / math.sqrt(3), 0.5], rtol=1e-15)
    got = column(rates(S.InverseSqrtLR(sgd((2.0,)), C=4), 12))
    assert got[12] == pytest.approx(1.0, rel=1e-15)  # 2/√(1 + 12/4) = 1


def test_cosine_annealing_lr():
    # η_min + (lr₀ − η_min)(1 + cos(πt/4))/2 with lr₀ = 1, η_min = 0.2
    got = column(rates(S.CosineAnnealingLR(sgd((1.0,)), T_max=4, eta_min=0.2), 8))
    half = math.sqrt(2) / 2
    expected = [1.0, 0.2 + 0.8 * (1 + half) / 2, 0.6, 0.2 + 0.8 * (1 - half) / 2, 0.2,
                0.2 + 0.8 * (1 - half) / 2, 0.6, 0.2 + 0.8 * (1 + half) / 2, 1.0]
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_linear_warmup():
    # lr₀ · (0.2 + 0.8·t/4) for t < 4, then lr₀
    got = column(rates(S.LinearWarmup(sgd((1.0,)), warmup_steps=4, start_factor=0.2), 6))
    np.testing.assert_allclose(got, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0], rtol=1e-15)


def test_linear_warmup_then_step_decay():
    opt = sgd((1.0,))
    warm = S.LinearWarmup(opt, warmup_steps=2, start_factor=0.5, after=S.StepLR(opt, step_size=2, gamma=0.1))
    got = column(rates(warm, 7))
    np.testing.assert_allclose(got, [0.5, 0.75, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)
    assert warm.after.last_epoch == 5 and warm.after.get_last_lr() == warm.get_last_lr()


def test_each_group_follows_its_own_start():
    got = rates(S.InverseTimeLR(sgd(), C=1), 3)
    np.testing.assert_allclose(np.array(got), np.outer([1, 1 / 2, 1 / 3, 1 / 4], LRS), rtol=1e-15)
    assert sgd().param_groups[0].get("initial_lr") is None
    opt = sgd()
    S.StepLR(opt, 1)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)


def test_reduce_lr_on_plateau():
    opt = sgd((1.0,))
    plateau = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    assert plateau.needs_metric and not S.StepLR(sgd(), 1).needs_metric
    seen = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 3]:
        plateau.step(metric)
        seen.append(opt.param_groups[0]["lr"])
    # epochs 1, 2 improve; 3, 4 are bad: 2 > patience 1 → halve at epoch 4, cooldown 1;
    # epoch 5's bad count is dropped (cooldown); 6, 7 bad → halve at 7; 8 in cooldown;
    # 9 improves (3 < 4). Later, two more bad epochs would give 0.125: cut to min_lr 0.2.
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert plateau.get_last_lr() == [0.25]
    for metric in [3, 3, 3, 3, 3]:
        plateau.step(metric)
    assert opt.param_groups[0]["lr"] == 0.2


def test_reduce_lr_on_plateau_max_mode_and_abs_threshold():
    opt = sgd((1.0,))
    plateau = S.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.5,
                                  threshold_mode="abs")
    plateau.step(1.0)    # improves on −inf
    plateau.step(1.4)    # not above 1.0 + 0.5: bad, > patience 0 → reduce
    assert plateau.get_last_lr() == [pytest.approx(0.1)]
    plateau.step(Tensor(np.array(2.0)))  # a one-element tensor is accepted
    assert plateau.best == 2.0 and plateau.get_last_lr() == [pytest.approx(0.1)]


# ---- against PyTorch ------------------------------------------------------------------------
def torch_pair():
    torch = pytest.importorskip("torch")
    params = [torch.zeros(1, requires_grad=True) for _ in LRS]
    return torch, torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS)])


TORCH_CASES = [
    ("StepLR", lambda o: S.StepLR(o, step_size=4, gamma=0.3),
     lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.3)),
    ("Cosine", lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001)),
    ("InverseTime", lambda o: S.InverseTimeLR(o, C=3),
     lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 3 / (3 + e))),
    ("InverseSqrt", lambda o: S.InverseSqrtLR(o, C=5),
     lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / math.sqrt(1 + e / 5))),
    ("Warmup", lambda o: S.LinearWarmup(o, warmup_steps=5, start_factor=0.1),
     lambda t, o: t.optim.lr_scheduler.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5)),
    ("Warmup+Cosine", lambda o: S.LinearWarmup(o, 5, 0.1, after=S.CosineAnnealingLR(o, T_max=10)),
     lambda t, o: t.optim.lr_scheduler.SequentialLR(
         o, [t.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, total_iters=5),
             t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)], milestones=[5])),
]


@pytest.mark.parametrize("name,ours,theirs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch(name, ours, theirs):
    torch, torch_opt = torch_pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation chatter
        reference = theirs(torch, torch_opt)
        expected = [reference.get_last_lr()]
        for _ in range(30):
            torch_opt.step()
            reference.step()
            expected.append(reference.get_last_lr())
    np.testing.assert_allclose(rates(ours(sgd()), 30), expected, rtol=1e-13, atol=1e-18)


@pytest.mark.parametrize("mode,threshold_mode,cooldown", [("min", "rel", 0), ("min", "abs", 2),
                                                          ("max", "rel", 1), ("max", "abs", 0)])
def test_reduce_lr_on_plateau_matches_torch(mode, threshold_mode, cooldown):
    torch, torch_opt = torch_pair()
    options = dict(mode=mode, factor=0.5, patience=2, threshold=0.05, threshold_mode=threshold_mode,
                   cooldown=cooldown, min_lr=[0.01, 0.005])
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **options)
    ours = S.ReduceLROnPlateau(sgd(), **options)
    metrics = np.random.default_rng(0).normal(loc=np.linspace(0, 1, 60), scale=0.3)
    for metric in metrics:
        reference.step(metric)
        ours.step(metric)
        assert ours.get_last_lr() == reference.get_last_lr()
    assert ours.get_last_lr() != list(LRS)  # the metric sequence did trigger reductions


# ---- saving and resuming ------------------------------------------------------------------------
def as_npz(value):
    """What a checkpoint's arrays give back: lists as arrays, numbers as 0-d arrays."""
    if isinstance(value, dict):
        return {k: as_npz(v) for k, v in value.items()}
    return np.asarray(value)


MAKERS = [
    lambda o: S.StepLR(o, step_size=3, gamma=0.5),
    lambda o: S.InverseTimeLR(o, C=2.5),
    lambda o: S.InverseSqrtLR(o, C=2),
    lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    lambda o: S.LinearWarmup(o, warmup_steps=3),
    lambda o: S.LinearWarmup(o, 3, 0.5, after=S.CosineAnnealingLR(o, T_max=5)),
]


@pytest.mark.parametrize("make", MAKERS, ids=["Step", "InverseTime", "InverseSqrt", "Cosine",
                                              "Warmup", "Warmup+Cosine"])
def test_state_dict_round_trip_mid_run(make):
    opt = sgd()
    scheduler = make(opt)
    rates(scheduler, 4)
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    continued = rates(scheduler, 8)
    for transport in (lambda s: s, lambda s: json.loads(json.dumps(s)), as_npz):
        opt2 = sgd((9.0, 9.0))          # a fresh run: other rates until restored
        scheduler2 = make(opt2)
        opt2.load_state_dict(transport(saved_opt))
        scheduler2.load_state_dict(transport(saved))
        assert scheduler2.last_epoch == 4 and isinstance(scheduler2.last_epoch, int)
        assert rates(scheduler2, 8) == continued


def test_plateau_state_dict_round_trip():
    opt = sgd()
    plateau = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    metrics = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    for m in metrics[:4]:
        plateau.step(m)
    saved_opt, saved = opt.state_dict(), plateau.state_dict()
    for m in metrics[4:]:
        plateau.step(m)
    opt2 = sgd()
    plateau2 = S.ReduceLROnPlateau(opt2, factor=0.5, patience=1, cooldown=1)
    opt2.load_state_dict(saved_opt)
    plateau2.load_state_dict(as_npz(json.loads(json.dumps(saved))))
    for m in metrics[4:]:
        plateau2.step(m)
    assert plateau2.get_last_lr() == plateau.get_last_lr()
    assert plateau2.state_dict() == plateau.state_dict()


def test_resume_with_last_epoch_needs_initial_lr():
    opt = sgd()
    S.StepLR(opt, step_size=2)
    saved = opt.state_dict()
    opt2 = sgd()
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(opt2, step_size=2, last_epoch=4)
    opt2.load_state_dict(saved)
    resumed = S.StepLR(opt2, step_size=2, gamma=0.1, last_epoch=4)
    assert resumed.last_epoch == 5
    np.testing.assert_allclose(resumed.get_last_lr(), [lr * 0.01 for lr in LRS], rtol=1e-15)


@pytest.mark.parametrize("corrupt,message", [
    (lambda s: s.pop("gamma"), r"missing entries \['gamma'\]"),
    (lambda s: s.update(T_max=3), r"unexpected entries \['T_max'\]"),
    (lambda s: s.update(base_lrs=[0.1]), "'base_lrs' has 1 entries, the optimizer has 2"),
    (lambda s: s.update(step_size=0), "invalid step_size=0"),
])
def test_load_state_dict_rejects_mismatches_and_changes_nothing(corrupt, message):
    scheduler = S.StepLR(sgd(), step_size=3)
    rates(scheduler, 2)
    saved, before = scheduler.state_dict(), scheduler.state_dict()
    corrupt(saved)
    with pytest.raises(ValueError, match=message):
        scheduler.load_state_dict(saved)
    assert scheduler.state_dict() == before


def test_get_last_lr_is_a_copy():
    scheduler = S.StepLR(sgd(), step_size=3)
    scheduler.get_last_lr().append(1.0)
    assert len(scheduler.get_last_lr()) == 2


# ---- invalid arguments ---------------------------------------------------------------------------
INVALID = [
    (lambda o: S.StepLR(o, step_size=0), "StepLR: invalid step_size=0"),
    (lambda o: S.StepLR(o, step_size=2.5), "StepLR: invalid step_size=2.5"),
    (lambda o: S.StepLR(o, step_size=2, gamma=0), "StepLR: invalid gamma=0"),
    (lambda o: S.StepLR(o, step_size=2, last_epoch=-3), "StepLR: invalid last_epoch=-3"),
    (lambda o: S.InverseTimeLR(o, C=0), "InverseTimeLR: invalid C=0"),
    (lambda o: S.InverseSqrtLR(o, C=-1.0), "InverseSqrtLR: invalid C=-1.0"),
    (lambda o: S.CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: invalid T_max=0"),
    (lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=-0.1), "CosineAnnealingLR: invalid eta_min=-0.1"),
    (lambda o: S.LinearWarmup(o, warmup_steps=0), "LinearWarmup: invalid warmup_steps=0"),
    (lambda o: S.LinearWarmup(o, 5, start_factor=0), "LinearWarmup: invalid start_factor=0"),
    (lambda o: S.LinearWarmup(o, 5, start_factor=1.5), "LinearWarmup: invalid start_factor=1.5"),
    (lambda o: S.ReduceLROnPlateau(o, mode="up"), "ReduceLROnPlateau: invalid mode='up'"),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), "ReduceLROnPlateau: invalid factor=1.0"),
    (lambda o: S.ReduceLROnPlateau(o, factor=0), "ReduceLROnPlateau: invalid factor=0"),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), "ReduceLROnPlateau: invalid patience=-1"),
    (lambda o: S.ReduceLROnPlateau(o, threshold=-0.1), "ReduceLROnPlateau: invalid threshold=-0.1"),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), "ReduceLROnPlateau: invalid threshold_mode='x'"),
    (lambda o: S.ReduceLROnPlateau(o, cooldown=-2), "ReduceLROnPlateau: invalid cooldown=-2"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=-1e-3), r"ReduceLROnPlateau: invalid min_lr=\[-0.001"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), r"ReduceLROnPlateau: invalid min_lr=\[0.1\]"),
    (lambda o: S.ReduceLROnPlateau(o, eps=-1.0), "ReduceLROnPlateau: invalid eps=-1.0"),
]


@pytest.mark.parametrize("make,message", INVALID, ids=[m.split(": ")[1] for _, m in INVALID])
def test_invalid_argument_is_named(make, message):
    with pytest.raises(ValueError, match=message):
        make(sgd())


def test_wrong_objects_are_rejected():
    with pytest.raises(TypeError, match="expected a minigrad Optimizer"):
        S.StepLR(object(), step_size=1)
    opt, other = sgd(), sgd()
    with pytest.raises(TypeError, match="after= must be a closed-form schedule"):
        S.LinearWarmup(opt, 3, after=S.StepLR(other, 2))
    with pytest.raises(TypeError, match="after= must be a closed-form schedule"):
        S.LinearWarmup(opt, 3, after=S.ReduceLROnPlateau(opt))
