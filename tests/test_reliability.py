"""Issue 11's fault audit, one test per finding: nothing a user saved is lost (run folders
claimed exclusively, every file written atomically, no checkpoint from NaN weights, no
file overwritten that the run did not write), no silent wrong answer (labels that wrap,
values cast silently, restores that half-happen, NaN running statistics), and expected
failures on the command line as one line and an exit status, not a traceback."""
import errno
import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad.functional as F
from minigrad import __main__ as job
from minigrad import manual_seed, nn, optim, runs
from minigrad import train as mg_train
from minigrad.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minigrad.data import ArrayDataset, DataLoader, read_cifar10, read_mnist_folder
from minigrad.history import History
from minigrad.train import NonFiniteLossError, fit

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, MPLBACKEND="Agg",
           PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
SMALL = ["--quick", "--epochs", "1", "--hidden", "16", "--no-progress"]  # the cheapest real run


def toy_run(seed=0, batchnorm=False, optimizer=optim.Adam):
    manual_seed(seed)
    layers = [nn.Linear(4, 8)] + [nn.BatchNorm1d(8)] * batchnorm + [nn.ReLU(), nn.Linear(8, 2)]
    model = nn.Sequential(*layers)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    loader = DataLoader(ArrayDataset(x, (x[:, 0] > 0).astype(np.int64)), batch_size=16, shuffle=True)
    return model, optimizer(model.parameters(), lr=0.01), loader


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def command_line(argv, capsys):
    """``python -m minigrad argv`` in this process, as its ``__main__`` block runs it:
    (exit status, stderr)."""
    with pytest.raises(SystemExit) as stopped:
        with runs.reported_errors("python -m minigrad"):
            job.main(argv)
            raise SystemExit(0)
    return stopped.value.code, capsys.readouterr().err


def one_line(err):
    return err.strip().count("\n") == 0 and "Traceback" not in err


# ---- data loss ------------------------------------------------------------------------

def test_item1_runs_started_together_never_share_a_folder(tmp_path):
    """Three processes claim the default folder in the same second, and three claim one
    named folder: each default run gets its own folder, exactly one named claim wins."""
    claim = ("import sys; from minigrad import runs\n"
             "try:\n    print(runs.new_run_folder(None if sys.argv[1] == '-' else sys.argv[1], prefix='mlp').path)\n"
             "except runs.RunFolderError as e:\n    print('refused', e)")
    processes = [subprocess.Popen([sys.executable, "-c", claim, out], cwd=tmp_path, env=ENV, text=True,
                                  stdout=subprocess.PIPE) for out in ["-"] * 3 + ["shared"] * 3]
    printed = [p.communicate(timeout=60)[0].strip() for p in processes]
    assert len(set(printed[:3])) == 3 and all(p.startswith("runs/mlp-") for p in printed[:3])
    assert sorted(os.listdir(tmp_path / "runs")) == sorted(Path(p).name for p in printed[:3])
    assert sum(p == "shared" for p in printed[3:]) == 1
    assert sum(p.startswith("refused shared already holds a run") for p in printed[3:]) == 2


def test_item1_two_command_line_runs_into_one_folder(tmp_path):
    out = tmp_path / "run"
    processes = [subprocess.Popen([sys.executable, "-m", "minigrad", *SMALL, "--seed", str(seed), "--out", str(out)],
                                  cwd=tmp_path, env=ENV, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for seed in (0, 1)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "already holds a run" in refused and one_line(refused)
    seed = next(s for s, (code, _) in enumerate(results) if code == 0)
    assert json.loads((out / "settings.json").read_text())["seed"] == seed  # the winner's, whole


def test_item3_out_never_writes_over_user_files(tmp_path, capsys):
    (tmp_path / "settings.json").write_text("mine")
    (tmp_path / "history.csv").write_text("mine too")
    code, err = command_line(SMALL + ["--out", str(tmp_path)], capsys)
    assert code == 2 and "holds files no minigrad run wrote (history.csv, settings.json)" in err
    assert one_line(err)
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "settings.json"]
    assert (tmp_path / "settings.json").read_text() == "mine"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    code, err = command_line(SMALL + ["--out", str(a_file)], capsys)
    assert code == 2 and "is a file, not a folder" in err and one_line(err)


def test_item1_a_run_still_going_cannot_be_resumed_twice(tmp_path):
    with runs.new_run_folder(tmp_path / "run") as run:
        with pytest.raises(runs.RunFolderError, match="in use by a run that is still going"):
            runs.reopen_run_folder(run.path)
    runs.reopen_run_folder(tmp_path / "run").close()  # its lock went with it


def test_item2_no_checkpoint_from_nan_weights_under_a_finite_loss(tmp_path):
    """A mean of Euclidean norms with an all-zero record: the loss is finite (0), its
    gradient NaN (√ at 0 is ∞, times 0). That epoch must not replace the good checkpoint."""
    model, opt, loader = toy_run()
    batches = len(loader)
    calls = []

    def loss_fn(output, y):
        calls.append(1)
        if len(calls) == 2 * batches:  # the last batch of epoch 2
            return ((output - output.detach()) ** 2).sum(axis=1).sqrt().mean()
        return F.cross_entropy(output, y)
    path = tmp_path / "c.npz"
    with pytest.raises(NonFiniteLossError, match=r"after epoch 2, the weights \['0.weight'.* hold NaN.*"
                                                 r"not saved; the checkpoint of epoch 1 in .*c.npz is kept"):
        with np.errstate(divide="ignore", invalid="ignore"):  # the NaN is the point
            fit(model, opt, loss_fn, loader, 3, checkpoint=str(path), progress=False)
    saved = load_checkpoint(path)
    assert saved["epoch"] == 1
    assert all(np.isfinite(v).all() for v in saved["model"].values())


def test_item2_no_checkpoint_from_a_nan_validation_loss(tmp_path):
    model, opt, loader = toy_run()
    poisoned = DataLoader(ArrayDataset(np.full((4, 4), np.nan, np.float32), np.zeros(4, np.int64)), 4)
    with pytest.raises(NonFiniteLossError, match="after epoch 1, the validation loss is nan.*no checkpoint"):
        fit(model, opt, F.cross_entropy, loader, 1, val_loader=poisoned, checkpoint=str(tmp_path / "c.npz"),
            progress=False)
    assert not (tmp_path / "c.npz").exists()


def test_item2_12_the_command_line_keeps_no_nan_checkpoint_and_says_so_in_one_line(tmp_path, capsys):
    """The audit's run: one batch per epoch at lr 1e20 gives a NaN validation loss."""
    out = tmp_path / "run"
    with np.errstate(all="ignore"):
        code, err = command_line(["--quick", "--batch-size", "4000", "--lr", "1e20", "--no-progress",
                                  "--out", str(out)], capsys)
    assert code == 1 and one_line(err)
    assert "after epoch 1, the validation loss is nan" in err and "no checkpoint of this run was written yet" in err
    assert not (out / "checkpoint.npz").exists()


def test_item5_a_kill_during_any_write_of_a_resume_loses_nothing(tmp_path, monkeypatch, capsys):
    """A run stopped after epoch 1, resumed, and the resume killed inside its first
    write (an atomic one never reaches os.replace, a plain one is cut after truncating):
    settings.json and the epoch-1 checkpoint are whole, no temporary is left, and a
    second resume finishes the run."""
    out = tmp_path / "run"
    real_save = mg_train.save_checkpoint

    def save_then_stop(path, state):
        real_save(path, state)
        raise KeyboardInterrupt
    monkeypatch.setattr(mg_train, "save_checkpoint", save_then_stop)
    code, err = command_line(["--quick", "--epochs", "2", "--hidden", "16", "--no-progress", "--out", str(out)],
                             capsys)
    assert code == 130 and "the checkpoint of the last finished epoch is in" in err
    monkeypatch.undo()
    settings = (out / "settings.json").read_bytes()

    def killed(*args):
        raise KeyboardInterrupt

    def killed_mid_write(self, data, *args, **kwargs):  # a plain write: truncated, then the kill
        real_write_text(self, "", *args, **kwargs)
        raise KeyboardInterrupt
    real_write_text = Path.write_text
    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(Path, "write_text", killed_mid_write)
    code, err = command_line(["--resume", str(out), "--no-progress"], capsys)
    assert code == 130
    monkeypatch.undo()
    assert (out / "settings.json").read_bytes() == settings
    assert load_checkpoint(out / "checkpoint.npz")["epoch"] == 1
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    code, err = command_line(["--resume", str(out), "--no-progress"], capsys)
    assert code == 0, err
    assert load_checkpoint(out / "checkpoint.npz")["epoch"] == 2


def test_item16_stale_temporaries_are_removed_at_start(tmp_path, capsys):
    out = tmp_path / "run"
    assert command_line(SMALL + ["--out", str(out)], capsys)[0] == 0
    for name in (".checkpoint.npz-k1ll3d_x.tmp", ".settings.json-abcd1234.tmp"):
        (out / name).write_bytes(b"\0" * 100)  # what a SIGKILL inside write_atomically leaves
    (out / "notes.txt").write_text("the user's")
    assert command_line(["--resume", str(out), "--no-progress"], capsys)[0] == 0
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    assert (out / "notes.txt").read_text() == "the user's"
    # fit alone removes only its own checkpoint's temporaries
    (tmp_path / ".c.npz-x.tmp").write_bytes(b"\0")
    (tmp_path / ".other.npz-x.tmp").write_bytes(b"\0")
    model, opt, loader = toy_run()
    fit(model, opt, F.cross_entropy, loader, 1, checkpoint=str(tmp_path / "c.npz"), progress=False)
    assert not (tmp_path / ".c.npz-x.tmp").exists() and (tmp_path / ".other.npz-x.tmp").exists()


# ---- wrong answers --------------------------------------------------------------------

def write_cifar_py(directory, labels, sizes=(2,) * 6):
    directory.mkdir(parents=True)
    for i, (name, n) in enumerate(zip([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], sizes)):
        with open(directory / name, "wb") as f:
            pickle.dump({"data": np.zeros((n, 3072), np.uint8),
                         "labels": labels if i == 2 else [0] * n}, f, protocol=4)


@pytest.mark.parametrize("label", [300, -1, 10])
def test_item8_cifar_python_labels_outside_0_9_are_refused(tmp_path, label):
    write_cifar_py(tmp_path / "cifar-10-batches-py", [1, label])
    with pytest.raises(ValueError, match=rf"data_batch_3 holds label {label} \(record 1\); labels are 0..9"):
        read_cifar10(tmp_path)


def test_item8_a_cifar_batch_one_record_short_is_refused(tmp_path):
    write_cifar_py(tmp_path / "cifar-10-batches-py", [0], sizes=(2, 2, 1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"batches hold \[2, 2, 1, 2, 2, 2\] records"):
        read_cifar10(tmp_path)


def test_item8_mnist_labels_beyond_9_are_refused(tmp_path):
    from test_data_readers import make_mnist_folder, write_idx
    make_mnist_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 12, 3], np.uint8), True)
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte holds label 12 \(item 2\)"):
        read_mnist_folder(tmp_path)


@pytest.mark.parametrize("value,error,message", [
    (np.full((8, 4), 1e300), ValueError, r"0.weight: 1e\+300 overflows minigrad.float32"),
    (np.ones((8, 4), np.complex64), TypeError, r"not real numbers \[0.weight: complex64"),
    ([["a"] * 4] * 8, TypeError, r"not real numbers \[0.weight: <U1"),
])
def test_item8_10_load_state_dict_checks_every_value_before_changing_any(value, error, message):
    model, _, _ = toy_run(batchnorm=True)
    before = weights(model)
    state = {k: v + 1 if v.dtype.kind == "f" else v for k, v in before.items()}  # all valid…
    state["0.weight"] = value                                                  # …but this one
    with pytest.raises(error, match=message):
        model.load_state_dict(state)
    assert same(weights(model), before)
    state["0.weight"] = before["0.weight"]
    state["1.num_batches_tracked"] = np.array(2.5)
    with pytest.raises(ValueError, match=r"1.num_batches_tracked: 2.5 is not a minigrad.int64 value"):
        model.load_state_dict(state)
    assert same(weights(model), before)


def test_item9_a_nan_batch_leaves_batchnorm_running_statistics_alone():
    model, opt, _ = toy_run(batchnorm=True)
    x = np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32)
    loader = DataLoader(ArrayDataset(np.concatenate([x, np.full_like(x, np.nan)]), np.zeros(32, np.int64)), 16)
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 2"):
        fit(model, opt, F.cross_entropy, loader, 1, progress=False)
    bn = model[1]
    assert np.isfinite(bn.running_mean.array).all() and np.isfinite(bn.running_var.array).all()
    assert bn.running_mean.array.any()  # batch 1 did move them


def saved_run(tmp_path, optimizer=optim.Adam):
    model, opt, loader = toy_run(optimizer=optimizer)
    path = tmp_path / "c.npz"
    fit(model, opt, F.cross_entropy, loader, 1, checkpoint=str(path), progress=False)
    return path


def test_item10_a_failed_resume_changes_nothing(tmp_path):
    path = saved_run(tmp_path, optimizer=optim.Adam)
    model, opt, loader = toy_run(seed=5, optimizer=optim.SGD)  # the wrong optimizer
    before, opt_before = weights(model), opt.state_dict()
    with pytest.raises(ValueError, match=r"c.npz: its 'optimizer' does not fit this run: SGD.load_state_dict"):
        fit(model, opt, F.cross_entropy, loader, 2, checkpoint=str(path), resume=True, progress=False)
    assert same(weights(model), before)
    assert opt.state_dict() == opt_before


@pytest.mark.parametrize("epoch", [-5, "three", 1.5, True])
def test_item8_17_a_hand_edited_checkpoint_epoch_is_named(tmp_path, epoch):
    path = saved_run(tmp_path)
    state = load_checkpoint(path)
    state["epoch"] = epoch
    save_checkpoint(path, state)
    model, opt, loader = toy_run(seed=5)
    before = weights(model)
    with pytest.raises(CheckpointError, match=rf"c.npz: its 'epoch' is {epoch!r}, expected an integer >= 0"):
        fit(model, opt, F.cross_entropy, loader, 2, checkpoint=str(path), resume=True, progress=False)
    assert same(weights(model), before)


@pytest.mark.parametrize("key,value", [("model", "weights"), ("optimizer", [1, 2]), ("rng", 7)])
def test_item17_a_hand_edited_checkpoint_part_is_named(tmp_path, key, value):
    path = saved_run(tmp_path)
    state = load_checkpoint(path)
    state[key] = value
    save_checkpoint(path, state)
    model, opt, loader = toy_run(seed=5)
    before = weights(model)
    with pytest.raises(CheckpointError, match=rf"c.npz: its '{key}' is a {type(value).__name__}, expected a dict"):
        fit(model, opt, F.cross_entropy, loader, 2, checkpoint=str(path), resume=True, progress=False)
    assert same(weights(model), before)


# ---- unclear errors ---------------------------------------------------------------------

def test_item12_the_command_line_reports_expected_failures_in_one_line(tmp_path):
    """In a real process: usage errors exit 2, others 1, each one line, no traceback."""
    def run(*argv):
        done = subprocess.run([sys.executable, "-m", "minigrad", *argv], cwd=tmp_path, env=ENV,
                              capture_output=True, text=True, timeout=120)
        return done.returncode, done.stderr
    code, err = run("--seed", "-1")
    assert code == 2 and "--seed -1: expected an integer >= 0" in err and one_line(err)
    code, err = run(*SMALL, "--data", f"mnist:{tmp_path / 'nowhere'}", "--out", str(tmp_path / "a"))
    assert code == 1 and "nowhere does not exist" in err and one_line(err)
    assert not (tmp_path / "a").exists()  # so the same --out works once --data is right
    run_folder = tmp_path / "b"
    with runs.new_run_folder(run_folder):
        (run_folder / "settings.json").write_text(json.dumps(dict(job.QUICK, epochs=1)))
        (run_folder / "checkpoint.npz").write_bytes(b"PK\3\4 not a zip")
    code, err = run("--resume", str(run_folder), "--no-progress")
    assert code == 1 and "checkpoint.npz: truncated or corrupt checkpoint" in err and one_line(err)


def test_item12_17_a_resume_that_does_not_fit_is_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert command_line(SMALL + ["--out", str(out)], capsys)[0] == 0
    (out / "settings.json").write_text(json.dumps(dict(json.loads((out / "settings.json").read_text()), hidden=32)))
    code, err = command_line(["--resume", str(out), "--no-progress"], capsys)
    assert code == 1 and one_line(err)
    assert "checkpoint.npz: its 'model' does not fit this run: load_state_dict into Sequential: " \
           "mis-shaped entries [1.weight: expected (32, 784), got (16, 784)" in err
    empty = tmp_path / "empty"
    runs.new_run_folder(empty).close()  # a run killed before it wrote its settings
    code, err = command_line(["--resume", str(empty)], capsys)
    assert code == 2 and "stopped before it wrote settings.json, so there is nothing to resume" in err


def test_item12_a_full_disk_is_one_line(tmp_path, monkeypatch, capsys):
    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(job, "write_atomically", full)
    code, err = command_line(SMALL + ["--out", str(tmp_path / "run")], capsys)
    assert code == 1 and "No space left on device" in err and "settings.json" in err and one_line(err)


def test_item13_infinite_and_non_numeric_learning_rates_are_refused(capsys):
    model, _, _ = toy_run()
    for make in (optim.SGD, optim.Adam):
        with pytest.raises(ValueError, match=rf"{make.__name__}: invalid lr=inf: expected a finite real number"):
            make(model.parameters(), lr=float("inf"))
    with pytest.raises(TypeError, match=r"SGD: invalid lr='0.1': expected a finite real number"):
        optim.SGD(model.parameters(), lr="0.1")
    code, err = command_line(SMALL + ["--lr", "inf"], capsys)
    assert code == 2 and "--lr inf: expected a finite number > 0" in err and one_line(err)


def test_item14_15_ctrl_c_says_only_what_is_true(tmp_path, monkeypatch, capsys):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(job, "split", stop)  # while loading the data
    code, err = command_line(SMALL + ["--out", str(tmp_path / "a")], capsys)
    assert code == 130 and "interrupted while loading the data; nothing was written" in err
    assert "Traceback" not in err and not (tmp_path / "a").exists()
    monkeypatch.undo()
    monkeypatch.setattr(mg_train, "tqdm", stop)  # in the first epoch
    code, err = command_line(SMALL + ["--out", str(tmp_path / "c")], capsys)
    assert code == 130 and "no epoch had finished, so there is no checkpoint yet (the settings are) in" in err
    assert f"--resume {tmp_path / 'c'}" in err and not (tmp_path / "c" / "checkpoint.npz").exists()
    monkeypatch.undo()
    monkeypatch.setattr(History, "plot", stop)  # while plotting, after the last checkpoint
    code, err = command_line(SMALL + ["--out", str(tmp_path / "b")], capsys)
    assert code == 130 and "the checkpoint of the last finished epoch is in" in err
    assert f"--resume {tmp_path / 'b'}" in err and "Traceback" not in err


def test_item17_a_bad_settings_json_is_named(tmp_path, capsys):
    out = tmp_path / "run"
    with runs.new_run_folder(out):
        settings = dict(job.QUICK)
        del settings["hidden"]
        (out / "settings.json").write_text(json.dumps(settings))
    code, err = command_line(["--resume", str(out)], capsys)
    assert code == 2 and f"{out / 'settings.json'} has hidden='(missing)'; expected an integer >= 1" in err
    (out / "settings.json").write_text(json.dumps(dict(job.QUICK, lr="fast")))
    code, err = command_line(["--resume", str(out)], capsys)
    assert code == 2 and "has lr='fast'; expected a finite number > 0" in err and one_line(err)


# ---- admm's command line ------------------------------------------------------------------

def test_item3_admm_demo_never_writes_over_user_files(tmp_path, capsys):
    from admm.cli import main
    (tmp_path / "summary.json").write_text("mine")
    assert main(["demo", "--quick", "--quiet", "--arch", "mlp", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "holds files no minigrad run wrote (summary.json)" in err and one_line(err)
    assert os.listdir(tmp_path) == ["summary.json"] and (tmp_path / "summary.json").read_text() == "mine"


def test_item14_admm_names_no_checkpoint_it_never_wrote(tmp_path):
    from admm.trainer import train

    class Diverges:  # a run whose loss is NaN at its first iteration
        name = "admm"

        def evaluate(self, loader):
            return {"test_acc": 0.1}

        def step(self, x, y):
            return {"loss_net1": float("nan")}
    loader = DataLoader(ArrayDataset(np.zeros((4, 2), np.float32), np.zeros(4, np.int64)), 2)
    with pytest.raises(NonFiniteLossError, match="iteration 1 .*; no checkpoint of this run was written yet"):
        train(Diverges(), loader, loader, 4, 2, checkpoint=str(tmp_path / "admm"))
    assert not os.listdir(tmp_path)


def test_item15_ctrl_c_to_mpiexec_is_one_line_and_130(tmp_path):
    """Ctrl-C reaches every rank (mpiexec forwards it): the first rank to see it says so
    in one line and aborts both with 130; before, an empty "KeyboardInterrupt: " and exit 1."""
    import signal

    from admm_mpi import environment, mpiexec, require_mpi
    require_mpi()
    job_ = subprocess.Popen([mpiexec(), "-n", "2", sys.executable, "-m", "mpi4py", "-m", "admm", "demo",
                             "--arch", "mlp", "--quick", "--transport", "mpi", "--out", str(tmp_path / "run")],
                            env=environment(60), cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert job_.stdout.readline().startswith("device: ")  # the jobs' first line names the device
        assert "step 0/" in job_.stdout.readline()  # both ranks are up and training
        job_.send_signal(signal.SIGINT)
        code = job_.wait(timeout=60)
    finally:
        job_.kill()
    err = job_.stderr.read()
    assert code == 130, err
    assert re.search(r"minigrad-admm \[rank [01]\]: interrupted\n", err) and "Traceback" not in err
