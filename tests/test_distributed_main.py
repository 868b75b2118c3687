"""The main job data-parallel: ``mpiexec -n 2 python -m mpi4py -m minigrad`` trains across
the ranks with rank 0 alone writing the run folder, and a checkpoint resumes under a
different number of ranks (one process interrupted, two ranks finish it)."""
import json
import sys

import pytest

from admm_mpi import launch, require_mpi
from minigrad import __main__ as job
from minigrad import train
from minigrad.checkpoint import load_checkpoint

SMALL = ["--quick", "--epochs", "2", "--hidden", "32", "--no-progress"]


def _two_ranks(*args):
    return launch(["-n", 2, sys.executable, "-m", "mpi4py", "-m", "minigrad", *args], timeout=120)


def test_two_ranks_train_the_main_job_and_rank_0_writes_the_folder(tmp_path):
    require_mpi()
    run = _two_ranks(*SMALL, "--out", tmp_path / "run")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("test accuracy") == 1 and run.stdout.count("training a 784-32-32-10 MLP") == 1
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs"] == 2 and summary["test_accuracy"] > 0.6
    # the job's files and the claim marker rank 0 wrote (minigrad/runs.py), nothing else
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted([*job.FILES, ".minigrad-run"])
    assert list(load_checkpoint(tmp_path / "run" / "checkpoint.npz")["model"]) == \
        ["1.weight", "1.bias", "4.weight", "4.bias", "7.weight", "7.bias"]  # one process's names


def test_a_one_process_checkpoint_resumes_on_two_ranks(tmp_path, monkeypatch, capsys):
    require_mpi()
    real_save = train.save_checkpoint

    def save_then_stop(path, state):  # Ctrl-C right after the first epoch's checkpoint
        real_save(path, state)
        raise KeyboardInterrupt
    monkeypatch.setattr(train, "save_checkpoint", save_then_stop)
    folder = tmp_path / "run"
    with pytest.raises(SystemExit):
        job.main(SMALL + ["--out", str(folder)])
    assert load_checkpoint(folder / "checkpoint.npz")["epoch"] == 1
    run = _two_ranks("--resume", folder, "--no-progress")
    assert run.returncode == 0 and "after 2 epochs" in run.stdout, run.stdout + run.stderr
    assert load_checkpoint(folder / "checkpoint.npz")["epoch"] == 2
    assert len(json.loads((folder / "history.json").read_text())["epochs"]) == 2


def test_rank_0s_usage_error_ends_every_rank_once(tmp_path):
    require_mpi()
    (tmp_path / "checkpoint.npz").write_bytes(b"")
    run = _two_ranks("--quick", "--out", tmp_path)
    assert run.returncode != 0 and run.stderr.count("already holds a run") == 1, run.stderr
