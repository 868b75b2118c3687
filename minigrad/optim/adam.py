"""Adam: momentum on the gradient (m) divided by the root of a running average of its
square (v), both bias-corrected for their start at zero; optionally AMSGrad (divide by
the largest v seen so far). AdamW is the same with the weight decay taken out of the
gradient and applied to the parameter directly ("decoupled"). ``torch.optim.Adam`` /
``torch.optim.AdamW``'s algorithm:

    g_t ← ∇f(θ_{t−1})   (−∇f when maximize)
    Adam:   g_t ← g_t + λ θ_{t−1}               if weight_decay λ ≠ 0
    AdamW:  θ_t ← θ_{t−1} − γ λ θ_{t−1}
    m_t ← β₁ m_{t−1} + (1−β₁) g_t
    v_t ← β₂ v_{t−1} + (1−β₂) g_t²
    m̂_t ← m_t / (1−β₁ᵗ)
    v̂_t ← v_t / (1−β₂ᵗ),   or with amsgrad:  v^max_t ← max(v^max_{t−1}, v_t),  v̂_t ← v^max_t / (1−β₂ᵗ)
    θ_t ← θ_t − γ m̂_t / (√v̂_t + ε)
"""
import math

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, buffer, regularized_grad


def _pair(betas):
    return tuple(betas) if isinstance(betas, (list, tuple)) else betas


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False). ``weight_decay`` is the L2 penalty added to the gradient."""
    state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled_weight_decay = False  # AdamW sets it: decay θ directly, not through g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_pair(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check_hyperparameters(self, group, where):
        for name in ("lr", "eps", "weight_decay"):
            self._require(group[name] >= 0, name, group[name], f"{name} >= 0", where)
        betas = group["betas"]
        self._require(isinstance(betas, tuple) and len(betas) == 2, "betas", betas,
                      "a pair (beta1, beta2)", where)
        for i, beta in enumerate(betas):
            self._require(0 <= beta < 1, f"betas[{i}]", beta, f"0 <= betas[{i}] < 1", where)

    def _update(self, theta, g, state, group):
        xp = backend.xp(theta)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        t, g = step_and_decay(theta, g, state, group, self.decoupled_weight_decay)
        m, v = moments(theta, g, state, beta1, beta2)
        if group["amsgrad"]:
            v_max = buffer(state, "max_exp_avg_sq", theta)
            xp.maximum(v_max, v, out=v_max)           # v^max_t = max(v^max_{t−1}, v_t)
            v = v_max
        bias_correction1 = 1 - beta1 ** t             # m̂_t = m_t / (1−β₁ᵗ)
        bias_correction2 = 1 - beta2 ** t             # v̂_t = v_t / (1−β₂ᵗ)
        denominator = xp.sqrt(v) / math.sqrt(bias_correction2) + group["eps"]  # √v̂_t + ε
        theta -= (lr / bias_correction1) * m / denominator         # θ_t −= γ m̂_t / (√v̂_t + ε)


def step_and_decay(theta, g, state, group, decoupled):
    """The Adam family's first steps: count the step t, apply weight decay λ — decoupled
    (AdamW, Loshchilov & Hutter 2019: the parameter shrinks) or added to the gradient —
    and return (t, g_t)."""
    state["step"] = t = state.get("step", 0) + 1
    weight_decay = group["weight_decay"]
    if decoupled:
        theta *= 1 - group["lr"] * weight_decay       # θ_t = θ_{t−1} − γ λ θ_{t−1}
        weight_decay = 0
    return t, regularized_grad(theta, g, group["maximize"], weight_decay)


def moments(theta, g, state, beta1, beta2):
    """The running moments every Adam variant keeps, updated in place and returned (m, v)."""
    m, v = buffer(state, "exp_avg", theta), buffer(state, "exp_avg_sq", theta)
    m *= beta1                                        # m_t = β₁ m_{t−1} + (1−β₁) g_t
    m += (1 - beta1) * g
    v *= beta2                                        # v_t = β₂ v_{t−1} + (1−β₂) g_t²
    v += (1 - beta2) * g * g
    return m, v


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
    *, maximize=False): Adam with decoupled weight decay, θ ← θ − γλθ before the Adam step."""
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
