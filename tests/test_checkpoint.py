"""Checkpoints: round trip without pickle, atomic replacement, clear errors on bad files."""
import json
import os

import numpy as np
import pytest

from minigrad.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minigrad.history import History, ema


def sample_state():
    return {"model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "0.bias": np.zeros(2)},
            "optimizer": {"state": {0: {"step": 3, "momentum_buffer": np.ones(3)}},
                          "param_groups": [{"lr": 0.1, "nesterov": False, "betas": [0.9, 0.999], "params": [0, 1]}]},
            "epoch": 2, "name": "run", "nothing": None, "scalar": np.float64(1.5)}


def test_round_trip_keeps_values_types_and_int_keys(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, sample_state())
    state = load_checkpoint(path)
    assert state["model"]["0.weight"].dtype == np.float32
    assert np.array_equal(state["model"]["0.weight"], np.arange(6).reshape(2, 3))
    assert list(state["optimizer"]["state"]) == [0]  # int keys stay ints
    assert state["optimizer"]["param_groups"][0]["betas"] == [0.9, 0.999]
    assert state["epoch"] == 2 and state["name"] == "run" and state["nothing"] is None and state["scalar"] == 1.5
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert "__meta__" in archive.files
    mask = os.umask(0o022)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask  # an ordinary file, not mkstemp's 0600


def test_overwrite_is_atomic_and_leaves_no_temporaries(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save_checkpoint(path, {"epoch": 1})

    def crash(*args):
        raise KeyboardInterrupt  # the run is killed while the new file is being renamed into place
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["c.npz"]


def test_truncated_foreign_and_missing_files_are_named(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, sample_state())
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(CheckpointError, match="not a minigrad checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.npz")


def test_refuses_objects_that_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object"):
        save_checkpoint(tmp_path / "c.npz", {"x": object()})
    assert not (tmp_path / "c.npz").exists()


def test_history_files_and_plot(tmp_path):
    h = History()
    for step in range(1, 21):
        h.log_step(step=step, epoch=1 + step // 10, loss=1 / step, accuracy=step / 20)
    h.log_epoch(epoch=1, step=10, loss=0.3, val_loss=0.35, val_accuracy=0.8)
    h.log_epoch(epoch=2, step=20, loss=0.1, val_loss=0.2, val_accuracy=0.9)
    h.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,step,loss,val_loss,val_accuracy"
    h.to_json(tmp_path / "h.json")
    assert History.from_state_dict(json.loads((tmp_path / "h.json").read_text())).epochs == h.epochs
    h.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000
    assert ema([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])  # bias-corrected: no drag towards 0
