"""Adamax: Adam with the root of the squared-gradient average replaced by an infinity
norm, a running maximum of |g| that decays by β₂ (Kingma & Ba, "Adam: A Method for
Stochastic Optimization", 2015, §7.1). ``torch.optim.Adamax``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    g_t ← g_t + λ θ_{t−1}                       if weight_decay λ ≠ 0
    m_t ← β₁ m_{t−1} + (1−β₁) g_t
    u_t ← max(β₂ u_{t−1}, |g_t| + ε)
    θ_t ← θ_{t−1} − γ m_t / ((1−β₁ᵗ) u_t)

(ε inside the max, as in PyTorch: u never reaches 0, so the division is always defined.)
"""
from minigrad import backend
from minigrad.optim.adam import Adam, _pair
from minigrad.optim.optimizer import buffer, regularized_grad


class Adamax(Adam):
    """Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False).
    Adam's hyperparameter checks; its own update."""
    state_names = ("step", "exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *, maximize=False):
        super(Adam, self).__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps, weight_decay=weight_decay,
                                                maximize=maximize))

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        beta1, beta2 = group["betas"]
        state["step"] = state.get("step", 0) + 1
        g = regularized_grad(theta, g, group["maximize"], group["weight_decay"])
        m, u = buffer(state, "exp_avg", theta), buffer(state, "exp_inf", theta)
        m *= beta1                                   # m_t = β₁ m_{t−1} + (1−β₁) g_t
        m += (1 - beta1) * g
        u *= beta2                                   # u_t = max(β₂ u_{t−1}, |g_t| + ε)
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        theta -= (group["lr"] / (1 - beta1 ** state["step"])) * m / u   # θ_t −= γ m_t / ((1−β₁ᵗ) u_t)
