"""The two sides of a split run, and the unsplit baseline, behind one interface:

    run.step(x, y)        -> dict of per-iteration numbers (losses, accuracy, norms), as
                             0-d arrays where they were computed (a GPU's: not read yet;
                             ``backend.read_numbers`` reads them in one transfer);
                             y is int64 (N, 2): each sample's label and index
    run.evaluate(loader)  -> dict of test numbers (accuracy, loss, consensus, norms)
    run.save(prefix)      -> checkpoint files written

``Net2`` is net2's side: the head (conv3′ …), its optimizer and the labels. It answers
messages (``handle``), so the same object serves in-process or on its own MPI rank.
``SplitRun`` is net1's side: the trunk, the dual layer, their optimizer; it drives
the iteration through a transport. ``SingleRun`` is the unsplit network.
"""
import collections
import time

import numpy as np

import minigrad.functional as F
from minigrad import backend
from minigrad.checkpoint import save_checkpoint
from minigrad.tensor import Tensor, no_grad
from admm.modes import Net2Step
from admm.pipeline import Schedule
from admm.transport import Message


def _sample_norms(a):
    """‖aₙ‖ for every sample of a (N, ...) array → (N,)."""
    return backend.xp(a).sqrt((a.reshape(len(a), -1).astype(np.float64) ** 2).sum(axis=1))


def _update(optimizer, lr_schedule):
    """The optimizer's step, then the learning-rate schedule's (one per iteration)."""
    optimizer.step()
    if lr_schedule is not None:
        lr_schedule.step()


def _optimizer_state(optimizer, lr_schedule):
    state = {"optimizer": optimizer.state_dict()}
    if lr_schedule is not None:
        state["lr_schedule"] = lr_schedule.state_dict()
    return state


def _labels_of(y):
    """The loaders carry (label, sample index) pairs: y is int64 (N, 2). Both stay where
    y is: on a GPU the index goes to net2 (and λ) as a device array."""
    return y.array[:, 0], y.array[:, 1]


def _as_float64(loss):
    """A scalar loss Tensor's value as a 0-d float64 array, not read: summed with other
    such values it is the arithmetic of Python floats, on the device, read once per
    iteration by the trainer (``backend.read_numbers``)."""
    return loss.array.astype(np.float64)


class Net2:
    """net2's side of a split run. labels: {"train": (N_train,), "test": (N_test,)} int arrays."""

    def __init__(self, head, optimizer, mode, labels, device="cpu", lr_schedule=None, replicas=None):
        self.head, self.rest = head, head[1:]
        self.optimizer, self.mode, self.device = optimizer, mode, device
        self.labels = {which: backend.to_device(y, device) for which, y in labels.items()}  # copied once
        self.lr_schedule, self.replicas = lr_schedule, replicas

    def _labels(self, which, index):
        labels = self.labels[which]
        return labels[backend.xp(labels).asarray(index)]  # a gather where the labels are

    def step(self, p_data, labels, batch=None, first=True, last=True, share=1.0):
        """Forward and backward of net2 on p against the labels, then its update (step 2).
        p may be one micro-batch of a mini-batch of ``batch`` samples (``admm.pipeline``):
        its loss is then weighted by its share, the gradients accumulate from the ``first``
        micro-batch on, and only the ``last`` one updates, so the update is the mini-batch's.
        In the hybrid the mini-batch is this replica's ``share`` of the global batch, and the
        gradients are combined over the replicas before the update (``admm.replicas``)."""
        started = time.process_time()
        n = len(p_data)
        batch = batch or n
        p = Tensor(p_data, requires_grad=self.mode.needs_pool2_grad)
        y = self.head[0](p)
        y.retain_grad()
        logits = self.rest(y)
        # Σ over the micro-batch / N: summed over the micro-batches, the mini-batch's mean loss
        loss = F.cross_entropy(logits, labels, reduction="sum") * (1.0 / batch)
        if first:
            self.optimizer.zero_grad()
        loss.backward()
        # y.grad is ∂(loss)/∂y = ∂ℓₙ/∂yₙ / N: times N gives each sample's own gradient
        step = Net2Step(y.array, y.grad.array * batch, p.grad.array if p.grad is not None else None)
        reply = self.mode.reply(step)
        if last:
            if self.replicas is not None:
                self.replicas.combine_gradients(self.optimizer, share)
            _update(self.optimizer, self.lr_schedule)
        correct = (logits.array.argmax(axis=1) == labels).sum()  # 0-d: read with the iteration's numbers
        return reply, {"loss_net2": _as_float64(loss), "correct": correct,
                       "seconds": time.process_time() - started}

    def evaluate(self, p_data, labels):
        with no_grad():
            self.head.eval()
            y = self.head[0](Tensor._wrap(p_data))
            logits = self.rest(y)
            loss = _as_float64(F.cross_entropy(logits, labels, reduction="sum"))
            self.head.train()
        return y.array, {"correct": (logits.array.argmax(axis=1) == labels).sum(), "loss_sum": loss}

    def handle(self, message):
        """Answer one message from net1 (see ``admm.transport``)."""
        if message.kind == "train":
            reply, values = self.step(message.arrays["pool2"], self._labels("train", message.arrays["index"]),
                                      **message.values)
            return Message("trained", reply, values)
        if message.kind == "eval":
            y, values = self.evaluate(message.arrays["pool2"], self._labels("test", message.arrays["index"]))
            return Message("evaluated", {"conv3": y}, values)
        if message.kind == "save":
            path = message.values["path"]
            save_checkpoint(path, dict(_optimizer_state(self.optimizer, self.lr_schedule),
                                       net2=dict(self.head.state_dict())))
            return Message("saved", values={"path": path})
        if message.kind == "stop":
            return Message("stopped")
        raise ValueError(f"net2: unknown message kind {message.kind!r}")


class _Clock:
    """CPU seconds (``time.process_time``: the work, whatever else runs on the machine) of
    an iteration, less those spent ``around`` the courier: in one process those are net2's
    (which is why net2 reports its own), over MPI the messages'."""

    def __init__(self):
        self.started, self.inside = time.process_time(), 0.0

    def around(self, action, *args):
        before = time.process_time()
        try:
            return action(*args)
        finally:
            self.inside += time.process_time() - before

    def outside(self):
        return time.process_time() - self.started - self.inside


class _Tally:
    """net1's numbers of one iteration, summed over its micro-batches where they were
    computed (on a GPU: 0-d float64 device arrays, read once by the trainer)."""

    def __init__(self, total):
        self.total, self.loss_net1 = total, None
        self.loss_net2 = self.correct = self.pool2_norms = self.net2_seconds = 0.0

    def add(self, values, loss_net1, p):
        if loss_net1 is not None:   # each micro-batch's loss is already weighted by its share
            self.loss_net1 = (0.0 if self.loss_net1 is None else self.loss_net1) + loss_net1
        self.loss_net2 += values["loss_net2"]
        self.correct += values["correct"]
        self.net2_seconds += values["seconds"]
        self.pool2_norms += _sample_norms(p).sum()

    def combine(self, replicas, share, total, others=()):
        """The numbers of the whole global batch of ``total``, from every replica's (hybrid).
        ``others`` (the residual's sums) are summed over the replicas in the same read and
        all-reduce, and returned."""
        weighted = [(0.0 if self.loss_net1 is None else self.loss_net1) * share, self.loss_net2 * share, self.correct, self.pool2_norms]
        *others, loss_net1, self.loss_net2, self.correct, self.pool2_norms = replicas.sum(list(others) + weighted)
        self.loss_net1 = None if self.loss_net1 is None else loss_net1
        self.total = total
        return others

    def result(self, **extra):
        return dict(loss_net1=self.loss_net1, loss_net2=self.loss_net2, train_acc=self.correct / self.total,
                    pool2_norm=self.pool2_norms / self.total, net2_seconds=self.net2_seconds, **extra)


class SplitRun:
    """net1's side of a split run: trunk (input … cut), dual (net1's conv3), their
    optimizer and learning-rate schedule (None for the frozen control), the mode, the link
    to net2, the schedule of an iteration (``admm.pipeline.Schedule``), and in the hybrid
    this rank's ``admm.replicas.Replicas`` (None: one replica)."""

    def __init__(self, trunk, dual, optimizer, mode, link, lr_schedule=None, pipeline=None, replicas=None):
        self.trunk, self.dual, self.optimizer, self.mode, self.link = trunk, dual, optimizer, mode, link
        self.lr_schedule, self.name = lr_schedule, mode.name
        self.pipeline = pipeline or Schedule()
        self.replicas = replicas

    def step(self, x, y):
        """One iteration: (1) net1 forward to the cut, (2) net2's step, (3) net1's step;
        over M micro-batches in the order of ``self.pipeline`` (see ``admm.pipeline``); in the
        hybrid, on this replica's slice of the global batch (x, y)."""
        clock = _Clock()
        share, everyone = 1.0, len(x)
        if self.replicas is not None:
            mine = self.replicas.shard(everyone)
            share = (mine.stop - mine.start) / everyone
            x, y = x[mine], y[mine]
        _, index = _labels_of(y)
        total = len(x)
        parts = self.pipeline.parts(total)
        if self.mode.trains_net1:
            self.optimizer.zero_grad()
        held, tally = collections.deque(), _Tally(total)
        courier = self.pipeline.courier(self.link, len(parts))

        def forward(part):                                  # (1) net1 forward to the cut, sent to net2
            p = self.trunk(x[part])
            held.append((p, self.dual(p) if self.mode.uses_dual else None, part))
            clock.around(courier.post, Message("train", {"pool2": p.array, "index": index[part]},
                                               {"batch": total, "first": part.start == 0,
                                                "last": part.stop == total, "share": share}))

        with courier:
            forward(parts[0])
            for following in parts[1:] + [None]:
                if following is not None and self.pipeline.overlap:
                    forward(following)                      # net1 runs ahead while net2 works
                reply = clock.around(courier.take)          # (2) net2's step on the oldest part
                p, x3, part = held.popleft()
                loss = None
                if self.mode.trains_net1:                   # (3) net1's backward, accumulated
                    loss = self.mode.update(p, x3, reply.arrays, index[part], (part.stop - part.start) / total)
                tally.add(reply.values, loss, p.array)
                if following is not None and not self.pipeline.overlap:
                    forward(following)
        combined = False

        def combine(sums):  # the residual's sums ride with the tally's: one read, one all-reduce
            nonlocal combined
            combined = True
            return tally.combine(self.replicas, share, everyone, sums)
        if self.mode.trains_net1:
            self.mode.finish(combine if self.replicas is not None else None)
            if self.replicas is not None:
                self.replicas.combine_gradients(self.optimizer, share)
            _update(self.optimizer, self.lr_schedule)
        if self.replicas is not None and not combined:  # a mode without a residual
            tally.combine(self.replicas, share, everyone)
        stats = tally.result(residual=self.mode.residual, net1_seconds=clock.outside())
        if hasattr(self.mode, "beta"):
            stats["beta"] = self.mode.beta
        return stats

    def evaluate(self, loader):
        """Test accuracy of net2(trunk(x)) and the agreement of the dual layers:
        consensus_rel_error = ‖conv3 − conv3′‖ / ‖conv3‖ over the whole set."""
        # sums of 0-d arrays where they are computed (a GPU's: read once, at the end)
        correct = loss = seen = 0.0
        difference = energy = conv3_norms = pool2_norms = 0.0
        self.trunk.eval()
        self.dual.eval()
        with no_grad():
            for x, y in loader:
                _, index = _labels_of(y)
                p = self.trunk(x)
                x3 = self.dual(p).array
                reply = self.link.call(Message("eval", {"pool2": p.array, "index": index}))
                y3 = reply.arrays["conv3"]
                correct += reply.values["correct"]
                loss += reply.values["loss_sum"]
                seen += len(x)
                difference += (_sample_norms(x3 - y3) ** 2).sum()
                energy += (_sample_norms(x3) ** 2).sum()
                conv3_norms += _sample_norms(x3).sum()
                pool2_norms += _sample_norms(p.array).sum()
        self.trunk.train()
        self.dual.train()
        correct, loss, difference, energy, conv3_norms, pool2_norms = backend.read_numbers(
            [correct, loss, difference, energy, conv3_norms, pool2_norms])
        return {"test_acc": correct / seen, "test_loss": loss / seen,
                "consensus_rel_error": (difference / max(energy, 1e-30)) ** 0.5,
                "conv3_norm": conv3_norms / seen, "test_pool2_norm": pool2_norms / seen}

    def save(self, prefix):
        state = {"trunk": dict(self.trunk.state_dict()), "dual": dict(self.dual.state_dict())}
        if self.optimizer is not None:
            state.update(_optimizer_state(self.optimizer, self.lr_schedule))
        paths = [save_checkpoint(f"{prefix}_net1.npz", state)]
        paths.append(self.link.call(Message("save", values={"path": f"{prefix}_net2.npz"})).values["path"])
        return paths


class SingleRun:
    """The unsplit network trained by backprop: the baseline."""
    name = "single"

    def __init__(self, model, optimizer, lr_schedule=None):
        self.model, self.optimizer, self.lr_schedule = model, optimizer, lr_schedule

    def step(self, x, y):
        labels, _ = _labels_of(y)
        logits = self.model(x)
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad()
        loss.backward()
        _update(self.optimizer, self.lr_schedule)
        return {"loss_net2": _as_float64(loss), "train_acc": (logits.array.argmax(axis=1) == labels).mean()}

    def evaluate(self, loader):
        correct = loss = seen = 0.0
        self.model.eval()
        with no_grad():
            for x, y in loader:
                labels, _ = _labels_of(y)
                logits = self.model(x)
                loss += _as_float64(F.cross_entropy(logits, labels, reduction="sum"))
                correct += (logits.array.argmax(axis=1) == labels).sum()
                seen += len(x)
        self.model.train()
        correct, loss = backend.read_numbers([correct, loss])  # one read, at the end
        return {"test_acc": correct / seen, "test_loss": loss / seen}

    def save(self, prefix):
        return [save_checkpoint(f"{prefix}.npz", dict(_optimizer_state(self.optimizer, self.lr_schedule),
                                                      model=dict(self.model.state_dict())))]
