"""Optimizer and schedule state through a real checkpoint file (minigrad.checkpoint:
arrays in an .npz, everything else in JSON, allow_pickle=False): a run stopped and
resumed from the file continues bit for bit like the run that never stopped."""
import numpy as np
import pytest

from minigrad import optim
from minigrad.checkpoint import load_checkpoint, save_checkpoint
from minigrad.optim import lr_scheduler as S
from minigrad.tensor import Tensor

SETUPS = {
    "Adam+warmup+cosine": (lambda ps: optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.003}],
                                                 lr=0.01, amsgrad=True, weight_decay=0.01),
                           lambda o: S.LinearWarmup(o, 3, after=S.CosineAnnealingLR(o, T_max=10))),
    "SGD+step": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                 lambda o: S.StepLR(o, step_size=2, gamma=0.5)),
    "RMSprop+plateau": (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
                        lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=0)),
    "Adagrad+inverse-time": (lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
                             lambda o: S.InverseTimeLR(o, C=2)),
    "Adadelta+inverse-sqrt": (lambda ps: optim.Adadelta(ps), lambda o: S.InverseSqrtLR(o, C=1)),
}


def fresh():
    rng = np.random.default_rng(0)
    return [Tensor(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in [(3, 2), (2,), ()]]


def epoch(params, opt, scheduler, index):
    rng = np.random.default_rng(index)
    for _ in range(3):
        for p in params:
            p.grad = Tensor(rng.normal(size=p.shape).astype(np.float32))
        optim.clip_grad_norm_(params, 2.0)
        opt.step()
    if scheduler.needs_metric:
        scheduler.step(float(index % 3))
    else:
        scheduler.step()


@pytest.mark.parametrize("name", list(SETUPS))
def test_resume_from_checkpoint_file_is_bit_identical(name, tmp_path):
    make_optimizer, make_scheduler = SETUPS[name]
    params = fresh()
    opt = make_optimizer(params)
    scheduler = make_scheduler(opt)
    for index in range(3):
        epoch(params, opt, scheduler, index)
    path = save_checkpoint(tmp_path / "run.npz", {"params": [p.array for p in params],
                                                  "optimizer": opt.state_dict(),
                                                  "scheduler": scheduler.state_dict()})
    for index in range(3, 7):
        epoch(params, opt, scheduler, index)

    state = load_checkpoint(path)
    resumed = [Tensor(np.array(a), requires_grad=True) for a in state["params"]]
    opt2 = make_optimizer(resumed)
    scheduler2 = make_scheduler(opt2)
    opt2.load_state_dict(state["optimizer"])
    scheduler2.load_state_dict(state["scheduler"])
    for index in range(3, 7):
        epoch(resumed, opt2, scheduler2, index)
    for p, q in zip(params, resumed):
        assert q.dtype == np.float32
        np.testing.assert_array_equal(p.array, q.array)
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize("name", ["Adam+warmup+cosine", "RMSprop+plateau"])
def test_fit_resumes_bit_identically(name, tmp_path):
    """minigrad.train.fit with our optimizer and schedule: 2 epochs, then resume to 4,
    equals 4 epochs in one go."""
    from minigrad import functional as F, manual_seed, nn
    from minigrad.train import fit
    make_optimizer, make_scheduler = SETUPS[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    batches = [(Tensor(x[i:i + 16]), Tensor(y[i:i + 16])) for i in range(0, 48, 16)]

    def run(epochs, checkpoint):
        manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
        opt = make_optimizer(list(model.parameters()))
        fit(model, opt, F.cross_entropy, batches, epochs, val_loader=batches,
            scheduler=make_scheduler(opt), checkpoint=checkpoint, resume=True, progress=False)
        return [p.array.copy() for p in model.parameters()], opt.param_groups[0]["lr"]

    straight, lr = run(4, str(tmp_path / "straight.npz"))
    run(2, str(tmp_path / "split.npz"))
    resumed, resumed_lr = run(4, str(tmp_path / "split.npz"))
    assert resumed_lr == lr
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)
