"""The transports: inproc and two MPI ranks give identical numbers; the ranks check
their configuration at start; a rank that stalls or dies makes the other exit with a
clear error within the deadline instead of hanging."""
import csv
import json
import re
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from minigrad.distributed.handshake import differences
from admm_mpi import environment, launch, require_mpi

QUICK_MLP = ["--arch", "mlp", "--quick", "--quiet"]


def _rows(path):
    with open(path) as f:
        # every column but the times (seconds, step_seconds, net1_seconds, net2_seconds)
        return [{k: v for k, v in row.items() if not k.endswith("seconds")} for row in csv.DictReader(f)]


def test_the_handshake_names_every_difference_and_who_holds_what():
    assert differences([{"--seed": 0, "--mode": "admm"}, {"--seed": 0, "--mode": "admm"}]) == []
    assert differences([{"--seed": 0, "--batch": 64}, {"--seed": 1, "--batch": 32}]) == \
        ["--seed: rank 0 has 0, rank 1 has 1", "--batch: rank 0 has 64, rank 1 has 32"]
    assert differences([{"--replicas": 2}, {"--replicas": 1}, {"--replicas": 2}, {}]) == \
        ["--replicas: ranks 0, 2 have 2, rank 1 has 1, rank 3 has nothing"]


def test_inproc_and_mpi_give_identical_numbers(tmp_path):
    require_mpi()
    # both in subprocesses with the same environment: one BLAS thread each, since the
    # thread count can change the rounding of a matrix product
    inproc = subprocess.run([sys.executable, "-m", "admm", "demo", *QUICK_MLP, "--out", tmp_path / "inproc"],
                            env=environment(60), capture_output=True, text=True, timeout=90)
    assert inproc.returncode == 0, inproc.stderr
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", "-m", "admm", "demo", *QUICK_MLP,
                  "--transport", "mpi", "--out", tmp_path / "mpi"])
    assert "admm                     test accuracy" in run.stdout, run.stdout + run.stderr  # rank 0's report
    inproc, mpi = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("inproc", "mpi"))
    assert mpi["transport"] == "mpi"
    for key in ("single_test_acc", "dual_test_acc", "frozen_net1_test_acc", "consensus_rel_error",
                "conv3_norm_ratio"):
        assert mpi[key] == inproc[key], key
    assert _rows(tmp_path / "mpi" / "history.csv") == _rows(tmp_path / "inproc" / "history.csv")


PEER = textwrap.dedent("""
    import os, sys, time
    from admm.transport import MPILink, Message
    link = MPILink(deadline=3)
    link.handshake({"role": "test"})
    if link.rank == 1:
        if sys.argv[1] == "die":
            os._exit(3)
        time.sleep(60)            # stall: never answer
    started = time.monotonic()
    try:
        link.call(Message("train"))
    except Exception as error:
        print(f"rank 0 caught after {time.monotonic() - started:.1f} s: {error}", flush=True)
        link.abort(1)
""")


@pytest.mark.parametrize("fault", ["stall", "die"])
def test_a_dead_or_stalled_rank_ends_the_run_within_the_deadline(tmp_path, fault):
    require_mpi()
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    started = time.monotonic()
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", script, fault], timeout=90)
    elapsed = time.monotonic() - started
    # start-up (imports on a busy machine) + the 3 s deadline + the abort
    assert elapsed < 60, f"took {elapsed:.0f} s with a 3 s deadline"
    assert run.returncode != 0
    if fault == "stall":  # the survivor says what happened (a death may be reported by mpiexec first)
        assert "no progress on a message header from rank 1 within 3 s" in run.stdout, run.stdout + run.stderr
        waited = float(re.search(r"caught after ([0-9.]+) s", run.stdout).group(1))
        # never before the deadline; the upper bound only rules out a hang, since a busy
        # 2-core machine can delay the polling thread by seconds
        assert 3 <= waited < 30, f"waited {waited} s with a 3 s deadline"


def test_ranks_started_with_different_settings_refuse_to_train(tmp_path):
    require_mpi()
    command = [sys.executable, "-m", "mpi4py", "-m", "admm", "demo", *QUICK_MLP, "--transport", "mpi",
               "--out", tmp_path]
    run = launch(["-n", 1, *command, "--seed", 0, ":", "-n", 1, *command, "--seed", 1], timeout=40)
    assert "different settings" in run.stderr and "seed: rank 0 has 0, rank 1 has 1" in run.stderr, run.stderr
    assert not (tmp_path / "summary.json").exists()


def test_the_mpi_transport_needs_two_ranks(tmp_path):
    require_mpi()
    run = launch(["-n", 3, sys.executable, "-m", "mpi4py", "-m", "admm", "demo", *QUICK_MLP, "--transport", "mpi",
                  "--out", tmp_path], timeout=40)
    assert "needs 2 ranks per replica of the split (one per half): 2 for 1 replica(s), got 3" in run.stderr \
        and run.returncode != 0, run.stderr


def test_ranks_that_loaded_different_data_refuse_to_train(tmp_path):
    """The same --data string, run from two folders (-wdir) that hold different files."""
    require_mpi()
    from test_data_readers import write_idx
    for folder, shift in (("a", 0), ("b", 1)):
        images = (np.arange(8 * 28 * 28) % 251).astype(np.uint8).reshape(8, 28, 28)
        for name, array in (("train-images-idx3-ubyte", images), ("t10k-images-idx3-ubyte", images),
                            ("train-labels-idx1-ubyte", (np.arange(8) + shift) % 10),
                            ("t10k-labels-idx1-ubyte", np.arange(8) % 10)):
            (tmp_path / folder / "data").mkdir(parents=True, exist_ok=True)
            write_idx(tmp_path / folder / "data" / name, array.astype(np.uint8))
    command = [sys.executable, "-m", "mpi4py", "-m", "admm", "demo", *QUICK_MLP, "--transport", "mpi",
               "--data", "mnist:data", "--out", tmp_path / "out"]
    run = launch(["-n", 1, "-wdir", tmp_path / "a", *command, ":", "-n", 1, "-wdir", tmp_path / "b", *command],
                 timeout=40)
    assert "different settings" in run.stderr and "data (checksum of the files --data names): rank 0 has" in run.stderr, run.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_rank_started_with_the_inproc_transport_under_mpiexec_refuses(tmp_path):
    require_mpi()
    command = [sys.executable, "-m", "admm", "demo", *QUICK_MLP, "--out", tmp_path]
    run = launch(["-n", 2, *command], timeout=40)
    assert "started by mpiexec, but --transport inproc trains alone; give every rank --transport mpi" in run.stderr
    assert run.returncode != 0 and not (tmp_path / "summary.json").exists()
