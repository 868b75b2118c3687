"""The training modes on the small MLP stand-in (seconds, not minutes): decoupled is
backprop, admm learns beyond the frozen-net1 control, the ADMM pieces do what their
equations say, and a diverging run stops keeping its checkpoint."""
import numpy as np
import pytest

import minigrad
from minigrad.train import NonFiniteLossError
from admm.demo import prepare
from admm.losses import augmented_lagrangian, normalized
from admm.modes import ADMM, Report
from admm.session import configure, net1_side, net2_side, single_run
from admm.trainer import train
from admm.transport import InProc


@pytest.fixture(scope="module")
def prep():
    config = configure(arch="mlp", lr=0.05, batch=64, epochs=1, train_limit=2048, test_limit=1000)
    return config, prepare(config)


def split_run(config, prep, name, checkpoint=None):
    side = net2_side(config, name, prep)
    run = net1_side(config, name, prep, InProc(side.handle))
    history = train(run, prep["loader"](), prep["test_loader"], prep["iterations"], prep["eval_every"],
                    checkpoint=checkpoint)
    return run, side, history


def test_decoupled_equals_single_to_rounding(prep):
    config, data = prep
    run, side, history = split_run(config, data, "decoupled")
    single = single_run(config, data)
    single_history = train(single, data["loader"](), data["test_loader"], data["iterations"], data["eval_every"])
    trained = dict(run.trunk.state_dict(), **side.head.state_dict())
    for name, value in single.model.state_dict().items():
        np.testing.assert_allclose(trained[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(history.column("loss_net2", "steps"), single_history.column("loss_net2", "steps"),
                               rtol=1e-5)
    assert history.epochs[-1]["test_acc"] == single_history.epochs[-1]["test_acc"]
    assert single_history.epochs[-1]["test_acc"] > 0.3  # it did learn, so the comparison means something


def test_admm_learns_beyond_the_frozen_control(prep):
    config, data = prep
    _, _, admm = split_run(config, data, "admm")
    _, _, frozen = split_run(config, data, "frozen")
    gained = admm.epochs[-1]["test_acc"] - frozen.epochs[-1]["test_acc"]
    assert gained > 0.15, (admm.epochs[-1], frozen.epochs[-1])
    assert admm.epochs[-1]["consensus_rel_error"] < 0.1
    # the frozen control really kept net1 at its initialisation
    assert frozen.epochs[-1]["test_pool2_norm"] == frozen.epochs[0]["test_pool2_norm"]


def test_report_mode_teaches_net1_nothing(prep):
    """Without the label signal, the split net is no better than chance here (the CNN's
    collapse of the activations is in test_admm_cli.py)."""
    config, data = prep
    _, _, report = split_run(config, data, "report")
    assert report.epochs[-1]["test_acc"] < 0.2


def test_augmented_lagrangian_gradient_is_lambda_plus_beta_residual():
    rng = np.random.default_rng(0)
    x0, z, lam = (rng.standard_normal((4, 3)) for _ in range(3))
    x = minigrad.tensor(x0, requires_grad=True)
    augmented_lagrangian(x, minigrad.tensor(z), lam, beta=2.5).backward()
    np.testing.assert_allclose(x.grad.numpy(), (lam + 2.5 * (x0 - z)) / 4)  # (λₙ + β(xₙ − zₙ))/N


def test_multiplier_step_and_beta_schedule():
    mode = ADMM(beta=0.5, eta=1.0, multiplier="sample", beta_every=2, beta_growth=10, beta_max=20, train_size=6)
    rng = np.random.default_rng(1)
    x0, z = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    index = np.array([4, 1])
    betas = []
    for _ in range(5):
        betas.append(mode.beta)
        mode.update(None, minigrad.tensor(x0, requires_grad=True), {"target": z}, index)
        mode.finish()
    assert betas == [0.5, 0.5, 5.0, 5.0, 20.0]          # ×10 every 2 iterations, capped at 20
    np.testing.assert_allclose(mode.lam[index], sum(betas) * (x0 - z), rtol=1e-5)   # λ ← λ + β(x − z)
    np.testing.assert_array_equal(mode.lam[[0, 2, 3, 5]], 0)


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="beta must be > 0.*multiplier must be one of"):
        ADMM(beta=0, multiplier="global")
    with pytest.raises(ValueError, match="train_size"):
        ADMM(multiplier="sample")
    with pytest.raises(ValueError, match="10.2"):
        Report("10.4")


def test_normalized_loss_is_bounded():
    rng = np.random.default_rng(2)
    x, y = (minigrad.tensor(rng.random((8, 5)) * scale) for scale in (1e-6, 1e6))
    assert 0 <= normalized(x, y).item() <= 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_diverging_run_stops_and_keeps_its_checkpoint(prep, tmp_path):
    config, data = prep
    # β ×10 every 4 iterations with η fixed multiplies net1's step by 10: it blows up
    config = dict(config, beta_every=4, beta_max=1e12, iters=None, epochs=4, train_limit=256)
    small = prepare(config)
    with pytest.raises(NonFiniteLossError, match=r"admm: loss_net1 became (nan|inf).*checkpoint"):
        split_run(config, small, "admm", checkpoint=str(tmp_path / "admm"))
    assert (tmp_path / "admm_net1.npz").exists() and (tmp_path / "admm_net2.npz").exists()


def test_every_run_gets_the_warm_up_and_cosine_schedule():
    from admm.session import sgd
    layer = minigrad.nn.Linear(2, 2)
    optimizer, schedule = sgd(layer.parameters(), configure(lr=0.05, warmup=0.05), 100)
    rates = []
    for _ in range(100):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    # from lr/10 up to lr over the first 5 iterations, then half a cosine down to 0
    np.testing.assert_allclose(rates[:6], [0.005, 0.014, 0.023, 0.032, 0.041, 0.05], rtol=1e-12)
    assert rates[5] == max(rates) and rates[-1] < 1e-4
    assert optimizer.param_groups[0]["nesterov"]
    assert sgd(layer.parameters(), configure(lr_schedule="constant", warmup=0.0), 10)[1] is None
    with pytest.raises(ValueError, match=r"warmup is a fraction of the iterations in \[0, 1\), got 1.5"):
        sgd(layer.parameters(), configure(warmup=1.5), 10)
