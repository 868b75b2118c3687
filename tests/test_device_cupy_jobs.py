"""The command-line jobs on CuPy arrays give the CPU's numbers, and no implicit host
conversion is refused on the way. Runs where ``import cupy`` finds CuPy or the stand-in
(``tests/test_device_standin.py`` arranges the stand-in); the counts of refused
conversions are the stand-in's (``CUPY_STANDIN_COUNTS``), so they are checked there.

Sizes are tiny: under Numba's CUDA simulator every kernel thread is a Python thread.
"""
import glob
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cupy
import minigrad
from admm_mpi import environment, launch, require_mpi
from minigrad import __main__ as job_main
from minigrad.distributed.launch import Job

STANDIN = getattr(cupy, "STANDIN", False)
TINY_DEMO = ["--quick", "--quiet", "--arch", "mlp", "--iters", "2", "--batch", "8", "--train-limit", "32",
             "--test-limit", "16", "--eval-every", "1"]
SAME = ["single_test_acc", "dual_test_acc", "frozen_net1_test_acc", "consensus_rel_error", "conv3_norm_ratio",
        "pool2_norm_ratio"]


def counted(folder):
    """The stand-in's counts of every process that wrote to ``folder``, summed by kind."""
    totals = {}
    for path in glob.glob(str(folder / "counts-*.json")):
        for kind, sites in json.loads(Path(path).read_text()).items():
            totals.setdefault(kind, {}).update(sites)
    return totals


def demo(out, counts, *extra):
    env = dict(environment(120), CUPY_STANDIN_COUNTS=str(counts))
    run = subprocess.run([sys.executable, "-m", "admm", "demo", *TINY_DEMO, "--out", str(out), *extra],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((out / "summary.json").read_text())


@pytest.fixture(scope="module")
def cpu_demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cpu")
    return demo(folder / "run", folder / "counts", "--device", "cpu")


def test_admm_demo_on_the_device_gives_the_cpu_numbers(cpu_demo, tmp_path):
    gpu = demo(tmp_path / "run", tmp_path / "counts", "--device", "cuda")
    assert gpu["device"] == "cuda"
    for key in SAME:
        assert gpu[key] == cpu_demo[key], key  # bit for bit: the same arithmetic on the same numbers
    if STANDIN:
        assert counted(tmp_path / "counts").get("refused") == {}


def test_admm_demo_over_mpi_with_device_buffers(cpu_demo, tmp_path):
    require_mpi()
    run = launch(["-n", 2, "-env", "CUPY_STANDIN_COUNTS", tmp_path / "counts", sys.executable, "-m", "mpi4py",
                  "-m", "admm", "demo", *TINY_DEMO, "--device", "cuda", "--transport", "mpi",
                  "--out", tmp_path / "run"], timeout=240)
    assert "(mpi transport)" in run.stdout, run.stdout + run.stderr
    mpi = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert mpi["device"] == "cuda" and mpi["transport"] == "mpi"
    for key in SAME[:5]:
        assert mpi[key] == cpu_demo[key], key
    if STANDIN:
        assert counted(tmp_path / "counts").get("refused") == {}


TINY_MLP = dict(job_main.QUICK, epochs=2, hidden=8, batch_size=32, validation_per_class=2, train_images=64,
                test_images=32)


def train(out, device, resume=False):
    datasets = job_main.split(TINY_MLP)
    return job_main.train_and_test(Job(), out, TINY_MLP, datasets, time.perf_counter(), resume=resume,
                                   progress=False, device=device)


def test_mlp_job_on_the_device_gives_the_cpu_numbers_and_resumes_on_the_cpu(tmp_path, capsys):
    (tmp_path / "cpu").mkdir(), (tmp_path / "gpu").mkdir()
    cpu = train(tmp_path / "cpu", "cpu")
    if STANDIN:
        cupy._counts.reset()
    capsys.readouterr()
    gpu = train(tmp_path / "gpu", "cuda")
    assert capsys.readouterr().out.startswith("device: cuda (")  # the job says where it runs, first
    for key in ("test_accuracy", "test_loss", "final_validation_accuracy"):
        assert gpu[key] == cpu[key], key
    if STANDIN:
        counts = cupy._counts.counts()
        assert counts["refused"] == {}
    # the checkpoint written on the device finishes (nothing left to train) and tests on the CPU
    resumed = train(tmp_path / "gpu", "cpu", resume=True)
    assert resumed["test_accuracy"] == gpu["test_accuracy"] and resumed["test_loss"] == gpu["test_loss"]


def test_device_choice_is_the_first_line_and_a_missing_gpu_is_one_line(tmp_path):
    assert minigrad.cuda.choose_device("auto") == "cuda"
    assert minigrad.cuda.choose_device("cpu") == "cpu"
    line = minigrad.cuda.describe_device("cuda")
    assert line.startswith("device: cuda (")


# --- the sync budget: reads from the device happen at logging points only ---------------

def reads():
    """Reads from the device counted by the stand-in: copies back, scalar reads, syncs."""
    totals = cupy._counts.totals()
    assert totals["refused"] == 0, cupy._counts.counts()["refused"]
    return totals["d2h"] + totals["scalar"] + totals["sync"]


def tiny_fit(device, log_every):
    import minigrad.functional as F
    from minigrad import nn, optim
    from minigrad.data import ArrayDataset, DataLoader
    from minigrad.train import fit
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((80, 6)).astype(np.float32), rng.integers(0, 4, 80)
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)).to(device)
    loader = DataLoader(ArrayDataset(x, y), 8, device=device)   # 10 steps
    if STANDIN:
        cupy._counts.reset()
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), F.cross_entropy, loader, 1, progress=False,
                  log_every=log_every)
    return history, (reads() if STANDIN and device == "cuda" else None)


@pytest.mark.skipif(not STANDIN, reason="counts reads on the CuPy stand-in")
@pytest.mark.parametrize("log_every", [1, 5])
def test_fit_reads_the_device_once_per_logging_point(log_every):
    cpu, _ = tiny_fit("cpu", log_every)
    gpu, counted = tiny_fit("cuda", log_every)
    # one read per logging point (10 steps), and one at the end of the epoch for the weights' check
    assert counted == 10 // log_every + 1, cupy._counts.counts()
    assert gpu.steps == cpu.steps and gpu.epochs[0]["loss"] == cpu.epochs[0]["loss"]
    assert gpu.epochs[0]["accuracy"] == cpu.epochs[0]["accuracy"]


@pytest.mark.skipif(not STANDIN, reason="counts reads on the CuPy stand-in")
@pytest.mark.parametrize("mode", ["admm", "single"])
def test_admm_reads_the_device_once_per_iteration(mode):
    from admm import demo, session, trainer, transport
    numbers = {}
    for device in ("cpu", "cuda"):
        config = session.configure(arch="mlp", batch=8, iters=6, train_limit=48, test_limit=16, eval_every=3,
                                   device=device, multiplier="sample" if mode == "admm" else "none")
        prep = demo.prepare(config)
        if mode == "single":
            run = session.single_run(config, prep)
        else:
            net2 = session.net2_side(config, mode, prep)
            run = session.net1_side(config, mode, prep, transport.InProc(net2.handle))
        cupy._counts.reset()
        history = trainer.train(run, prep["loader"](), prep["test_loader"], prep["iterations"], prep["eval_every"])
        numbers[device] = history
        if device == "cuda":
            # 6 iterations, one read each; 3 evaluations (steps 0, 3, 6), one read each
            assert reads() == 6 + 3, cupy._counts.counts()
    # the same numbers; not bit for bit in one process: the CPU face's matmul runs under its own
    # BLAS thread limit (kernels.cpu_threads), which rounds a float32 GEMM differently (the demo
    # test above compares whole processes bit for bit)
    for table in ("steps", "epochs"):
        for gpu, cpu in zip(getattr(numbers["cuda"], table), getattr(numbers["cpu"], table), strict=True):
            assert gpu.keys() == cpu.keys()
            for key in gpu:
                if "seconds" not in key:
                    assert gpu[key] == pytest.approx(cpu[key], rel=1e-6, abs=1e-7, nan_ok=True), (table, key)
