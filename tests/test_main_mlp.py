"""The main job, `python -m minigrad`, in quick mode: it trains, prints the test accuracy,
writes its run folder, the checkpoint reproduces the reported accuracy, and an
interrupted run finished with --resume equals one that was never interrupted."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad.functional as F
from minigrad import __main__ as job
from minigrad import train
from minigrad.checkpoint import load_checkpoint
from minigrad.data import DataLoader, Normalize, channel_stats

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_end_to_end(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, "-m", "minigrad", "--quick", "--out", str(out)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    printed = float(re.search(r"test accuracy (\d\.\d+)", run.stdout).group(1))
    for name in job.FILES:
        assert (out / name).stat().st_size > 0, name
    assert (out / "history.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    assert printed == pytest.approx(summary["test_accuracy"], abs=5e-5)
    assert summary["test_accuracy"] > 0.75  # 3 short epochs on 4000 images; chance is 0.1
    assert (out / "history.csv").read_text().count("\n") == 1 + job.QUICK["epochs"]

    # the checkpoint holds the model that was tested: rebuild it and measure again
    settings = json.loads((out / "settings.json").read_text())
    training, _, test = job.split(settings)
    model = job.mlp(784, settings["hidden"], 10, settings["dropout"])
    model.load_state_dict(load_checkpoint(out / "checkpoint.npz")["model"])
    loader = DataLoader(test, 1000, transform=Normalize(*channel_stats(training.x)))
    assert train.evaluate(model, loader, F.cross_entropy)[1] == summary["test_accuracy"]


SMALL = ["--quick", "--epochs", "2", "--hidden", "32", "--no-progress"]  # a cheaper quick run


def test_interrupted_run_resumes_to_the_same_result(tmp_path, monkeypatch, capsys):
    straight = job.main(SMALL + ["--out", str(tmp_path / "straight")])

    real_save = train.save_checkpoint

    def save_then_stop(path, state):  # Ctrl-C right after the first epoch's checkpoint
        real_save(path, state)
        raise KeyboardInterrupt
    monkeypatch.setattr(train, "save_checkpoint", save_then_stop)
    interrupted = tmp_path / "interrupted"
    with pytest.raises(SystemExit) as stopped:
        job.main(SMALL + ["--out", str(interrupted)])
    assert stopped.value.code == 130
    assert f"--resume {interrupted}" in capsys.readouterr().err
    assert load_checkpoint(interrupted / "checkpoint.npz")["epoch"] == 1
    monkeypatch.undo()

    validated = []  # fit validates once per epoch it trains: only epoch 2 is left
    real_evaluate = train.evaluate
    monkeypatch.setattr(train, "evaluate", lambda *a: validated.append(1) or real_evaluate(*a))
    resumed = job.main(["--resume", str(interrupted), "--no-progress"])
    assert len(validated) == 1
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    assert resumed["test_loss"] == straight["test_loss"]
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.npz")["model"]
    b = load_checkpoint(interrupted / "checkpoint.npz")["model"]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_refusals_name_the_problem(tmp_path, capsys):
    job.main(SMALL + ["--out", str(tmp_path), "--epochs", "1"])
    cases = [(["--quick", "--out", str(tmp_path)], "already holds a run; finish it with --resume"),
             (["--resume", str(tmp_path), "--epochs", "5"], "with its own settings; drop --epochs"),
             (["--resume", str(tmp_path), "--quick"], "with its own settings; drop --quick (see"),
             (["--resume", str(tmp_path / "absent")], "absent is not a folder"),
             (["--quick", "--out", str(tmp_path / "b"), "--epochs", "0"], "--epochs 0: expected an integer >= 1"),
             (["--quick", "--out", str(tmp_path / "b"), "--dropout", "1"], "--dropout 1.0: expected a number in [0, 1)"),
             (["--quick", "--out", str(tmp_path / "b"), "--arch", "vgg"], "--arch: invalid choice: 'vgg'")]
    for argv, message in cases:
        with pytest.raises(SystemExit) as stopped:
            job.main(argv)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err  # one line, no usage block


def test_the_cnn_option_trains_the_reports_cnn_and_resumes_as_one(tmp_path, capsys):
    out = tmp_path / "cnn"
    summary = job.main(SMALL + ["--arch", "caffenet", "--epochs", "1", "--out", str(out)])
    assert "CaffeNet-style CNN" in capsys.readouterr().out
    assert json.loads((out / "settings.json").read_text())["arch"] == "caffenet"
    assert summary["test_accuracy"] > 0.5  # 1 epoch on the small subset; chance is 0.1
    assert "conv1.weight" in load_checkpoint(out / "checkpoint.npz")["model"]
