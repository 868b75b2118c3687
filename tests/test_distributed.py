"""minigrad.distributed across real MPI ranks (mpiexec subprocesses, as tests/admm_mpi.py
launches them): the collectives on arrays and Tensors; DistributedDataParallel trained
on shards equals one process trained on the same global batches (2 ranks, and 3 with
uneven shards); a dead, stalled or missing rank ends the job within the deadline."""
import re
import sys
import time

import pytest

import distributed_programs as programs
from admm_mpi import launch, require_mpi


def _run(tmp_path, source, ranks, *args, timeout=90):
    script = tmp_path / "program.py"
    script.write_text(source)
    started = time.monotonic()
    run = launch(["-n", ranks, sys.executable, "-m", "mpi4py", script, *args], timeout=timeout)
    return run, time.monotonic() - started


@pytest.mark.parametrize("ranks", [2, 3])
def test_collectives_on_arrays_and_tensors(tmp_path, ranks):
    require_mpi()
    run, _ = _run(tmp_path, programs.COLLECTIVES, ranks)
    for r in range(ranks):
        assert f"rank {r} of {ranks}: collectives ok" in run.stdout, run.stdout + run.stderr


def test_sub_groups_reduce_and_broadcast_among_their_members(tmp_path):
    require_mpi()
    run, _ = _run(tmp_path, programs.GROUPS, 4)
    for r in range(4):
        assert f"rank {r} of 4: groups ok" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("ranks, examples", [(2, 22), (3, 22)])  # 22 = 3·7 + 1: padded shards for 3
def test_ddp_equals_one_process_on_the_same_global_batches(tmp_path, ranks, examples):
    require_mpi()
    run, _ = _run(tmp_path, programs.DDP_EQUALS_ONE_PROCESS, ranks, examples, 2)
    assert run.returncode == 0 and "ddp equals one process" in run.stdout, run.stdout + run.stderr


def test_a_stalled_rank_ends_the_job_at_the_deadline_with_a_message(tmp_path):
    require_mpi()
    run, elapsed = _run(tmp_path, programs.FAULTY_RANK, 2, "stall")
    assert "no progress on all_reduce of 10 values within 3 s; another rank died or stalled" in run.stdout, \
        run.stdout + run.stderr
    waited = float(re.search(r"caught after ([0-9.]+) s", run.stdout).group(1))
    assert 3 <= waited < 30 and run.returncode != 0  # never early; the bound only rules out a hang
    assert elapsed < 80  # start-up on a busy machine + the deadline: the sleeping rank was ended too


def test_a_dead_rank_ends_the_job(tmp_path):
    require_mpi()
    run, elapsed = _run(tmp_path, programs.FAULTY_RANK, 2, "die")
    # mpiexec ends the survivor at once and reports the dead rank's status
    assert run.returncode == 3 and elapsed < 80, run.stdout + run.stderr


def test_a_rank_that_never_starts_mpi_ends_the_job_at_the_startup_deadline(tmp_path):
    require_mpi()
    run, elapsed = _run(tmp_path, programs.MISSING_RANK, 2)
    assert "rank 0 of 2: MPI start-up did not finish within 3 s: another rank never joined" in run.stderr, \
        run.stdout + run.stderr
    assert "joined" not in run.stdout and run.returncode != 0
    assert elapsed < 80  # not the 120 s the missing rank sleeps: the job was ended


def test_ddp_overlaps_backward_syncs_buffers_and_names_its_misuses(tmp_path):
    require_mpi()
    run, _ = _run(tmp_path, programs.DDP_DETAILS, 2)
    for r in range(2):
        assert f"rank {r}: ddp details ok" in run.stdout, run.stdout + run.stderr
