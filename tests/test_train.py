"""minigrad.train.fit and evaluate: what the history records, exact resume with a shuffled,
augmented loader and dropout, a non-finite loss stopping training with the last good
checkpoint intact, and files fit must never overwrite."""
import math

import numpy as np
import pytest

import minigrad.functional as F
from minigrad import manual_seed, nn, optim, tensor
from minigrad.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minigrad.data import ArrayDataset, DataLoader, RandomHorizontalFlip
from minigrad.optim import lr_scheduler
from minigrad.train import NonFiniteLossError, evaluate, fit


def toy_data(n=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 1, 2, 3)).astype(np.float32)
    y = (x[:, 0, 0, 0] + x[:, 0, 1, 2] > 0).astype(np.int64)
    return ArrayDataset(x, y)


def make_run(seed=0):
    """Model with dropout, Adam, a cosine schedule, a shuffled loader with random flips:
    every source of randomness a resume must restore."""
    manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    loader = DataLoader(toy_data(), batch_size=16, shuffle=True, transform=RandomHorizontalFlip())
    return model, opt, scheduler, loader


def parameters(model):
    return [p.array.copy() for p in model.parameters()]


def test_history_rows_and_evaluate():
    model, opt, scheduler, loader = make_run()
    val = DataLoader(toy_data(20), batch_size=8)
    history = fit(model, opt, F.cross_entropy, loader, 3, val_loader=val, scheduler=scheduler,
                  progress=False, log_every=2)
    assert [row["epoch"] for row in history.epochs] == [1, 2, 3]
    assert history.epochs[-1]["step"] == 3 * len(loader) == 12
    assert [row["step"] for row in history.steps] == [2, 4, 6, 8, 10, 12]
    # the rate each epoch ran with: epoch e uses the schedule at t = e − 1
    assert history.epochs[1]["lr"] == pytest.approx(0.01 * (1 + math.cos(math.pi * 1 / 5)) / 2)
    loss, accuracy = evaluate(model, val, F.cross_entropy)
    assert (loss, accuracy) == (history.epochs[-1]["val_loss"], history.epochs[-1]["val_accuracy"])
    assert model.training  # evaluate put the model back in training mode
    assert evaluate(model, val) == (loss, accuracy)  # cross-entropy is the default loss
    # accuracy by hand, from the logits
    x, y = val.dataset.x, val.dataset.y
    model.eval()
    expected = (model(tensor(x)).numpy().argmax(1) == y).mean()
    assert accuracy == pytest.approx(expected)


def test_resume_with_shuffle_augmentation_and_dropout_is_bit_identical(tmp_path):
    straight = make_run()
    fit(*straight[:2], F.cross_entropy, straight[3], 4, scheduler=straight[2], progress=False)

    path = str(tmp_path / "run.npz")
    first = make_run()
    fit(*first[:2], F.cross_entropy, first[3], 2, scheduler=first[2], checkpoint=path, progress=False)
    # a fresh process: different seed, fresh objects; everything comes from the file
    second = make_run(seed=123)
    history = fit(*second[:2], F.cross_entropy, second[3], 4, scheduler=second[2], checkpoint=path,
                  resume=True, progress=False)
    assert [row["epoch"] for row in history.epochs] == [1, 2, 3, 4]
    for a, b in zip(parameters(straight[0]), parameters(second[0])):
        np.testing.assert_array_equal(a, b)
    assert load_checkpoint(path)["epoch"] == 4


class NaNAtCall:
    """cross_entropy, except that call number ``bad`` returns NaN."""

    def __init__(self, bad):
        self.bad, self.calls = bad, 0

    def __call__(self, output, y):
        self.calls += 1
        loss = F.cross_entropy(output, y)
        return loss * float("nan") if self.calls == self.bad else loss


def test_non_finite_loss_names_the_step_and_keeps_the_last_checkpoint(tmp_path):
    path = tmp_path / "run.npz"
    model, opt, scheduler, loader = make_run()
    steps_per_epoch = len(loader)
    with pytest.raises(NonFiniteLossError, match=rf"at epoch 2, step {steps_per_epoch + 2}\b.*"
                                                 rf"checkpoint of epoch 1 in .*run.npz is kept"):
        fit(model, opt, NaNAtCall(steps_per_epoch + 2), loader, 3,
            scheduler=scheduler, checkpoint=str(path), progress=False)
    after_one_epoch = make_run()
    fit(*after_one_epoch[:2], F.cross_entropy, after_one_epoch[3], 1, scheduler=after_one_epoch[2],
        progress=False)
    saved = load_checkpoint(path)
    assert saved["epoch"] == 1 and saved["step"] == steps_per_epoch
    for name, value in after_one_epoch[0].state_dict().items():
        np.testing.assert_array_equal(saved["model"][name], np.asarray(value))


def test_non_finite_loss_before_any_checkpoint_says_so(tmp_path):
    model, opt, _, loader = make_run()
    with pytest.raises(NonFiniteLossError, match="step 1 .*no checkpoint of this run was written yet"):
        fit(model, opt, NaNAtCall(1), loader, 1, checkpoint=str(tmp_path / "c.npz"), progress=False)
    assert not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("resume", [False, True])
def test_existing_files_are_refused_and_kept(tmp_path, resume):
    """Without resume fit writes over no file it did not write itself (issue 11, item 4:
    a pretrained.npz was replaced); with resume it reads only a checkpoint fit wrote."""
    good = tmp_path / "good.npz"
    save_checkpoint(good, {"epoch": 1})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:40])
    foreign = tmp_path / "weights.npz"
    np.savez(foreign, w=np.ones(3))
    if resume:
        error = CheckpointError
        cases = [(truncated, "truncated or corrupt"), (foreign, "not a minigrad checkpoint"),
                 (good, r"not one written by fit \(it lacks \['model'")]
    else:
        error = FileExistsError
        cases = [(path, "already exists and this run did not write it; use resume=True to continue "
                        "from it, or another path") for path in (good, truncated, foreign)]
    for path, message in cases:
        before = path.read_bytes()
        model, opt, _, loader = make_run()
        start = parameters(model)
        with pytest.raises(error, match=message):
            fit(model, opt, F.cross_entropy, loader, 1, checkpoint=str(path), resume=resume, progress=False)
        assert path.read_bytes() == before
        for a, b in zip(start, parameters(model)):
            np.testing.assert_array_equal(a, b)  # nothing was trained either


@pytest.mark.parametrize("kwargs,message", [
    (dict(epochs=-1), r"invalid epochs=-1: expected an integer >= 0"),
    (dict(epochs=2.5), r"invalid epochs=2.5"),
    (dict(log_every=0), r"invalid log_every=0: expected an integer >= 1"),
    (dict(resume=True), r"resume=True needs checkpoint="),
])
def test_bad_arguments_are_named(kwargs, message):
    model, opt, _, loader = make_run()
    arguments = {"epochs": 1, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        fit(model, opt, F.cross_entropy, loader, **arguments)
