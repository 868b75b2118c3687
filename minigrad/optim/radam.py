"""RAdam: Adam whose adaptive step is switched on only once the variance of its
second-moment estimate is tractable, and then scaled by a rectification term r_t; before
that it is SGD with momentum (Liu et al., "On the Variance of the Adaptive Learning Rate
and Beyond", ICLR 2020, Algorithm 2). ``torch.optim.RAdam``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    if weight_decay λ ≠ 0:  θ_t ← θ_{t−1} − γ λ θ_{t−1}   if decoupled_weight_decay
                            g_t ← g_t + λ θ_{t−1}          otherwise
    ρ_∞ ← 2 / (1−β₂) − 1
    m_t ← β₁ m_{t−1} + (1−β₁) g_t
    v_t ← β₂ v_{t−1} + (1−β₂) g_t²
    m̂_t ← m_t / (1−β₁ᵗ)
    ρ_t ← ρ_∞ − 2 t β₂ᵗ / (1−β₂ᵗ)
    if ρ_t > 5:  l_t ← √(1−β₂ᵗ) / (√v_t + ε)
                 r_t ← √((ρ_t−4)(ρ_t−2) ρ_∞ / ((ρ_∞−4)(ρ_∞−2) ρ_t))
                 θ_t ← θ_t − γ m̂_t r_t l_t
    else:        θ_t ← θ_t − γ m̂_t
"""
import math

from minigrad import backend
from minigrad.optim.adam import Adam, _pair, moments, step_and_decay


class RAdam(Adam):
    """RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
    *, maximize=False)."""
    state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        super(Adam, self).__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps, weight_decay=weight_decay,
                                                decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        t, g = step_and_decay(theta, g, state, group, group["decoupled_weight_decay"])
        m, v = moments(theta, g, state, beta1, beta2)
        m_hat = m / (1 - beta1 ** t)                 # m̂_t
        bias_correction2 = 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1                # ρ_∞
        rho = rho_inf - 2 * t * beta2 ** t / bias_correction2   # ρ_t
        if rho > 5:  # the variance is tractable: the rectified adaptive step
            rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))  # r_t
            adaptive = math.sqrt(bias_correction2) / (xp.sqrt(v) + group["eps"])                      # l_t
            theta -= m_hat * lr * adaptive * rect
        else:        # not yet: SGD with (bias-corrected) momentum
            theta -= m_hat * lr
