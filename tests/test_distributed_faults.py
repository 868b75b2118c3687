"""Faults across the ranks of an MPI job end it clearly: one handshake at start-up that
names what the ranks disagree on, a rank that fails alone ends the job within seconds
with one line, Ctrl-C says so once, no run folder is claimed before the checks, a 2-rank
run killed and resumed equals the uninterrupted one bit for bit, and --resume takes only
a folder a run claimed. Deadlines are shortened through MINIGRAD_DIST_TIMEOUT and
MINIGRAD_DIST_STARTUP_TIMEOUT (minigrad.distributed.init_process_group)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from admm_mpi import ROOT, environment, launch, mpiexec, require_mpi
from minigrad.checkpoint import CheckpointError, load_checkpoint

SMALL = ["--quick", "--hidden", "16", "--no-progress"]
JOB = [sys.executable, "-m", "mpi4py", "-m", "minigrad"]
ADMM = [sys.executable, "-m", "mpi4py", "-m", "admm", "demo", "--arch", "mlp", "--quick", "--quiet",
        "--transport", "mpi"]


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch):
    require_mpi()
    monkeypatch.setenv("MINIGRAD_DIST_TIMEOUT", "10")
    monkeypatch.setenv("MINIGRAD_DIST_STARTUP_TIMEOUT", "20")


def timed(args, timeout=60, cwd=None):
    started = time.monotonic()
    run = launch(args, timeout=timeout, cwd=cwd)
    return run, time.monotonic() - started


def write_mnist(folder, shift=0, images=600):
    """An MNIST folder of ``images`` digits (60 per class: enough for --quick's validation
    split); ``shift`` changes the training labels, so two folders differ in content only."""
    from test_data_readers import write_idx
    folder.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(images * 28 * 28) % 251).astype(np.uint8).reshape(images, 28, 28)
    for name, array in (("train-images-idx3-ubyte", pixels), ("t10k-images-idx3-ubyte", pixels[:100]),
                        ("train-labels-idx1-ubyte", (np.arange(images) + shift) % 10),
                        ("t10k-labels-idx1-ubyte", np.arange(100) % 10)):
        write_idx(folder / name, array.astype(np.uint8))


# ---- (1) ranks that read different files behind the same --data ------------------------------

def test_item1_ranks_that_loaded_different_data_refuse_to_train(tmp_path):
    for folder, shift in (("a", 0), ("b", 1)):
        write_mnist(tmp_path / folder / "data", shift)
    command = [*JOB, *SMALL, "--data", "mnist:data", "--out", tmp_path / "out"]
    run, _ = timed(["-n", 1, "-wdir", tmp_path / "a", *command, ":", "-n", 1, "-wdir", tmp_path / "b", *command])
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("data checksum: rank 0 has") == 1 and "Traceback" not in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()  # refused before the folder was claimed


def test_item1_ranks_given_different_options_name_the_flag(tmp_path):
    command = [*JOB, *SMALL, "--out", tmp_path / "out"]
    run, _ = timed(["-n", 1, *command, "--lr", "0.001", ":", "-n", 1, *command, "--lr", "0.002"])
    assert run.returncode == 2 and "--lr: rank 0 has 0.001, rank 1 has 0.002" in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


# ---- (3) a 2-rank run killed and resumed equals the uninterrupted one --------------------------

def _start(args):
    return subprocess.Popen([mpiexec(), "-n", "2", *map(str, JOB), *args], cwd=ROOT, env=environment(60),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _kill_after_epoch(job, checkpoint, epoch):
    """SIGKILL the whole job (mpiexec and its ranks) as soon as ``checkpoint`` holds ``epoch``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and job.poll() is None:
        try:
            if load_checkpoint(checkpoint)["epoch"] >= epoch:
                break
        except (CheckpointError, OSError):
            pass
        time.sleep(0.005)
    os.killpg(job.pid, signal.SIGKILL)
    job.communicate()


def test_item3_a_two_rank_run_killed_and_resumed_is_bit_identical(tmp_path):
    options = [*SMALL, "--epochs", "3", "--batch-size", "64"]
    whole = launch(["-n", 2, *JOB, *options, "--out", tmp_path / "whole"], timeout=120)
    assert whole.returncode == 0, whole.stderr
    folder = tmp_path / "killed"
    job = _start([*options, "--out", folder])
    stops = []
    for epoch in (1, 2):  # killed after the first epoch, resumed, killed after the second, resumed to the end
        _kill_after_epoch(job, folder / "checkpoint.npz", epoch)
        stops.append(load_checkpoint(folder / "checkpoint.npz")["epoch"])
        job = _start(["--resume", folder, "--no-progress"])
    assert job.wait(timeout=120) == 0, job.stderr.read()
    assert stops[0] < 3, stops  # it was interrupted at least once before the end
    a, b = (load_checkpoint(tmp_path / name / "checkpoint.npz") for name in ("whole", "killed"))
    for key in a["model"]:
        assert np.array_equal(a["model"][key], b["model"][key]), key
    summaries = [json.loads((tmp_path / name / "summary.json").read_text()) for name in ("whole", "killed")]
    assert summaries[0]["test_accuracy"] == summaries[1]["test_accuracy"]
    assert summaries[0]["test_loss"] == summaries[1]["test_loss"]


# ---- (6) a different --replicas on one rank ------------------------------------------------------

def test_item6_a_rank_given_another_replicas_is_named_not_a_hang(tmp_path):
    command = [*ADMM, "--out", tmp_path / "out"]
    run, _ = timed(["-n", 2, *command, ":", "-n", 2, *command, "--replicas", "2"])
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("--replicas: ranks 0, 1 have 1, ranks 2, 3 have 2") == 1, run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


# ---- (7) a rank that fails with an expected error ends the job -----------------------------------

def test_item7_a_rank_whose_data_is_missing_ends_the_job_in_one_line(tmp_path):
    write_mnist(tmp_path / "a" / "data")
    (tmp_path / "b").mkdir()
    command = [*JOB, *SMALL, "--data", "mnist:data", "--out", tmp_path / "out"]
    run, elapsed = timed(["-n", 1, "-wdir", tmp_path / "a", *command, ":", "-n", 1, "-wdir", tmp_path / "b", *command])
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(re.findall(r"python -m minigrad: rank 1: .*data", run.stderr)) == 1, run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()
    assert elapsed < 45  # not the 10 s deadline, let alone the 300 s default: at once, after start-up


FULL_DISK_ON_RANK_0 = """
import errno, sys
import minigrad.distributed as dist
from minigrad import __main__ as job, runs, train
def full(path, state):
    raise OSError(errno.ENOSPC, "No space left on device", path)
if dist.launched_rank_and_size()[0] == 0:
    train.save_checkpoint = full
with runs.reported_errors("python -m minigrad"):
    job.main(sys.argv[1:])
"""


def test_item7_a_full_disk_on_rank_0_mid_run_ends_the_job_in_one_line(tmp_path):
    script = tmp_path / "full_disk.py"
    script.write_text(FULL_DISK_ON_RANK_0)
    run, elapsed = timed(["-n", 2, sys.executable, "-m", "mpi4py", script, *SMALL, "--out", tmp_path / "out"])
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.count("python -m minigrad: rank 0: [Errno 28] No space left on device") == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert elapsed < 45, elapsed  # rank 1 did not wait out its 10 s deadline in every later all-reduce


# ---- (8) --resume of a folder no run claimed -----------------------------------------------------

def test_item8_resume_refuses_a_folder_that_only_looks_like_a_run(tmp_path, capsys):
    from minigrad import __main__ as job
    from minigrad import runs
    folder = tmp_path / "mine"
    folder.mkdir()
    settings = dict(job.QUICK, hidden=16)
    user_files = {"settings.json": json.dumps(settings), "summary.json": "my notes", ".draft.tmp": "mine",
                  ".summary.json-abcd1234.tmp": "also mine"}
    for name, text in user_files.items():
        (folder / name).write_text(text)
    with pytest.raises(SystemExit) as exit_:
        with runs.reported_errors("python -m minigrad"):
            job.main(["--resume", str(folder), "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "is not a run folder" in err and err.count("\n") == 1, err
    assert {p.name: p.read_text() for p in folder.iterdir()} == user_files  # nothing taken, nothing deleted


# ---- (9) Ctrl-C -------------------------------------------------------------------------------

def test_item9_ctrl_c_to_the_data_parallel_job_is_one_line_once(tmp_path):
    job = subprocess.Popen([mpiexec(), "-n", "2", *JOB, *SMALL, "--epochs", "50", "--out", str(tmp_path / "run")],
                           env=environment(60), cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert job.stdout.readline().startswith("device: ")  # the jobs' first line names the device
        assert "training a" in job.stdout.readline()  # both ranks are past the handshake
        time.sleep(1)
        job.send_signal(signal.SIGINT)
        code = job.wait(timeout=60)
    finally:
        job.kill()
    err = job.stderr.read()
    assert code == 130, err
    assert err.count("interrupted") == 1 and "--resume" in err and "Traceback" not in err, err


# ---- (10) a batch smaller than the number of ranks ---------------------------------------------

def test_item10_a_batch_smaller_than_the_ranks_is_refused_before_the_folder(tmp_path):
    run, _ = timed(["-n", 2, *JOB, *SMALL, "--batch-size", "1", "--out", tmp_path / "out"])
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("--batch-size 1: a global batch of 1 cannot be shared by 2 ranks") == 1, run.stderr
    assert not (tmp_path / "out").exists()


# ---- the dual net: the other rank gone after MPI start-up ----------------------------------------

GONE_AFTER_STARTUP = "import minigrad.distributed as dist; dist.init_process_group('mpi')"


def test_dual_net_whose_other_rank_left_after_startup_ends_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DIST_STARTUP_TIMEOUT", "5")
    run, elapsed = timed(["-n", 1, *ADMM, "--out", tmp_path / "out", ":", "-n", 1, sys.executable, "-c",
                          GONE_AFTER_STARTUP])
    assert run.returncode != 0
    assert re.search(r"minigrad-admm \[rank 0\]: .*no progress on all_gather .* within 5 s", run.stderr), run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()
    assert elapsed < 45, elapsed  # the 5 s start-up deadline, not the 60 s floor of --deadline


def test_dual_net_whose_ranks_split_replicas_differently_ends_in_one_line(tmp_path):
    command = [*ADMM, "--out", tmp_path / "out"]
    run, _ = timed(["-n", 1, *command, ":", "-n", 1, *command, "--replicas", "2"])
    assert run.returncode == 2 and "--replicas: rank 0 has 1, rank 1 has 2" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_dual_net_refuses_a_taken_folder_in_one_line_and_leaves_it_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    run, _ = timed(["-n", 2, *ADMM, "--out", tmp_path])
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("minigrad-admm [rank 0]:") == 1 and "holds files no minigrad run wrote" in run.stderr
    assert "Traceback" not in run.stderr and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
