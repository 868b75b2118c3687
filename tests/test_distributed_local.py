"""The parts of data parallelism that need no second process: DistributedSampler's
shards (against torch's where installed), DataLoader(sampler=...), the
post-accumulate-grad hook DistributedDataParallel starts its all-reduces from, and the
clear errors of minigrad.distributed before init_process_group."""
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.distributed as dist
import minigrad.functional as F
from minigrad import nn
from minigrad.data import ArrayDataset, DataLoader, DistributedSampler


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), ranks=st.integers(1, 6), drop_last=st.booleans(), epoch=st.integers(0, 5))
def test_shards_are_disjoint_equal_sized_and_cover_the_data_once(n, ranks, drop_last, epoch):
    shards = []
    for r in range(ranks):
        sampler = DistributedSampler(range(n), num_replicas=ranks, rank=r, seed=5, drop_last=drop_last)
        sampler.set_epoch(epoch)
        shards.append(list(sampler))
        assert len(shards[-1]) == len(sampler)
    assert len({len(s) for s in shards}) == 1                      # a collective step needs every rank
    every = np.concatenate(shards).astype(int)
    if drop_last:
        assert len(every) == n - n % ranks and len(set(every)) == len(every)
    else:
        assert set(every) == set(range(n))                         # each example at least once
        assert len(every) - n == (-n) % ranks                      # and only the padding repeats


def test_set_epoch_changes_the_order_the_same_way_on_every_rank():
    a, b = (DistributedSampler(range(100), num_replicas=2, rank=0, seed=1) for _ in range(2))
    first = list(a)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) != first and list(a) == list(b)
    a.set_epoch(0)
    assert list(a) == first


@pytest.mark.parametrize("n, ranks, drop_last", [(10, 3, False), (10, 3, True), (2, 5, False), (7, 2, False)])
def test_unshuffled_shards_are_torchs(n, ranks, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for r in range(ranks):
        ours = DistributedSampler(range(n), ranks, r, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), ranks, r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_arguments_are_checked():
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be an integer >= 1, got 0"):
        DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))  # rank and size from the group, which does not exist here


def test_dataloader_serves_the_samplers_indices_and_resumes_them():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    dataset = ArrayDataset(x, np.arange(20))
    loader = DataLoader(dataset, batch_size=3, sampler=DistributedSampler(dataset, 2, 1, seed=4), seed=0)
    assert len(loader) == 4
    epochs = [np.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]
    for e, served in enumerate(epochs):
        sampler = DistributedSampler(dataset, 2, 1, seed=4)
        sampler.set_epoch(e)                                        # the loader set each epoch
        assert served.tolist() == list(sampler)
    assert epochs[0].tolist() != epochs[1].tolist()
    resumed = DataLoader(dataset, batch_size=3, sampler=DistributedSampler(dataset, 2, 1, seed=4), seed=0)
    resumed.load_state_dict({"seed": 0, "epoch": 1, "batch": 2})
    assert np.concatenate([y.numpy() for _, y in resumed]).tolist() == epochs[1][6:].tolist()
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(dataset, sampler=loader.sampler, shuffle=True)


def test_post_accumulate_grad_hooks_fire_during_backward_last_layer_first():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen = []  # (parameter name, how many parameters still had no grad then)
    names = dict((id(p), n) for n, p in model.named_parameters())
    for p in model.parameters():
        p.register_post_accumulate_grad_hook(
            lambda t: seen.append((names[id(t)], sum(q.grad is None for q in model.parameters()))))
    F.cross_entropy(model(mg.tensor(np.ones((5, 3), np.float32))), np.array([0, 1, 0, 1, 1])).backward()
    assert {n for n, _ in seen} == set(names.values()) and len(seen) == 4
    # the last layer's gradients are complete while the first layer's are not yet computed
    first_of_last = min(i for i, (n, _) in enumerate(seen) if n.startswith("2."))
    assert seen[first_of_last][1] >= 2 and seen[-1][0].startswith("0.") and seen[-1][1] == 0
    hooked = model[0].weight
    before = hooked.grad.numpy().copy()
    hooked.register_post_accumulate_grad_hook(lambda t: seen.append(("sum", t.grad.numpy().copy())))
    F.cross_entropy(model(mg.tensor(np.ones((5, 3), np.float32))), np.array([0, 1, 0, 1, 1])).backward()
    assert np.allclose(seen[-1][1], 2 * before)  # the hook sees the accumulated .grad
    with pytest.raises(RuntimeError, match="only leaf tensors"):
        (hooked * 2).register_post_accumulate_grad_hook(print)


def test_clear_errors_before_init_process_group():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(np.ones(2)),
                 lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(ValueError, match="Default process group has not been initialized.*mpiexec"):
            call()
    with pytest.raises(ValueError, match="backend 'nccl' is not available in minigrad; use backend='mpi'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        dist.init_process_group("mpi", timeout=-1)


def test_checksum_tells_different_data_apart():
    a = np.arange(6, dtype=np.float32)
    assert dist.checksum(a, a) == dist.checksum(a.copy(), mg.tensor(a))
    assert dist.checksum(a) != dist.checksum(a.astype(np.float64))
    assert dist.checksum(a) != dist.checksum(a.reshape(2, 3))
    b = a.copy()
    b[3] += 1e-6
    assert dist.checksum(a) != dist.checksum(b)


def test_structure_tells_different_models_apart_but_not_different_weights():
    mg.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    mg.manual_seed(1)
    assert dist.structure(a) == dist.structure(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    assert dist.structure(a) != dist.structure(nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)))
    assert dist.structure(a) != dist.structure(nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2)))
    assert dist.structure(a) != dist.structure(a.double())


@pytest.mark.parametrize("name", ["MINIGRAD_DIST_TIMEOUT", "MINIGRAD_DIST_STARTUP_TIMEOUT"])
@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan"])
def test_a_bad_deadline_in_the_environment_is_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name} must be a positive number of seconds, got '{value}'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_without_mpi4py_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now fails, as when not installed
    assert not dist.is_available()
    with pytest.raises(ImportError, match=r"needs mpi4py and an MPI library: pip install 'minigrad\[mpi\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()
