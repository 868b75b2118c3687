"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum, L2 weight
decay and maximize: ``torch.optim.SGD``'s algorithm, line for line.

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    g_t ← g_t + λ θ_{t−1}                       if weight_decay λ ≠ 0
    b_t ← g_t                    at t = 1       if momentum μ ≠ 0
    b_t ← μ b_{t−1} + (1−τ) g_t  at t > 1       (τ = dampening)
    g_t ← g_t + μ b_t  (nesterov)   or   g_t ← b_t
    θ_t ← θ_{t−1} − γ g_t

The lecture notes' momentum ``V ← βV + (1−β)∇W, W ← W − αV`` is this with μ = τ = β
(except that PyTorch starts the buffer at the first gradient, not at (1−β)∇W).
"""
from minigrad import backend
from minigrad.optim.optimizer import Optimizer, regularized_grad


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False). Defaults as in PyTorch 2.13 (whose SGD ``lr`` default is 1e-3)."""
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_hyperparameters(self, group, where):
        self._require(group["lr"] >= 0, "lr", group["lr"], "lr >= 0", where)
        self._require(group["momentum"] >= 0, "momentum", group["momentum"], "momentum >= 0", where)
        self._require(group["weight_decay"] >= 0, "weight_decay", group["weight_decay"],
                      "weight_decay >= 0", where)
        if group["nesterov"]:
            self._require(group["momentum"] > 0, "momentum", group["momentum"],
                          "momentum > 0 with nesterov=True", where)
            self._require(group["dampening"] == 0, "dampening", group["dampening"],
                          "dampening = 0 with nesterov=True", where)

    def _update(self, theta, g, state, group):
        mu, tau = group["momentum"], group["dampening"]
        g = regularized_grad(theta, g, group["maximize"], group["weight_decay"])
        if mu != 0:
            b = state.get("momentum_buffer")
            if b is None:
                # b_1 = g_1, as a fresh array (NumPy turns 0-d results into scalars)
                b = state["momentum_buffer"] = backend.xp(theta).array(g, dtype=theta.dtype)
            else:
                b *= mu                                   # b_t = μ b_{t−1} + (1−τ) g_t
                b += (1 - tau) * g
            g = g + mu * b if group["nesterov"] else b    # g_t = g_t + μ b_t  or  b_t
        theta -= group["lr"] * g                          # θ_t = θ_{t−1} − γ g_t
