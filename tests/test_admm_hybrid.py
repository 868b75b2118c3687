"""The hybrid (admm/replicas.py): two replicas of the split on 4 MPI ranks, each on half
of every global batch, train the same weights as the split on 2 ranks on the whole
batch — to rounding — including a global batch that does not split evenly; what the
hybrid does not support is refused before any work."""
import csv
import json
import sys

import pytest

from admm.replicas import Replicas, check
from admm.session import configure
from admm_mpi import launch, require_mpi

# 300 images in batches of 31: 9 batches of 31 (15 + 16 per replica) and a last one of 21 (10 + 11)
TINY = ["demo", "--arch", "mlp", "--quiet", "--train-limit", 300, "--test-limit", 200, "--batch", 31,
        "--epochs", 1, "--eval-every", 5, "--lr", 0.03, "--transport", "mpi"]


def _history(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _close(a, b, rel=1e-4, absolute=1e-6):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), absolute)


@pytest.mark.parametrize("mode, schedule", [("admm", []), ("decoupled", ["--schedule", "pipelined",
                                                                         "--micro-batches", 2])])
def test_two_replicas_on_four_ranks_equal_the_split_on_two(tmp_path, mode, schedule):
    require_mpi()
    options = [*TINY, "--mode", mode, *schedule]
    for ranks, extra in ((2, []), (4, ["--replicas", 2])):
        run = launch(["-n", ranks, sys.executable, "-m", "mpi4py", "-m", "admm", *options, *extra,
                      "--out", tmp_path / str(ranks)], timeout=120)
        assert "(mpi transport)" in run.stdout, run.stdout + run.stderr  # rank 0's report
    two, four = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("2", "4"))
    assert four["config"]["replicas"] == 2 and two["config"]["replicas"] == 1
    assert four["iterations"] == two["iterations"] == 10
    # rounding may flip one image's argmax, but not two (the test set holds 200)
    for key in ("single_test_acc", "dual_test_acc", "frozen_net1_test_acc"):
        assert abs(four[key] - two[key]) <= 1 / 200 + 1e-12, key
    rows = {d: _history(tmp_path / d / "history.csv") for d in ("2", "4")}
    assert len(rows["2"]) == len(rows["4"])
    # every number of the global batch and of the test set: the weights agree at every step
    # (not the times: each rank's own). Accuracies to one image (a flipped argmax), the rest to 1e-4.
    compared = {"loss_net1": 0, "loss_net2": 0, "pool2_norm": 0, "test_loss": 0, "conv3_norm": 0,
                "test_pool2_norm": 0, "residual": 0, "train_acc": 1 / 21, "test_acc": 1 / 200}
    checked = 0
    for a, b in zip(rows["2"], rows["4"]):
        assert (a["run"], a["step"]) == (b["run"], b["step"])
        for key, one_image in compared.items():
            if a.get(key) and a[key] != "nan":
                x, y = float(a[key]), float(b[key])
                assert _close(x, y) or abs(x - y) <= one_image + 1e-12, (a["run"], a["step"], key, x, y)
                checked += 1
    assert checked > 100


def test_the_ranks_must_be_two_per_replica(tmp_path):
    require_mpi()
    run = launch(["-n", 2, sys.executable, "-m", "mpi4py", "-m", "admm", *TINY, "--replicas", 2,
                  "--out", tmp_path / "out"])
    assert run.returncode != 0
    assert "needs 2 ranks per replica of the split (one per half): 4 for 2 replica(s), got 2" in run.stderr, \
        run.stdout + run.stderr


def test_shards_cover_the_batch_and_what_the_hybrid_lacks_is_refused():
    shards = [Replicas(3, rank, group=None).shard(10) for rank in (0, 2, 4)]
    assert [(s.start, s.stop) for s in shards] == [(0, 3), (3, 6), (6, 10)]
    with pytest.raises(ValueError, match="a global batch of 2 samples cannot be shared by 3 replicas"):
        Replicas(3, 0, group=None).shard(2)
    check(configure(replicas=2), 300)
    with pytest.raises(ValueError, match="the hybrid supports only --multiplier none, got 'sample'"):
        check(configure(replicas=2, multiplier="sample"), 300)
    with pytest.raises(ValueError, match="--batch 31 over 311 training images leaves a batch of 1"):
        check(configure(replicas=2, batch=31), 311)
    with pytest.raises(ValueError, match="replicas must be an integer >= 1, got 0"):
        check(configure(replicas=0), 300)
