"""Adadelta: the step's size comes from running averages of squared gradients (v) and of
squared past steps (u), so it carries the parameter's units and needs no tuned lr (the
default lr=1.0 only scales the result). ``torch.optim.Adadelta``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    g_t ← g_t + λ θ_{t−1}                       if weight_decay λ ≠ 0
    v_t ← ρ v_{t−1} + (1−ρ) g_t²
    Δx_t ← √(u_{t−1} + ε) / √(v_t + ε) · g_t
    u_t ← ρ u_{t−1} + (1−ρ) Δx_t²
    θ_t ← θ_{t−1} − γ Δx_t
"""
from minigrad import backend
from minigrad.optim.optimizer import Optimizer, buffer, regularized_grad


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)."""
    state_names = ("step", "square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_hyperparameters(self, group, where):
        for name in ("lr", "eps", "weight_decay"):
            self._require(group[name] >= 0, name, group[name], f"{name} >= 0", where)
        self._require(0 <= group["rho"] <= 1, "rho", group["rho"], "0 <= rho <= 1", where)

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        rho, eps = group["rho"], group["eps"]
        state["step"] = state.get("step", 0) + 1
        g = regularized_grad(theta, g, group["maximize"], group["weight_decay"])
        v, u = buffer(state, "square_avg", theta), buffer(state, "acc_delta", theta)
        v *= rho                                           # v_t = ρ v_{t−1} + (1−ρ) g_t²
        v += (1 - rho) * g * g
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g    # Δx_t = √(u_{t−1}+ε)/√(v_t+ε) g_t
        u *= rho                                           # u_t = ρ u_{t−1} + (1−ρ) Δx_t²
        u += (1 - rho) * delta * delta
        theta -= group["lr"] * delta                       # θ_t = θ_{t−1} − γ Δx_t
