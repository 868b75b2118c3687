"""Adagrad: each coordinate's step is divided by the root of its summed squared
gradients, so often-large gradients get small steps. ``torch.optim.Adagrad``'s algorithm:

    state_sum_0 ← τ (initial_accumulator_value)
    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    γ̃ ← γ / (1 + (t−1) η)                       (η = lr_decay)
    g_t ← g_t + λ θ_{t−1}                       if weight_decay λ ≠ 0
    state_sum_t ← state_sum_{t−1} + g_t²
    θ_t ← θ_{t−1} − γ̃ g_t / (√state_sum_t + ε)
"""
from minigrad import backend
from minigrad.optim.optimizer import Optimizer, regularized_grad


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)."""
    state_names = ("step", "sum")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_hyperparameters(self, group, where):
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._require(group[name] >= 0, name, group[name], f"{name} >= 0", where)

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        if "sum" not in state:  # state_sum_0 = τ
            state["sum"] = xp.full_like(theta, group["initial_accumulator_value"])
        t = state["step"] = state.get("step", 0) + 1
        g = regularized_grad(theta, g, group["maximize"], group["weight_decay"])
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])  # γ̃ = γ / (1 + (t−1) η)
        state["sum"] += g * g                                  # state_sum_t += g_t²
        theta -= lr * g / (xp.sqrt(state["sum"]) + group["eps"])
