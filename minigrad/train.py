"""A plain training loop: ``fit`` for training, ``evaluate`` for measuring.

    history = fit(model, optimizer, F.cross_entropy, train_loader, epochs=5,
                  val_loader=test_loader, checkpoint="runs/mlp.npz")
    history.plot("runs/mlp.png")

Each step is the four lines every framework shares — forward, loss, backward,
update — plus bookkeeping: a tqdm progress bar, a ``History``, and a checkpoint
after every epoch from which ``resume=True`` continues exactly (bit for bit on
the CPU), because it restores the parameters, the optimizer's and scheduler's
state, the data order and the random generators.
"""
import math
import numbers
import os
import time

from tqdm.auto import tqdm

from minigrad import random as mg_random
from minigrad.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minigrad.functional import cross_entropy
from minigrad.history import History
from minigrad.tensor import no_grad


class NonFiniteLossError(FloatingPointError):
    """Raised when the loss becomes NaN or infinite: training stops before the bad
    gradients touch the weights, and the last checkpoint stays as it was."""


def _accuracy(logits, y):
    if logits.ndim != 2 or y.ndim != 1 or y.dtype.kind not in "iu":
        return None  # not a classification batch
    return float((logits.data.argmax(axis=1) == y.data).mean())


def evaluate(model, loader, loss_fn=cross_entropy):
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no graph).
    ``loss_fn(output, y)`` → scalar Tensor, the batch mean (cross-entropy by default).
    Returns ``(loss, accuracy)``; accuracy is None when the targets are not class labels."""
    was_training = model.training
    model.eval()
    total_loss, correct, seen, classification = 0.0, 0.0, 0, True
    try:
        with no_grad():
            for x, y in loader:
                logits = model(x)
                n = len(x)
                total_loss += loss_fn(logits, y).item() * n
                acc = _accuracy(logits, y)
                classification = classification and acc is not None
                correct += (acc or 0.0) * n
                seen += n
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the loader produced no batches")
    return total_loss / seen, (correct / seen if classification else None)


def _learning_rate(optimizer):
    return optimizer.param_groups[0]["lr"]


def _step_scheduler(scheduler, val_loss, train_loss):
    """Schedules that watch a metric (reduce-on-plateau) get the validation loss,
    or the training loss when there is no validation set."""
    if getattr(scheduler, "needs_metric", False):
        scheduler.step(val_loss if val_loss is not None else train_loss)
    else:
        scheduler.step()


def _state(model, optimizer, scheduler, loader, history, epoch, step):
    state = {"model": dict(model.state_dict()), "optimizer": optimizer.state_dict(),
             "history": history.state_dict(), "epoch": epoch, "step": step,
             "rng": mg_random.get_rng_state()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if hasattr(loader, "state_dict"):
        state["loader"] = loader.state_dict()
    return state


_SAVED = ("model", "optimizer", "history", "epoch", "step", "rng")  # what _state always writes


def _restore(state, model, optimizer, scheduler, loader, path):
    missing = [key for key in _SAVED if key not in state]
    if missing:
        raise CheckpointError(f"{path}: a minigrad checkpoint, but not one written by fit "
                              f"(it lacks {missing})")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        if "scheduler" not in state:
            raise ValueError("fit(resume=True): the checkpoint has no scheduler state but a scheduler was given")
        scheduler.load_state_dict(state["scheduler"])
    if hasattr(loader, "load_state_dict") and "loader" in state:
        loader.load_state_dict(state["loader"])
    mg_random.set_rng_state(state["rng"])
    return History.from_state_dict(state["history"]), state["epoch"], state["step"]


def fit(model, optimizer, loss_fn, train_loader, epochs, val_loader=None, scheduler=None,
        checkpoint=None, resume=False, progress=True, log_every=1):
    """Train ``model`` for ``epochs`` passes over ``train_loader``; returns the ``History``.

    loss_fn(output, y) → scalar Tensor.  scheduler: stepped once per epoch.
    checkpoint: path of an ``.npz`` written atomically after every epoch. An existing
        file there must be a readable minigrad checkpoint (it is then replaced, or resumed
        from): a truncated or foreign file raises ``CheckpointError`` before any training,
        so fit never overwrites a file that is not a minigrad checkpoint.
    resume: continue from ``checkpoint`` if it exists (the epochs already done count).
    log_every: record every ``log_every``-th step in ``History.steps``.
    A NaN or infinite loss raises ``NonFiniteLossError`` naming the epoch and step; the
    weights are not updated with it and the last checkpoint stays as it was.
    """
    for name, value, least in (("epochs", epochs, 0), ("log_every", log_every, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"fit: invalid {name}={value!r}: expected an integer >= {least}")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to resume from)")
    history, start_epoch, step = History(), 0, 0
    saved_epoch = None  # the epoch the checkpoint file on disk holds
    if checkpoint is not None and os.path.exists(checkpoint):
        saved = load_checkpoint(checkpoint)  # raises on a truncated or foreign file
        if resume:
            history, start_epoch, step = _restore(saved, model, optimizer, scheduler, train_loader,
                                                  checkpoint)
            saved_epoch = start_epoch
    model.train()
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        loss_sum, correct, seen = 0.0, 0.0, 0
        for x, y in bar:
            output = model(x)
            loss = loss_fn(output, y)
            value = loss.item()
            if not math.isfinite(value):
                kept = ""
                if checkpoint is not None:
                    kept = ("; no checkpoint of this run was written yet" if saved_epoch is None
                            else f"; the checkpoint of epoch {saved_epoch} in {checkpoint} is kept")
                raise NonFiniteLossError(f"fit: the loss became {value} at epoch {epoch + 1}, step {step + 1} "
                                         f"(learning rate too high, or bad inputs?){kept}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            n = len(x)
            acc = _accuracy(output, y)
            loss_sum, seen = loss_sum + value * n, seen + n
            correct += (acc or 0.0) * n
            if step % log_every == 0:
                history.log_step(step=step, epoch=epoch + 1, loss=value, accuracy=acc, lr=_learning_rate(optimizer))
            elapsed = time.perf_counter() - started
            bar.set_postfix(loss=f"{value:.4f}", acc="-" if acc is None else f"{acc:.3f}",
                            lr=f"{_learning_rate(optimizer):.3g}", samples_per_s=f"{seen / max(elapsed, 1e-9):.0f}")
        bar.close()
        if seen == 0:
            raise ValueError("fit: the training loader produced no batches")
        row = {"epoch": epoch + 1, "step": step, "loss": loss_sum / seen,
               "accuracy": correct / seen if acc is not None else None, "lr": _learning_rate(optimizer),
               "seconds": time.perf_counter() - started}
        val_loss = None
        if val_loader is not None:
            val_loss, row["val_accuracy"] = evaluate(model, val_loader, loss_fn)
            row["val_loss"] = val_loss
        history.log_epoch(**row)
        if progress:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in row.items() if isinstance(v, float))
            tqdm.write(f"epoch {epoch + 1}/{epochs}: {shown}")
        if scheduler is not None:
            _step_scheduler(scheduler, val_loss, row["loss"])
        if checkpoint is not None:
            save_checkpoint(checkpoint, _state(model, optimizer, scheduler, train_loader, history, epoch + 1, step))
            saved_epoch = epoch + 1
    return history

