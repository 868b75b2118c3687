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
from admm.halves import Net2, SingleRun, SplitRun
from admm.models import build
from admm.modes import ADMM, MODES
from admm.split import split

DEFAULTS = {
    "data": "fashion-mnist", "arch": "caffenet", "at": None, "mode": "admm", "report_loss": "10.2",
    # βη = 1: net1 moves as fast as backprop would move it. β small, because the penalty's
    # curvature must stay under SGD's stability limit (docs/admm.md: at lr 0.05, β = 1 and 0.1 diverge).
    # lr 0.01 for 3 epochs: at lr 0.05 for 1 epoch the loss spiked and the end point was noise
    # (docs/admm.md, "The default run").
    "beta": 0.001, "eta": 1000.0, "multiplier": "none", "beta_growth": 10.0, "beta_every": 0, "beta_max": 1.0,
    "lr": 0.01, "momentum": 0.9, "batch": 128, "epochs": 3, "iters": None, "seed": 0, "device": "cpu",
    "train_limit": None, "test_limit": None, "eval_every": None,
}


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


def sgd(params, config):
    return optim.SGD(list(params), lr=config["lr"], momentum=config["momentum"])


def weights_checksum(model):
    """A number that differs when two ranks built different initial weights."""
    return float(sum(np.abs(v).astype(np.float64).sum() for v in model.state_dict().values()))


def net1_side(config, name, image_shape, train_size, link):
    """net1's side (``SplitRun``) of the split run ``name`` over ``link``."""
    model, cut = fresh_model(config, image_shape)
    mode = make_mode(config, name, train_size)
    parts = split(model, cut, dual=mode.dual)  # a fresh dual draws from the seeded generator
    optimizer = sgd(parts.net1.parameters(), config) if mode.trains_net1 else None
    return SplitRun(parts.trunk, parts.dual, optimizer, mode, link)


def net2_side(config, name, image_shape, train_size, labels):
    """net2's side (``Net2``) of the split run ``name``."""
    model, cut = fresh_model(config, image_shape)
    head = split(model, cut).head
    return Net2(head, sgd(head.parameters(), config), make_mode(config, name, train_size), labels,
                config["device"])


def single_run(config, image_shape):
    model, _ = fresh_model(config, image_shape)
    return SingleRun(model, sgd(model.parameters(), config))
