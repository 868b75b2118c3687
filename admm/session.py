"""Build the pieces of a run from one configuration dict (what the command line and
the MPI handshake pass around): the network, its split, the mode, the optimizers,
and each side of a split run on a given link.

Every run starts from the same weights: ``fresh_model`` seeds minigrad's generator
with ``config["seed"]`` and builds the network anew, so single, the split mode and
the frozen control — and the two MPI ranks — all begin identical.
"""
import numpy as np

import minigrad
from minigrad import optim
from minigrad.optim import lr_scheduler
from admm.halves import Net2, SingleRun, SplitRun
from admm.models import build
from admm.modes import ADMM, MODES
from admm.pipeline import Schedule
from admm.split import split

DEFAULTS = {
    "data": "fashion-mnist", "arch": "caffenet", "at": None, "mode": "admm", "report_loss": "10.2",
    # βη = 1: net1 moves as fast as backprop would move it. β small, because the penalty's
    # curvature must stay under SGD's stability limit (docs/admm.md: at lr 0.05, β = 1 and 0.1 diverge;
    # Nesterov's limit is 2.8× lower than heavy ball's at μ = 0.9, and β = 0.001 still holds: the demo's
    # dual layers agree to 1e-7).
    "beta": 0.001, "eta": 1000.0, "multiplier": "none", "beta_growth": 10.0, "beta_every": 0, "beta_max": 1.0,
    # SGD with Nesterov momentum, a linear warm-up over the first 5% of the iterations, then a
    # cosine down to 0: chosen by measurement (docs/admm.md, "How the defaults were chosen").
    # The warm-up lets lr 0.05 start without the loss spike a constant 0.05 gave at iteration 25.
    "lr": 0.05, "momentum": 0.9, "nesterov": True, "lr_schedule": "cosine", "warmup": 0.05,
    # the order of a split iteration (admm/pipeline.py): sequential with one micro-batch is the report's
    "schedule": "sequential", "micro_batches": 1,
    # R replicas of the split on 2R MPI ranks, each taking 1/R of every batch (admm/replicas.py)
    "replicas": 1,
    "batch": 64, "epochs": 8, "iters": None, "seed": 0, "device": "cpu",
    "train_limit": None, "test_limit": None, "eval_every": None,
}
LR_SCHEDULES = ("cosine", "constant")


def configure(**overrides):
    """DEFAULTS updated with ``overrides`` (unknown names refused)."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {sorted(DEFAULTS)}")
    return dict(DEFAULTS, **overrides)


def fresh_model(config, image_shape, classes=10):
    """The network for ``config`` with the seed's initial weights → (model, cut layer)."""
    minigrad.manual_seed(config["seed"])
    model, cut = build(config["arch"], image_shape, classes)
    return model.to(config["device"]), config["at"] or cut


def make_mode(config, name, train_size):
    if name == "report":
        return MODES["report"](config["report_loss"])
    if name == "admm":
        return ADMM(beta=config["beta"], eta=config["eta"], multiplier=config["multiplier"],
                    beta_growth=config["beta_growth"], beta_every=config["beta_every"],
                    beta_max=config["beta_max"], train_size=train_size)
    if name not in MODES:
        raise ValueError(f"unknown mode {name!r}; expected one of {sorted(MODES)} or 'single'")
    return MODES[name]()


def sgd(params, config, iterations):
    """SGD on ``params`` and its learning-rate schedule over ``iterations`` steps → (optimizer,
    schedule). Every run (single, each half) gets the same pair, stepped once per iteration,
    so the halves of a split move at the single net's rate at every step."""
    optimizer = optim.SGD(list(params), lr=config["lr"], momentum=config["momentum"],
                          nesterov=config["nesterov"])
    if config["lr_schedule"] not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {config['lr_schedule']!r}")
    if not 0 <= config["warmup"] < 1:
        raise ValueError(f"warmup is a fraction of the iterations in [0, 1), got {config['warmup']!r}")
    warmup = round(config["warmup"] * iterations)
    after = (lr_scheduler.CosineAnnealingLR(optimizer, iterations - warmup)
             if config["lr_schedule"] == "cosine" and iterations > warmup else None)
    if warmup == 0:
        return optimizer, after
    # from a tenth of the rate: PyTorch's LinearLR habit; the rate reaches lr at the warm-up's end
    return optimizer, lr_scheduler.LinearWarmup(optimizer, warmup, start_factor=0.1, after=after)


def weights_checksum(model):
    """A number that differs when two ranks built different initial weights."""
    return float(sum(np.abs(v).astype(np.float64).sum() for v in model.state_dict().values()))


def net1_side(config, name, prep, link):
    """net1's side (``SplitRun``) of the split run ``name`` over ``link``; ``prep`` is what
    ``admm.demo.prepare`` returns (the image shape, the training set, the iteration budget)."""
    model, cut = fresh_model(config, prep["image_shape"])
    mode = make_mode(config, name, len(prep["train"]))
    iterations = prep["iterations"]
    parts = split(model, cut, dual=mode.dual)  # a fresh dual draws from the seeded generator
    optimizer, lr_schedule = sgd(parts.net1.parameters(), config, iterations) if mode.trains_net1 else (None, None)
    return SplitRun(parts.trunk, parts.dual, optimizer, mode, link, lr_schedule,
                    Schedule(config["schedule"], config["micro_batches"]), getattr(link, "replicas", None))


def net2_side(config, name, prep, replicas=None):
    """net2's side (``Net2``) of the split run ``name``; ``replicas``: this rank's place in
    the hybrid (``admm.replicas``), None for one replica."""
    model, cut = fresh_model(config, prep["image_shape"])
    head = split(model, cut).head
    optimizer, lr_schedule = sgd(head.parameters(), config, prep["iterations"])
    return Net2(head, optimizer, make_mode(config, name, len(prep["train"])), prep["labels"], config["device"],
                lr_schedule, replicas)


def single_run(config, prep):
    model, _ = fresh_model(config, prep["image_shape"])
    return SingleRun(model, *sgd(model.parameters(), config, prep["iterations"]))
