"""The loop every run shares — single, split and control — and the data it reads.

``train`` steps a run (``admm.halves``) for a budget of iterations over a loader,
evaluates it on the test set at the start, every ``eval_every`` iterations and at the
end, checkpoints it after every epoch, and stops with ``NonFiniteLossError`` (the last
checkpoint kept) when a loss becomes NaN or infinite.
"""
import math
import sys
import time

import numpy as np

from minigrad import backend
from minigrad import data as mg_data
from minigrad.history import History
from minigrad.train import NonFiniteLossError


def load_data(spec, train_limit=None, test_limit=None):
    """``minigrad.data.load(spec)`` with each target turned into a (label, sample index)
    pair — int64 (N, 2) — so net2 can look the label up and a per-sample multiplier λ
    can find its sample. The embedded sets interleave the classes, so the first
    ``train_limit`` / ``test_limit`` images are balanced. Returns (train, test, labels)
    with labels = {"train": (N_train,), "test": (N_test,)}."""
    try:
        train, test = mg_data.load(spec)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"--data {spec}: {error}") from None
    sets, labels = [], {}
    for name, dataset, limit in (("train", train, train_limit), ("test", test, test_limit)):
        x, y = dataset.x[:limit], dataset.y[:limit]
        pairs = np.stack([y, np.arange(len(y))], axis=1).astype(np.int64)
        sets.append(mg_data.ArrayDataset(x, pairs, dataset.classes))
        labels[name] = y.astype(np.int64)
    return sets[0], sets[1], labels


def budget(iterations, epochs, batches_per_epoch):
    """Iterations to run: ``iterations`` if given, else ``epochs`` full passes."""
    total = iterations if iterations is not None else epochs * batches_per_epoch
    if total < 1:
        raise ValueError(f"the training budget must be at least one iteration, got {total} "
                         f"(iterations={iterations}, epochs={epochs}, {batches_per_epoch} batches per epoch)")
    return total


def train(run, loader, test_loader, iterations, eval_every, checkpoint=None, log=None):
    """Train ``run`` for ``iterations`` steps; returns its ``History``: ``steps`` holds one
    row per iteration, ``epochs`` one row per evaluation (step 0 = before training).

    checkpoint: a path prefix; after every epoch the run saves ``<prefix>…npz`` there.
    log: a function taking a line of progress text (None: quiet).
    """
    history = History()
    started = time.perf_counter()

    def evaluate(step):
        row = dict(run.evaluate(test_loader), step=step, seconds=time.perf_counter() - started)
        history.log_epoch(**row)
        if log:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k not in ("step", "seconds"))
            log(f"  [{run.name}] step {step}/{iterations}: {shown}")

    evaluate(0)
    step, epoch, saved = 0, 0, False  # saved: a checkpoint of this run is on disk
    while step < iterations:
        epoch += 1
        for x, y in loader:
            before, cpu_before = time.perf_counter(), time.process_time()
            # the iteration's numbers, where it computed them (on a GPU: 0-d device arrays),
            # read here in one transfer: the one host sync of an iteration
            stats = run.step(x, y)
            stats = dict(zip(stats, backend.read_numbers(list(stats.values()))))
            # the iteration alone, no evaluation: wall seconds and this process's CPU seconds
            stats["step_seconds"] = time.perf_counter() - before
            stats["step_cpu_seconds"] = time.process_time() - cpu_before
            step += 1
            for key in ("loss_net1", "loss_net2"):
                value = stats.get(key)
                if value is not None and not math.isfinite(value):
                    kept = ("" if not checkpoint else f"; the last checkpoint ({checkpoint}…) is kept"
                            if saved else "; no checkpoint of this run was written yet")
                    error = NonFiniteLossError(f"{run.name}: {key} became {value} at iteration {step} "
                                               f"(epoch {epoch}){kept}")
                    error.history, error.step = history, step  # what happened up to the blow-up
                    raise error
            history.log_step(step=step, epoch=epoch, **stats)
            if step % eval_every == 0 or step == iterations:
                evaluate(step)
            if step == iterations:
                break
        if checkpoint:
            run.save(checkpoint)
            saved = True
    return history


def merged_rows(name, history):
    """One row per iteration (plus step 0) of run ``name``, evaluation columns filled in
    at the steps where the run was evaluated: the rows of ``history.csv``."""
    evaluations = {row["step"]: row for row in history.epochs}
    rows = [dict(run=name, step=0, **{k: v for k, v in evaluations.get(0, {}).items() if k != "step"})]
    for row in history.steps:
        extra = {k: v for k, v in evaluations.get(row["step"], {}).items() if k != "step"}
        rows.append(dict(run=name, **row, **extra))
    return rows


def printer(enabled):
    """A progress printer: each line to stdout, flushed (None when disabled)."""
    if not enabled:
        return None
    return lambda line: print(line, file=sys.stdout, flush=True)
