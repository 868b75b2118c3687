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

from minigrad import backend
from minigrad import random as mg_random
from minigrad.checkpoint import CheckpointError, load_checkpoint, remove_stale_temporaries, save_checkpoint
from minigrad.functional import cross_entropy
from minigrad.history import History
from minigrad.tensor import no_grad


class NonFiniteLossError(FloatingPointError):
    """Raised when training becomes NaN or infinite: a training loss (training stops
    before its gradients touch the weights), or at the end of an epoch a validation loss
    or a weight (a NaN gradient under a finite loss). No checkpoint is written from
    such a state: the last one stays as it was."""


def _accuracy(logits, y):
    """The batch's accuracy as a 0-d array where the logits are (on a GPU: not read), or
    None when the batch is not a classification batch."""
    if logits.ndim != 2 or y.ndim != 1 or y.dtype.kind not in "iu":
        return None
    return (logits.array.argmax(axis=1) == y.array).mean()


class _Numbers:
    """Per-batch losses and accuracies, summed weighted by the batch size. Each batch's
    pair stays where it was computed (on a GPU: 0-d device arrays, no sync) until ``read``
    fetches every pending one in one transfer (``backend.read_numbers``); they are then
    summed on the host batch by batch: a CPU run's arithmetic, read later."""

    def __init__(self):
        self.pending, self.loss_sum, self.correct, self.seen, self.classification = [], 0.0, 0.0, 0, True

    def add(self, step, n, loss, accuracy):
        self.pending.append((step, n, loss, accuracy))

    def read(self):
        """[(step, loss, accuracy)] of the batches read now (Python floats; accuracy None
        for a batch that is not a classification batch), added to the sums."""
        numbers = backend.read_numbers([v for _, _, loss, acc in self.pending for v in (loss, acc)])
        read = []
        for (step, n, _, _), value, acc in zip(self.pending, numbers[::2], numbers[1::2]):
            self.loss_sum, self.seen = self.loss_sum + value * n, self.seen + n
            self.correct += (acc or 0.0) * n
            self.classification = acc is not None
            read.append((step, value, acc))
        self.pending = []
        return read


def evaluate(model, loader, loss_fn=cross_entropy):
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no graph).
    ``loss_fn(output, y)`` → scalar Tensor, the batch mean (cross-entropy by default).
    Returns ``(loss, accuracy)``; accuracy is None when the targets are not class labels."""
    was_training = model.training
    model.eval()
    numbers, classification = _Numbers(), True
    try:
        with no_grad():
            for x, y in loader:
                logits = model(x)
                numbers.add(None, len(x), loss_fn(logits, y).array, _accuracy(logits, y))
        for _, _, acc in numbers.read():  # one read from a GPU, after the last batch
            classification = classification and acc is not None
    finally:
        model.train(was_training)
    if numbers.seen == 0:
        raise ValueError("evaluate: the loader produced no batches")
    return numbers.loss_sum / numbers.seen, (numbers.correct / numbers.seen if classification else None)


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


def _counter(state, key, path):
    value = state[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointError(f"{path}: its '{key}' is {value!r}, expected an integer >= 0 "
                              f"(was the file edited?)")
    return value


def _restore(state, model, optimizer, scheduler, loader, path):
    """Load everything a checkpoint holds into the run's objects; on any failure every
    object is as it was before (each one's state is taken first and put back), so a
    refused resume leaves the model, the optimizer and the rest untouched."""
    missing = [key for key in _SAVED if key not in state]
    if missing:
        raise CheckpointError(f"{path}: a minigrad checkpoint, but not one written by fit "
                              f"(it lacks {missing})")
    epoch, step = _counter(state, "epoch", path), _counter(state, "step", path)
    if scheduler is not None and "scheduler" not in state:
        raise ValueError(f"fit(resume=True): {path} has no scheduler state but a scheduler was given")
    try:
        history = History.from_state_dict(state["history"])
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: its 'history' is not a training history ({error!r})") from None
    parts = [("model", model), ("optimizer", optimizer)]
    if scheduler is not None:
        parts.append(("scheduler", scheduler))
    if hasattr(loader, "load_state_dict") and "loader" in state:
        parts.append(("loader", loader))
    for key in [key for key, _ in parts] + ["rng"]:
        if not isinstance(state[key], dict):
            raise CheckpointError(f"{path}: its '{key}' is a {type(state[key]).__name__}, expected a "
                                  f"dict (was the file edited?)")
    before = [(obj, obj.state_dict()) for _, obj in parts]
    rng_before = mg_random.get_rng_state()
    try:
        for key, obj in parts:
            try:
                obj.load_state_dict(state[key])
            except (KeyError, ValueError, TypeError) as error:
                raise type(error)(f"{path}: its '{key}' does not fit this run: "
                                  f"{error.args[0] if error.args else error}") from None
        try:
            mg_random.set_rng_state(state["rng"])
        except (KeyError, ValueError, TypeError) as error:
            raise CheckpointError(f"{path}: its 'rng' is not a random generator state ({error})") from None
    except BaseException:
        for obj, saved in before:
            obj.load_state_dict(saved)
        mg_random.set_rng_state(rng_before)
        raise
    return history, epoch, step


def _non_finite(model):
    """Names of the parameters and buffers holding a NaN or an infinity (checked where
    they live: no copy to the host)."""
    entries = [(name, t.array) for name, t in list(model.named_parameters()) + list(model.named_buffers())
               if t.array.dtype.kind in "fc"]
    finite = backend.read_numbers([backend.xp(a).isfinite(a).all() for _, a in entries])  # one read
    return [name for (name, _), ok in zip(entries, finite) if not ok]


def fit(model, optimizer, loss_fn, train_loader, epochs, val_loader=None, scheduler=None,
        checkpoint=None, resume=False, progress=True, log_every=1):
    """Train ``model`` for ``epochs`` passes over ``train_loader``; returns the ``History``.

    loss_fn(output, y) → scalar Tensor.  scheduler: stepped once per epoch.
    checkpoint: path of an ``.npz`` written atomically after every epoch, only from
        finite weights and a finite validation loss. fit overwrites only the file it
        wrote itself: an existing file there is refused (``FileExistsError``) unless
        ``resume=True``, and then it must be a checkpoint written by fit
        (``CheckpointError`` otherwise, before any training). Temporaries that a
        killed save left beside it are removed at the start.
    resume: continue from ``checkpoint`` if it exists (the epochs already done count).
        The whole checkpoint is checked against the run first: on a mismatch nothing
        (weights, optimizer, schedule, data order, random state) is changed.
    log_every: record every ``log_every``-th step in ``History.steps``. On a GPU the
        steps' losses and accuracies stay on the device between these logging points
        and are read once at each (and at the end of the epoch): one host sync per
        ``log_every`` steps; the progress bar shows them then.
    A NaN or infinite loss raises ``NonFiniteLossError`` naming the epoch and step; the
    weights are not updated with it and the last checkpoint stays as it was. So does a
    NaN or infinite validation loss or weight at the end of an epoch (no checkpoint is
    written from it). On a GPU a loss is seen at the next logging point: a NaN between
    two of them has reached the weights, which are then not saved.
    """
    for name, value, least in (("epochs", epochs, 0), ("log_every", log_every, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"fit: invalid {name}={value!r}: expected an integer >= {least}")
    if resume and checkpoint is None:
        raise ValueError("fit: resume=True needs checkpoint= (the file to resume from)")
    history, start_epoch, step = History(), 0, 0
    saved_epoch = None  # the epoch the checkpoint file on disk holds
    if checkpoint is not None:
        remove_stale_temporaries(checkpoint)
        if os.path.exists(checkpoint):
            if not resume:
                raise FileExistsError(f"fit: {checkpoint} already exists and this run did not write "
                                      f"it; use resume=True to continue from it, or another path")
            saved = load_checkpoint(checkpoint)  # raises on a truncated or foreign file
            history, start_epoch, step = _restore(saved, model, optimizer, scheduler, train_loader,
                                                  checkpoint)
            saved_epoch = start_epoch
    model.train()
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, leave=False)
        tally = _Numbers()

        def read():
            """The pending steps' numbers: checked, logged; the bar shows the last."""
            for at, value, acc in tally.read():
                if not math.isfinite(value):
                    raise NonFiniteLossError(f"fit: the loss became {value} at epoch {epoch + 1}, step {at} "
                                             f"(learning rate too high, or bad inputs?)"
                                             f"{_kept(checkpoint, saved_epoch)}")
                if at % log_every == 0:
                    history.log_step(step=at, epoch=epoch + 1, loss=value, accuracy=acc,
                                     lr=_learning_rate(optimizer))
                elapsed = time.perf_counter() - started
                bar.set_postfix(loss=f"{value:.4f}", acc="-" if acc is None else f"{acc:.3f}",
                                lr=f"{_learning_rate(optimizer):.3g}",
                                samples_per_s=f"{tally.seen / max(elapsed, 1e-9):.0f}")

        for x, y in bar:
            output = model(x)
            loss = loss_fn(output, y)
            tally.add(step + 1, len(x), loss.array, _accuracy(output, y))
            # Reading a GPU's number stalls the host until the GPU catches up, so the numbers
            # wait on the device for the next logging point and are read together there
            # (on the CPU reading is free: every step). The read comes before the update, so
            # a NaN loss read there never reaches the weights.
            if (step + 1) % log_every == 0 or not backend.is_cupy(loss.array):
                read()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        read()  # the epoch's steps after its last logging point
        bar.close()
        if tally.seen == 0:
            raise ValueError("fit: the training loader produced no batches")
        row = {"epoch": epoch + 1, "step": step, "loss": tally.loss_sum / tally.seen,
               "accuracy": tally.correct / tally.seen if tally.classification else None,
               "lr": _learning_rate(optimizer), "seconds": time.perf_counter() - started}
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
        # a finite loss can hide a NaN gradient (a norm's derivative at 0, say) that has
        # already reached the weights: such a state is never checkpointed over a good one
        bad = _non_finite(model)
        if bad or (val_loss is not None and not math.isfinite(val_loss)):
            what = f"the weights {bad} hold NaN or infinite values" if bad else f"the validation loss is {val_loss}"
            raise NonFiniteLossError(f"fit: after epoch {epoch + 1}, {what} (learning rate too high, "
                                     f"or a NaN gradient?); not saved{_kept(checkpoint, saved_epoch)}")
        if checkpoint is not None:
            save_checkpoint(checkpoint, _state(model, optimizer, scheduler, train_loader, history, epoch + 1, step))
            saved_epoch = epoch + 1
    return history


def _kept(checkpoint, saved_epoch):
    """What a NonFiniteLossError says of the checkpoint on disk: the truth."""
    if checkpoint is None:
        return ""
    if saved_epoch is None:
        return "; no checkpoint of this run was written yet"
    return f"; the checkpoint of epoch {saved_epoch} in {checkpoint} is kept"

