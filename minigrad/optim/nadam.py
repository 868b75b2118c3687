"""NAdam: Adam with Nesterov momentum — the step uses the momentum of the *next* step
(μ_{t+1} m_t) plus the current gradient's share ((1−μ_t) g_t), each with its own bias
correction, and μ_t warms up over time (Dozat, "Incorporating Nesterov Momentum into Adam",
ICLR 2016 workshop). ``torch.optim.NAdam``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    if weight_decay λ ≠ 0:  θ_t ← θ_{t−1} − γ λ θ_{t−1}   if decoupled_weight_decay
                            g_t ← g_t + λ θ_{t−1}          otherwise
    μ_t ← β₁ (1 − ½ · 0.96^(t ψ)),   μ_{t+1} ← β₁ (1 − ½ · 0.96^((t+1) ψ))   (ψ: momentum_decay)
    m_t ← β₁ m_{t−1} + (1−β₁) g_t
    v_t ← β₂ v_{t−1} + (1−β₂) g_t²
    m̂_t ← μ_{t+1} m_t / (1 − Π_{i≤t+1} μ_i) + (1−μ_t) g_t / (1 − Π_{i≤t} μ_i)
    v̂_t ← v_t / (1−β₂ᵗ)
    θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)
"""
import math

from minigrad import backend
from minigrad.optim.adam import Adam, _pair, moments, step_and_decay


class NAdam(Adam):
    """NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, maximize=False). Π μ_i is kept as ``mu_product``."""
    state_names = ("step", "mu_product", "exp_avg", "exp_avg_sq")
    scalar_state = ("step", "mu_product")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        super(Adam, self).__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps, weight_decay=weight_decay,
                                                momentum_decay=momentum_decay,
                                                decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _check_hyperparameters(self, group, where):
        super()._check_hyperparameters(group, where)
        self._require(group["momentum_decay"] >= 0, "momentum_decay", group["momentum_decay"],
                      "momentum_decay >= 0", where)

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        t, g = step_and_decay(theta, g, state, group, group["decoupled_weight_decay"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * group["momentum_decay"]))           # μ_t
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))  # μ_{t+1}
        state["mu_product"] = mu_product = state.get("mu_product", 1.0) * mu   # Π_{i≤t} μ_i
        m, v = moments(theta, g, state, beta1, beta2)
        denominator = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + group["eps"]   # √v̂_t + ε
        theta -= (lr * (1 - mu) / (1 - mu_product)) * g / denominator          # the gradient's share
        theta -= (lr * mu_next / (1 - mu_product * mu_next)) * m / denominator  # the next momentum's
