"""The two sides of a split run, and the unsplit baseline, behind one interface:

    run.step(x, y)        -> dict of per-iteration numbers (losses, accuracy, norms);
                             y is int64 (N, 2): each sample's label and index
    run.evaluate(loader)  -> dict of test numbers (accuracy, loss, consensus, norms)
    run.save(prefix)      -> checkpoint files written

``Net2`` is net2's side: the head (conv3′ …), its optimizer and the labels. It answers
messages (``handle``), so the same object serves in-process or on its own MPI rank.
``SplitRun`` is net1's side: the trunk, the dual layer, their optimizer; it drives
the iteration through a transport. ``SingleRun`` is the unsplit network.
"""
import numpy as np

import minigrad.functional as F
from minigrad import backend
from minigrad.checkpoint import save_checkpoint
from minigrad.tensor import Tensor, no_grad
from admm.modes import Net2Step
from admm.transport import Message


def _sample_norms(a):
    """‖aₙ‖ for every sample of a (N, ...) array → (N,)."""
    return backend.xp(a).sqrt((a.reshape(len(a), -1).astype(np.float64) ** 2).sum(axis=1))


def _mean_norm(a):
    return float(_sample_norms(a).mean())


def _labels_of(y):
    """The loaders carry (label, sample index) pairs: y is int64 (N, 2)."""
    return y.data[:, 0], backend.to_numpy(y.data[:, 1])


class Net2:
    """net2's side of a split run. labels: {"train": (N_train,), "test": (N_test,)} int arrays."""

    def __init__(self, head, optimizer, mode, labels, device="cpu"):
        self.head, self.rest = head, head[1:]
        self.optimizer, self.mode, self.labels, self.device = optimizer, mode, labels, device

    def _labels(self, which, index):
        return backend.to_device(self.labels[which][backend.to_numpy(index)], self.device)

    def step(self, p_data, labels):
        """Forward, backward and update of net2 on p against the labels (step 2)."""
        p = Tensor(p_data, requires_grad=self.mode.needs_pool2_grad)
        y = self.head[0](p)
        y.retain_grad()
        logits = self.rest(y)
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad()
        loss.backward()
        n = len(p_data)
        # y.grad is ∂(mean loss)/∂y = ∂ℓₙ/∂yₙ / N: times N gives each sample's own gradient
        step = Net2Step(y.data, y.grad.data * n, p.grad.data if p.grad is not None else None)
        reply = self.mode.reply(step)
        self.optimizer.step()
        correct = float((logits.data.argmax(axis=1) == labels).sum())
        return reply, {"loss_net2": loss.item(), "train_acc": correct / n}

    def evaluate(self, p_data, labels):
        with no_grad():
            self.head.eval()
            y = self.head[0](Tensor._wrap(p_data))
            logits = self.rest(y)
            loss = F.cross_entropy(logits, labels, reduction="sum").item()
            self.head.train()
        return y.data, {"correct": float((logits.data.argmax(axis=1) == labels).sum()), "loss_sum": loss}

    def handle(self, message):
        """Answer one message from net1 (see ``admm.transport``)."""
        if message.kind == "train":
            reply, values = self.step(message.arrays["pool2"], self._labels("train", message.arrays["index"]))
            return Message("trained", reply, values)
        if message.kind == "eval":
            y, values = self.evaluate(message.arrays["pool2"], self._labels("test", message.arrays["index"]))
            return Message("evaluated", {"conv3": y}, values)
        if message.kind == "save":
            path = message.values["path"]
            save_checkpoint(path, {"net2": dict(self.head.state_dict()), "optimizer": self.optimizer.state_dict()})
            return Message("saved", values={"path": path})
        if message.kind == "stop":
            return Message("stopped")
        raise ValueError(f"net2: unknown message kind {message.kind!r}")


class SplitRun:
    """net1's side of a split run: trunk (input … cut), dual (net1's conv3), their
    optimizer (None for the frozen control), the mode, and the link to net2."""

    def __init__(self, trunk, dual, optimizer, mode, link):
        self.trunk, self.dual, self.optimizer, self.mode, self.link = trunk, dual, optimizer, mode, link
        self.name = mode.name

    def step(self, x, y):
        _, index = _labels_of(y)
        p = self.trunk(x)                                          # (1) net1 forward to the cut
        x3 = self.dual(p) if self.mode.uses_dual else None
        reply = self.link.call(Message("train", {"pool2": p.data, "index": index}))   # (2) net2's step
        loss_net1 = None
        if self.mode.trains_net1:                                  # (3) net1's step
            self.optimizer.zero_grad()
            loss_net1 = self.mode.update(p, x3, reply.arrays, index)
            self.optimizer.step()
        stats = dict(reply.values, loss_net1=loss_net1, pool2_norm=_mean_norm(p.data),
                     residual=self.mode.residual)
        if hasattr(self.mode, "beta"):
            stats["beta"] = self.mode.beta
        return stats

    def evaluate(self, loader):
        """Test accuracy of net2(trunk(x)) and the agreement of the dual layers:
        consensus_rel_error = ‖conv3 − conv3′‖ / ‖conv3‖ over the whole set."""
        correct = loss = seen = 0.0
        difference = energy = conv3_norms = pool2_norms = 0.0
        self.trunk.eval()
        self.dual.eval()
        with no_grad():
            for x, y in loader:
                _, index = _labels_of(y)
                p = self.trunk(x)
                x3 = self.dual(p).data
                reply = self.link.call(Message("eval", {"pool2": p.data, "index": index}))
                y3 = reply.arrays["conv3"]
                correct += reply.values["correct"]
                loss += reply.values["loss_sum"]
                seen += len(x)
                difference += float((_sample_norms(x3 - y3) ** 2).sum())
                energy += float((_sample_norms(x3) ** 2).sum())
                conv3_norms += float(_sample_norms(x3).sum())
                pool2_norms += float(_sample_norms(p.data).sum())
        self.trunk.train()
        self.dual.train()
        return {"test_acc": correct / seen, "test_loss": loss / seen,
                "consensus_rel_error": (difference / max(energy, 1e-30)) ** 0.5,
                "conv3_norm": conv3_norms / seen, "test_pool2_norm": pool2_norms / seen}

    def save(self, prefix):
        state = {"trunk": dict(self.trunk.state_dict()), "dual": dict(self.dual.state_dict())}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        paths = [save_checkpoint(f"{prefix}_net1.npz", state)]
        paths.append(self.link.call(Message("save", values={"path": f"{prefix}_net2.npz"})).values["path"])
        return paths


class SingleRun:
    """The unsplit network trained by backprop: the baseline."""
    name = "single"

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer

    def step(self, x, y):
        labels, _ = _labels_of(y)
        logits = self.model(x)
        loss = F.cross_entropy(logits, labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss_net2": loss.item(), "train_acc": float((logits.data.argmax(axis=1) == labels).mean())}

    def evaluate(self, loader):
        correct = loss = seen = 0.0
        self.model.eval()
        with no_grad():
            for x, y in loader:
                labels, _ = _labels_of(y)
                logits = self.model(x)
                loss += F.cross_entropy(logits, labels, reduction="sum").item()
                correct += float((logits.data.argmax(axis=1) == labels).sum())
                seen += len(x)
        self.model.train()
        return {"test_acc": correct / seen, "test_loss": loss / seen}

    def save(self, prefix):
        return [save_checkpoint(f"{prefix}.npz", {"model": dict(self.model.state_dict()),
                                                  "optimizer": self.optimizer.state_dict()})]
