"""RMSprop: divide the step by a running root-mean-square of the gradient. Optionally
centered (divide by an estimate of the gradient's standard deviation instead) and with a
momentum buffer. ``torch.optim.RMSprop``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    g_t ← g_t + λ θ_{t−1}                       if weight_decay λ ≠ 0
    v_t ← α v_{t−1} + (1−α) g_t²
    ṽ_t ← v_t
    if centered:  g^ave_t ← α g^ave_{t−1} + (1−α) g_t;   ṽ_t ← ṽ_t − (g^ave_t)²
    if μ > 0:     b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε);   θ_t ← θ_{t−1} − γ b_t
    else:         θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)

(ε is added after the square root, as in PyTorch; TensorFlow adds it inside.)
"""
from minigrad import backend
from minigrad.optim.optimizer import Optimizer, buffer, regularized_grad


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False)."""
    state_names = ("step", "square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_hyperparameters(self, group, where):
        for name in ("lr", "eps", "weight_decay", "momentum"):
            self._require(group[name] >= 0, name, group[name], f"{name} >= 0", where)
        self._require(0 <= group["alpha"] <= 1, "alpha", group["alpha"], "0 <= alpha <= 1", where)

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        alpha, mu = group["alpha"], group["momentum"]
        state["step"] = state.get("step", 0) + 1
        g = regularized_grad(theta, g, group["maximize"], group["weight_decay"])
        v = buffer(state, "square_avg", theta)
        v *= alpha                                  # v_t = α v_{t−1} + (1−α) g_t²
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_ave = buffer(state, "grad_avg", theta)
            g_ave *= alpha                          # g^ave_t = α g^ave_{t−1} + (1−α) g_t
            g_ave += (1 - alpha) * g
            v = v - g_ave * g_ave                   # ṽ_t = v_t − (g^ave_t)²
        denominator = xp.sqrt(v) + group["eps"]     # √ṽ_t + ε
        if mu > 0:
            b = buffer(state, "momentum_buffer", theta)
            b *= mu                                 # b_t = μ b_{t−1} + g_t / (√ṽ_t + ε)
            b += g / denominator
            theta -= group["lr"] * b                # θ_t = θ_{t−1} − γ b_t
        else:
            theta -= group["lr"] * g / denominator  # θ_t = θ_{t−1} − γ g_t / (√ṽ_t + ε)
