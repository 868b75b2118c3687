"""The training modes of the split network: what net2 sends back after its step, and
what net1 does with it. One class per mode; each has

    reply(step)                   net2's side: the arrays to send to net1, from ``Net2Step``
    update(p, x, reply, index, weight=1)
                                  net1's side: backpropagate into net1, the loss scaled by
                                  ``weight``; returns net1's (scaled) loss, or None
    finish(combine=None)          once per mini-batch, after its last update (net1's optimizer
                                  steps next): the residual and the multiplier step; in the
                                  hybrid ``combine`` sums a list of floats over the replicas,
                                  so the residual is the global batch's

with p = pool2 (net1's output at the cut, in the graph), x = net1's conv3 (the dual
layer applied to p, in the graph; None when ``uses_dual`` is False) and index the
sample indices of the batch. A pipelined mini-batch (``admm.pipeline``) comes as M
micro-batches, each with weight = its share of the mini-batch, so that the gradients
summed over them are the mini-batch's; ``finish`` then closes the iteration as one.
Every iteration is the report's: (1) net1 forward, p sent;
(2) net2 full step on p against the labels; (3) net1 step on what net2 sent back.

  report     the report's algorithm exactly: net2 sends conv3′, net1 minimises the distance
             between its conv3 and conv3′ (eq. 10.2 or 10.3). No label reaches net1: collapses.
  admm       net2 moves its conv3′ activations y to lower its loss, z = y − η ∂ℓₙ/∂yₙ (the
             z-step), and sends z; net1 minimises the augmented Lagrangian λᵀ(x − z) +
             (β/2)‖x − z‖² (the x-step), then λ ← λ + β(x − z). With λ = 0 the gradient in x
             is β(x − y) + βη ∂ℓₙ/∂yₙ: a pull towards conv3′ plus backprop scaled by βη.
  decoupled  net2 sends ∂ℓ/∂pool2 and net1 backpropagates it: exact backprop in two halves.
  frozen     the control: net2 learns on pool2, net1 stays at its random initialisation.
"""
import numpy as np

from minigrad import backend
from admm.losses import REPORT_LOSSES, augmented_lagrangian


class Net2Step:
    """What net2's step computed, all taken *before* net2's update (evaluating the
    gradients after it makes high learning rates unstable, ADMM.md):
    conv3 = y = conv3′(p) (N, ...), conv3_grad = ∂ℓₙ/∂yₙ per sample (N, ...),
    pool2_grad = ∂(mean loss)/∂p (N, ...) or None when not asked for."""
    __slots__ = ("conv3", "conv3_grad", "pool2_grad")

    def __init__(self, conv3, conv3_grad, pool2_grad):
        self.conv3, self.conv3_grad, self.pool2_grad = conv3, conv3_grad, pool2_grad


class Residual:
    """‖r‖ / ‖x‖ over a whole mini-batch (the primal residual of ADMM, relative), summed
    over its micro-batches: ``add(r, x)`` for each, ``close()`` once → the value; ``close(combine)``
    sums ‖r‖² and ‖x‖² over the replicas first (``admm.replicas.Replicas.sum``)."""

    def __init__(self):
        self.r2 = self.x2 = 0.0

    def add(self, r, x):
        # summed in float64 where r and x are (a GPU's: not read), as Python floats would be
        xp = backend.xp(x)
        self.r2 += xp.vdot(r, r).astype(np.float64)
        self.x2 += xp.vdot(x, x).astype(np.float64)

    def close(self, combine=None):
        r2, x2 = (self.r2, self.x2) if combine is None else combine([self.r2, self.x2])
        xp = backend.xp(x2)
        value, self.r2, self.x2 = xp.sqrt(r2 / xp.maximum(x2, 1e-60)), 0.0, 0.0
        return value


class Report:
    """The report's algorithm: net1's only objective is to agree with conv3′. Its two
    networks were initialised separately, so the dual layers start apart (dual="fresh")."""
    name, uses_dual, trains_net1, needs_pool2_grad = "report", True, True, False
    dual = "fresh"

    def __init__(self, loss="10.2"):
        if loss not in REPORT_LOSSES:
            raise ValueError(f"report mode: loss must be one of {sorted(REPORT_LOSSES)} (the report's "
                             f"equation numbers), got {loss!r}")
        self.loss = loss
        self.residual, self._residual = float("nan"), Residual()

    def describe(self):
        return {"mode": self.name, "report_loss": self.loss}

    def reply(self, step):
        return {"conv3": step.conv3}

    def update(self, p, x, reply, index, weight=1.0):
        y = reply["conv3"]
        loss = REPORT_LOSSES[self.loss](x, type(x)._wrap(y)) * weight  # eq. (10.2) or (10.3)
        loss.backward()
        self._residual.add(x.array - y, x.array)
        return loss.array.astype(np.float64)  # read with the iteration's numbers

    def finish(self, combine=None):
        self.residual = self._residual.close(combine)


class ADMM:
    """ADMM on the consensus constraint conv3(p) = conv3′(p) (see the module docstring).

    beta: the penalty β of eq. (5.5). eta: the z-step's size η (only βη matters for the
    label signal). β also sets the stiffness of the pull β(x − y) between the dual layers:
    with SGD at learning rate γ it must stay well below 2(1 + μ)/(γ·λmax) with momentum μ,
    2(1 + μ)/((1 + 2μ)·γ·λmax) with Nesterov's (the demo's default), λmax
    the largest eigenvalue of the dual layer's input covariance, or the two copies drift
    apart exponentially. λmax grows with ‖pool2‖² as training goes on (docs/admm.md:
    at γ = 0.05, β = 1 diverges after 8 iterations, β = 0.1 after 20, β = 0.01 tracks).
    multiplier: "none" (λ = 0), "sample" (one λₙ per training sample, kept across epochs)
    or "feature" (one λ shared by all samples). beta_growth, beta_every,
    beta_max: the schedule β ← growth·β every ``beta_every`` iterations (0: never),
    capped at ``beta_max``, as dlADMM caps ρ.
    """
    name, uses_dual, trains_net1, needs_pool2_grad = "admm", True, True, False
    dual = "copy"
    MULTIPLIERS = ("none", "sample", "feature")

    def __init__(self, beta=0.001, eta=1000.0, multiplier="none", beta_growth=10.0, beta_every=0,
                 beta_max=1.0, train_size=None):
        problems = []
        if not beta > 0:
            problems.append(f"beta must be > 0, got {beta}")
        if not eta > 0:
            problems.append(f"eta must be > 0, got {eta}")
        if multiplier not in self.MULTIPLIERS:
            problems.append(f"multiplier must be one of {self.MULTIPLIERS}, got {multiplier!r}")
        if not beta_growth >= 1:
            problems.append(f"beta_growth must be >= 1, got {beta_growth}")
        if not (isinstance(beta_every, int) and beta_every >= 0):
            problems.append(f"beta_every must be a non-negative int (0: no schedule), got {beta_every!r}")
        if not beta_max >= beta:
            problems.append(f"beta_max must be >= beta ({beta}), got {beta_max}")
        if multiplier == "sample" and not train_size:
            problems.append("multiplier='sample' needs train_size (one λ per training sample)")
        if problems:
            raise ValueError("admm mode: " + "; ".join(problems))
        self.beta0, self.eta, self.multiplier = float(beta), float(eta), multiplier
        self.beta_growth, self.beta_every, self.beta_max = float(beta_growth), beta_every, float(beta_max)
        self.train_size = train_size
        self.iteration, self.lam, self._feature_step = 0, None, None
        self.residual, self._residual = float("nan"), Residual()

    def describe(self):
        return {"mode": self.name, "beta": self.beta0, "eta": self.eta, "multiplier": self.multiplier,
                "beta_growth": self.beta_growth, "beta_every": self.beta_every, "beta_max": self.beta_max}

    @property
    def beta(self):
        """β at the current iteration: β₀·growth^⌊t/every⌋, capped at beta_max."""
        if self.beta_every == 0:
            return self.beta0
        return min(self.beta0 * self.beta_growth ** (self.iteration // self.beta_every), self.beta_max)

    def reply(self, step):
        # the z-step: one gradient step of net2's own loss, from its conv3′ activations
        return {"target": step.conv3 - self.eta * step.conv3_grad}

    def _multiplier(self, x, index):
        """The λ this batch sees (None when λ = 0), created at 0 on first use."""
        if self.multiplier == "none":
            return None
        xp = backend.xp(x.array)
        if self.lam is None:
            shape = (self.train_size,) + x.shape[1:] if self.multiplier == "sample" else x.shape[1:]
            self.lam = xp.zeros(shape, dtype=x.dtype)
        return self.lam[xp.asarray(index)] if self.multiplier == "sample" else self.lam

    def update(self, p, x, reply, index, weight=1.0):
        z = reply["target"]
        beta, lam = self.beta, self._multiplier(x, index)
        loss = augmented_lagrangian(x, type(x)._wrap(z), lam, beta) * weight   # the x-step of eq. (5.5)
        loss.backward()
        r = x.array - z
        self._residual.add(r, x.array)
        # the multiplier step λ ← λ + β(x − z), with the residual before net1's update: a
        # sample's λₙ is its own (no other micro-batch reads it), the shared one waits for finish
        if self.multiplier == "sample":
            self.lam[backend.xp(r).asarray(index)] = lam + beta * r
        elif self.multiplier == "feature":
            part = beta * weight * r.mean(axis=0)   # weight · mean over the part = its share of the batch mean
            self._feature_step = part if self._feature_step is None else self._feature_step + part
        return loss.array.astype(np.float64)  # read with the iteration's numbers

    def finish(self, combine=None):
        if self._feature_step is not None:
            self.lam += self._feature_step
            self._feature_step = None
        self.residual = self._residual.close(combine)
        self.iteration += 1


class Decoupled:
    """Exact backprop split in two: net1 backpropagates ∂ℓ/∂pool2 received from net2."""
    name, uses_dual, trains_net1, needs_pool2_grad = "decoupled", False, True, True
    dual = "copy"
    residual = float("nan")

    def describe(self):
        return {"mode": self.name}

    def reply(self, step):
        return {"pool2_grad": step.pool2_grad}

    def update(self, p, x, reply, index, weight=1.0):
        # net2 already scaled ∂ℓ/∂pool2 by the micro-batch's weight (its loss was weighted)
        p.backward(type(p)._wrap(reply["pool2_grad"]))
        return None

    def finish(self, combine=None):
        pass


class Frozen:
    """The control: net1 keeps its random initialisation, only net2 learns."""
    name, uses_dual, trains_net1, needs_pool2_grad = "frozen", False, False, False
    dual = "copy"
    residual = float("nan")

    def describe(self):
        return {"mode": self.name}

    def reply(self, step):
        return {}

    def update(self, p, x, reply, index, weight=1.0):
        return None

    def finish(self, combine=None):
        pass


MODES = {"report": Report, "admm": ADMM, "decoupled": Decoupled, "frozen": Frozen}
