"""The micro-batched schedules: cutting a mini-batch into M micro-batches, in the
sequential or the pipelined (1F1B) order, changes when things are computed, not what:
each half updates once per mini-batch with the mini-batch's gradient, so weights and
losses equal the one-batch iteration's to rounding. Over two MPI ranks the pipelined
order (sends and receives on their own threads) gives bit for bit the in-process numbers."""
import csv
import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from admm.demo import prepare
from admm.pipeline import Schedule
from admm.session import configure, fresh_model, net1_side, net2_side
from admm.trainer import train
from admm.transport import InProc
from admm_mpi import environment, launch, require_mpi

MODES = ["decoupled", "admm", "report"]


@pytest.fixture(scope="module")
def prep():
    # 5 iterations of 50: 50 is not a multiple of 3 or 4, so micro-batches differ in size
    config = configure(arch="mlp", batch=50, iters=5, train_limit=250, test_limit=100, eval_every=5)
    return config, prepare(config)


def trained(config, prep, mode, schedule, micro_batches):
    config = dict(config, mode=mode, schedule=schedule, micro_batches=micro_batches)
    side = net2_side(config, mode, prep)
    run = net1_side(config, mode, prep, InProc(side.handle))
    history = train(run, prep["loader"](), prep["test_loader"], prep["iterations"], prep["eval_every"])
    weights = dict(run.trunk.state_dict(), dual=run.dual.state_dict(), **side.head.state_dict())
    return history, weights


def flat(weights):
    return {f"{k}.{j}" if isinstance(v, dict) else k: w for k, v in weights.items()
            for j, w in (v.items() if isinstance(v, dict) else [(None, v)])}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("schedule, micro_batches", [("sequential", 3), ("pipelined", 4), ("pipelined", 50)])
def test_micro_batches_give_the_one_batch_update(prep, mode, schedule, micro_batches):
    config, data = prep
    reference, reference_weights = trained(config, data, mode, "sequential", 1)
    history, weights = trained(config, data, mode, schedule, micro_batches)
    reference_weights, weights = flat(reference_weights), flat(weights)
    assert set(weights) == set(reference_weights)
    for name, value in reference_weights.items():
        np.testing.assert_allclose(weights[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    # training moved every weight, so this is not the equality of two runs that did nothing
    initial = fresh_model(dict(config, mode=mode), data["image_shape"])[0].state_dict()
    for name, value in initial.items():
        assert not np.array_equal(reference_weights[name], value), name
    for key in ("loss_net2", "train_acc", "pool2_norm", "loss_net1", "residual"):
        got, expected = history.column(key, "steps"), reference.column(key, "steps")
        if expected[0] is None or expected[0] != expected[0]:  # None or NaN: a mode without it
            assert [g is None or g != g for g in got] == [True] * len(got), key
        else:
            np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-7, err_msg=key)


def test_pipelined_order_is_one_forward_one_backward(prep):
    """net1's order for M = 4: F1 F2 B1 F3 B2 F4 B3 B4 (a forward ends with its post to net2)."""
    config, data = prep
    config = dict(config, mode="decoupled", schedule="pipelined", micro_batches=4)
    events = []
    side = net2_side(config, "decoupled", data)

    class Recording(InProc):
        def call(self, message):
            events.append(f"F{sum(e[0] == 'F' for e in events) + 1}")
            return super().call(message)

    run = net1_side(config, "decoupled", data, Recording(side.handle))
    update = run.mode.update

    def recorded_update(*args):
        events.append(f"B{sum(e[0] == 'B' for e in events) + 1}")
        return update(*args)

    run.mode.update = recorded_update
    x, y = next(iter(data["loader"]()))
    run.step(x, y)
    assert events == ["F1", "F2", "B1", "F3", "B2", "F4", "B3", "B4"]
    sequential = dict(config, schedule="sequential")
    events.clear()
    run = net1_side(sequential, "decoupled", data, Recording(side.handle))
    update = run.mode.update
    run.mode.update = recorded_update
    run.step(x, y)
    assert events == ["F1", "B1", "F2", "B2", "F3", "B3", "F4", "B4"]


def test_parts_cover_the_batch_and_bad_schedules_are_refused():
    assert Schedule("sequential", 3).parts(10) == [slice(0, 3), slice(3, 6), slice(6, 10)]
    assert Schedule("pipelined", 4).parts(2) == [slice(0, 1), slice(1, 2)]   # a short last batch
    with pytest.raises(ValueError, match="schedule must be one of"):
        Schedule("delayed", 2)
    with pytest.raises(ValueError, match="micro_batches must be an integer >= 1, got 0"):
        Schedule("sequential", 0)
    with pytest.raises(ValueError, match="pipelined schedule needs micro_batches >= 2"):
        Schedule("pipelined", 1)


def _rows(path):
    with open(path) as f:
        return [{k: v for k, v in row.items() if not k.endswith("seconds")} for row in csv.DictReader(f)]


@pytest.mark.parametrize("mode", ["admm", "decoupled"])
def test_pipelined_over_two_ranks_equals_in_process(tmp_path, mode):
    require_mpi()
    options = ["demo", "--arch", "mlp", "--quick", "--quiet", "--mode", mode, "--schedule", "pipelined",
               "--micro-batches", "3"]
    inproc = subprocess.run([sys.executable, "-m", "admm", *options, "--out", tmp_path / "inproc"],
                            env=environment(60), capture_output=True, text=True, timeout=90)
    assert inproc.returncode == 0, inproc.stderr
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", "-m", "admm", *options, "--transport", "mpi",
                  "--out", tmp_path / "mpi"])
    assert "(mpi transport)" in run.stdout, run.stdout + run.stderr
    inproc_summary, mpi_summary = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("inproc", "mpi"))
    assert mpi_summary["schedule"] == "pipelined" and mpi_summary["micro_batches"] == 3
    assert mpi_summary["dual_test_acc"] == inproc_summary["dual_test_acc"]
    assert _rows(tmp_path / "mpi" / "history.csv") == _rows(tmp_path / "inproc" / "history.csv")


STALLED_PEER = textwrap.dedent("""
    import time
    from admm.pipeline import Overlapped
    from admm.transport import MPILink, Message
    link = MPILink(deadline=3)
    link.handshake({"role": "test"})
    if link.rank == 1:
        time.sleep(60)            # stall: never answer
    started = time.monotonic()
    try:
        with Overlapped(link, 2) as courier:
            courier.post(Message("train"))
            courier.post(Message("train"))
            courier.take()
    except Exception as error:
        print(f"rank 0 caught after {time.monotonic() - started:.1f} s: {error}", flush=True)
        link.abort(1)
""")


def test_the_pipelined_courier_reports_a_stalled_rank_within_the_deadline(tmp_path):
    """The receiving thread's timeout reaches the caller as the error, not as a hang."""
    require_mpi()
    script = tmp_path / "peer.py"
    script.write_text(STALLED_PEER)
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", script], timeout=90)
    assert run.returncode != 0
    assert "no progress on a message header from rank 1 within 3 s" in run.stdout, run.stdout + run.stderr
    waited = float(re.search(r"caught after ([0-9.]+) s", run.stdout).group(1))
    assert 3 <= waited < 30, f"waited {waited} s with a 3 s deadline"


OVERLAP = textwrap.dedent("""
    import time
    import numpy as np
    import minigrad
    from minigrad import nn
    from admm.halves import SplitRun
    from admm.modes import Frozen
    from admm.pipeline import Schedule
    from admm.transport import MPILink, Message

    WORK = 0.05   # seconds each half spends on one micro-batch (asleep: the machine's load does not matter)

    class Asleep(nn.Module):
        def forward(self, x):
            time.sleep(WORK)
            return x

    def net2(message):
        if message.kind == "train":
            time.sleep(WORK)
            return Message("trained", values={"loss_net2": 0.0, "correct": 0.0, "seconds": 0.0})
        return Message("stopped")

    link = MPILink(deadline=30)
    link.handshake({"role": "test"})
    if link.rank == 1:
        link.serve(net2)
    else:
        x = minigrad.tensor(np.zeros((8, 3), np.float32))
        y = minigrad.tensor(np.stack([np.zeros(8), np.arange(8)], axis=1).astype(np.int64))
        seconds = {}
        for kind in ("sequential", "pipelined"):
            run = SplitRun(Asleep(), None, None, Frozen(), link, pipeline=Schedule(kind, 4))
            started = time.monotonic()
            run.step(x, y)
            seconds[kind] = time.monotonic() - started
        link.close()
        print(f"sequential {seconds['sequential']:.3f} s, pipelined {seconds['pipelined']:.3f} s", flush=True)
""")


def test_the_pipelined_order_overlaps_the_two_ranks(tmp_path):
    """Each half sleeps 50 ms per micro-batch, M = 4: one after the other that is 8 × 50 ms;
    overlapped (net1 one micro-batch ahead) 5 × 50 ms. Sleeping, not computing, so the
    machine's load does not decide the outcome."""
    require_mpi()
    script = tmp_path / "overlap.py"
    script.write_text(OVERLAP)
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", script], timeout=90)
    found = re.search(r"sequential ([0-9.]+) s, pipelined ([0-9.]+) s", run.stdout)
    assert found, run.stdout + run.stderr
    sequential, pipelined = float(found.group(1)), float(found.group(2))
    assert sequential >= 8 * 0.05
    assert pipelined < 0.8 * sequential, (sequential, pipelined)
