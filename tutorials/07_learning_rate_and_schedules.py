# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 07 · Learning rates: schedules and gradient clipping
#
# The learning rate is the one hyperparameter every optimizer has, and rarely the
# right constant: large early (to move), small late (to settle). This lesson
#
# 1. draws every schedule in `minigrad/optim/lr_scheduler.py` — step decay, the
#    1/(C+t) and 1/√t (Goodfellow, Bengio & Courville, *Deep Learning*, 2016, §8.3.1: the decays under which SGD's iterates converge, Robbins & Monro 1951:
#    Σ lr_t = ∞ and Σ lr_t² < ∞), cosine (Loshchilov & Hutter, SGDR, ICLR 2017),
#    linear warm-up, reduce-on-plateau — and
#    checks each against its formula;
# 2. shows *why* the rate must decay for stochastic gradients: with a constant rate
#    SGD stalls at a noise floor, with 1/(C+t) it keeps closing in;
# 3. shows what gradient clipping (`minigrad/optim/clip.py`) is for: a "cliff" in the
#    loss where one unclipped step throws the weights far away.
#
# Schedules are used as in PyTorch: make the schedule after the optimizer, then call
# `optimizer.step()` and `scheduler.step()` (once per epoch, or once per iteration).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as S
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"

# %% [markdown]
# ## Every schedule, against its formula
#
# lr₀ = 0.1, T = 60 epochs. The closed forms (t counts the `step()` calls):
#
# | schedule | lr_t |
# |---|---|
# | `StepLR(step_size=s, gamma=γ)` | lr₀ · γ^⌊t/s⌋ |
# | `InverseTimeLR(C)` | lr₀ · C / (C + t) — the notes' 1/(C+t), scaled to start at lr₀ |
# | `InverseSqrtLR(C)` | lr₀ / √(1 + t/C) — ≈ lr₀ √C / √t once t ≫ C |
# | `CosineAnnealingLR(T_max, eta_min)` | η_min + (lr₀ − η_min)(1 + cos(π t / T_max)) / 2 |
# | `LinearWarmup(W, start_factor=s, after=…)` | lr₀ (s + (1 − s) t/W) for t < W, then `after` from its own t = 0 |

# %%
LR0, T = 0.1, 60


def optimizer():
    return optim.SGD([mg.tensor(np.zeros(1), requires_grad=True)], lr=LR0)


def rates(scheduler, metrics=None):
    """The rate of each of the T epochs: the rate in use, then one scheduler step."""
    out = []
    for t in range(T):
        out.append(scheduler.optimizer.param_groups[0]["lr"])
        scheduler.step() if metrics is None else scheduler.step(metrics[t])
    return np.array(out)


t = np.arange(T)
closed_forms = {
    "StepLR(step_size=15, γ=0.5)": (S.StepLR(optimizer(), step_size=15, gamma=0.5),
                                    LR0 * 0.5 ** (t // 15)),
    "InverseTimeLR(C=10): 1/(C+t)": (S.InverseTimeLR(optimizer(), C=10), LR0 * 10 / (10 + t)),
    "InverseSqrtLR(C=5): 1/√t": (S.InverseSqrtLR(optimizer(), C=5), LR0 / np.sqrt(1 + t / 5)),
    "CosineAnnealingLR(T_max=60)": (S.CosineAnnealingLR(optimizer(), T_max=T),
                                    LR0 * (1 + np.cos(np.pi * t / T)) / 2),
}
warm = optimizer()
warmup = S.LinearWarmup(warm, 10, start_factor=0.1, after=S.CosineAnnealingLR(warm, T_max=T - 10))
closed_forms["LinearWarmup(10) then cosine"] = (
    warmup, np.where(t < 10, LR0 * (0.1 + 0.9 * t / 10), LR0 * (1 + np.cos(np.pi * (t - 10) / (T - 10))) / 2))
curves = {}
for name, (scheduler, formula) in closed_forms.items():
    curves[name] = rates(scheduler)
    np.testing.assert_allclose(curves[name], formula, rtol=1e-12, err_msg=name)
print("StepLR, InverseTimeLR, InverseSqrtLR, CosineAnnealingLR, LinearWarmup: each equals its formula")

# %% [markdown]
# `ReduceLROnPlateau` has no formula: it watches a metric (usually the validation loss)
# and multiplies the rate by `factor` once the metric has not improved for more than
# `patience` epochs. Here a made-up validation loss falls until epoch 20 and then stays
# flat: the rate must hold while it falls, drop at epoch 20 + patience + 1, and drop
# again every patience + 1 epochs while the plateau lasts.

# %%
PATIENCE = 5
validation_loss = np.where(t < 20, 1 / (1 + t), 1 / 20)
plateau = S.ReduceLROnPlateau(optimizer(), factor=0.5, patience=PATIENCE)
curves["ReduceLROnPlateau(factor=0.5, patience=5)"] = plateau_rates = rates(plateau, validation_loss)
drops = np.flatnonzero(np.diff(plateau_rates) < 0) + 1   # the first epoch at each new rate
assert np.all(plateau_rates[:20 + PATIENCE + 1] == LR0)
np.testing.assert_array_equal(drops, np.arange(20 + PATIENCE + 1, T, PATIENCE + 1))
np.testing.assert_allclose(plateau_rates[drops], LR0 * 0.5 ** np.arange(1, len(drops) + 1))
print(f"ReduceLROnPlateau halved the rate at epochs {drops.tolist()}")

figure, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True)
for ax, (name, lr) in zip(axes.ravel(), curves.items()):
    ax.plot(lr, ".-", markersize=3)
    ax.set_title(name, fontsize=10)
    ax.set_ylim(0, LR0 * 1.1)
    ax.grid(alpha=0.3)
ax.plot(validation_loss / validation_loss.max() * LR0, color="0.6", label="validation loss (scaled)")
ax.legend(fontsize=8)
for ax in axes[1]:
    ax.set_xlabel("epoch t")
for ax in axes[:, 0]:
    ax.set_ylabel("learning rate")
figure.tight_layout()
show(figure, "07_schedules.png", dpi=100)

# %% [markdown]
# ## Why decay: the noise floor of a constant rate
#
# Minimise f(w) = ½ w² from noisy gradients g = w + σ ξ (ξ standard normal), as a
# mini-batch gives. With a constant rate α each step is w ← (1 − α) w − α σ ξ, and w
# settles where shrinking and noise balance: E[w²] → α σ² / (2 − α), never zero. With
# α_t ∝ 1/(C+t), Σ α_t diverges (the steps can still travel anywhere) but Σ α_t²
# converges (the noise they inject is finite) — the Robbins–Monro conditions — and w
# keeps closing in on the minimum. 2000 independent coordinates run at once.

# %%
SIGMA, STEPS = 1.0, 300 if QUICK else 3000
noise = np.random.default_rng(0)


def noisy_sgd(make_scheduler):
    w = mg.tensor(np.full(2000, 5.0), requires_grad=True)
    sgd = optim.SGD([w], lr=0.2)
    scheduler = make_scheduler(sgd)
    for _ in range(STEPS):
        w.grad = mg.tensor(w.numpy() + SIGMA * noise.standard_normal(2000))
        sgd.step()
        if scheduler is not None:
            scheduler.step()  # once per iteration: t counts steps here
    return float(np.mean(w.numpy() ** 2))


constant = noisy_sgd(lambda o: None)
decayed = noisy_sgd(lambda o: S.InverseTimeLR(o, C=10))
floor = 0.2 * SIGMA ** 2 / (2 - 0.2)
assert abs(constant - floor) < 0.15 * floor, (constant, floor)  # the predicted noise floor
assert decayed < 0.2 * constant, (decayed, constant)
print(f"E[w²] after {STEPS} steps: constant rate {constant:.4f} (theory {floor:.4f}), "
      f"1/(C+t) decay {decayed:.5f}")

# %% [markdown]
# ## Gradient clipping on a cliff
#
# Some losses have cliffs: a region where the loss drops steeply, so the gradient is
# enormous for a short stretch (recurrent nets are famous for them). Here
#
# $$L(w) = \tfrac12 (w - 3)^2 + H\, \sigma\big(-s(w - 1)\big), \qquad H = 50,\ s = 100,$$
#
# a wall of height H at w = 1 above a valley with its minimum near w = 3. On the wall
# the slope is about H s / 4 ≈ 1250. One SGD step with α = 0.1 from w = 0.99 moves w by
# ≈ 100 and lands far beyond the valley, where the loss is thousands of times larger:
# the step "explodes". `clip_grad_norm_(params, max_norm=1)` rescales the gradient to
# norm 1 whenever it is larger (and returns the norm it had, a 0-d tensor as in PyTorch:
# `.item()` for the number), so the same step moves w by only α = 0.1, down the cliff and
# into the valley.

# %%
H, SHARPNESS, TARGET, RATE = 50.0, 100.0, 3.0, 0.1


def cliff(w):
    """L(w) for a Tensor w of shape (1,): a scalar Tensor."""
    return (0.5 * (w - TARGET) ** 2 + H * (-SHARPNESS * (w - 1)).sigmoid()).sum()


def cliff_slope(w):
    """dL/dw by hand: (w − 3) − H s σ′(−s(w − 1)), with σ′ = σ(1 − σ)."""
    sig = 1 / (1 + np.exp(SHARPNESS * (w - 1)))
    return (w - TARGET) - H * SHARPNESS * sig * (1 - sig)


def descend(steps, clip):
    w = mg.tensor(np.array([0.99]), requires_grad=True)
    sgd = optim.SGD([w], lr=RATE)
    path, norms = [w.item()], []
    for _ in range(steps):
        sgd.zero_grad()
        cliff(w).backward()
        norms.append(optim.clip_grad_norm_([w], max_norm=1.0).item() if clip else abs(w.grad.item()))
        sgd.step()
        path.append(w.item())
    return np.array(path), np.array(norms)


def loss_at(w):
    return cliff(mg.tensor(np.array([w]))).item()


unclipped, _ = descend(1, clip=False)
clipped, norms = descend(60, clip=True)
assert abs(norms[0] - abs(cliff_slope(0.99))) < 1e-9 * abs(cliff_slope(0.99))  # the norm it returns
assert norms[0] > 500
assert loss_at(unclipped[1]) > 100 * loss_at(unclipped[0]), (unclipped, loss_at(unclipped[1]))
assert abs(clipped[1] - clipped[0] - RATE) < 1e-9          # clipped: a step of exactly α·1
assert loss_at(clipped[1]) < loss_at(clipped[0])
assert abs(clipped[-1] - TARGET) < 0.01, clipped[-1]       # and on to the valley's minimum
print(f"gradient norm on the cliff {norms[0]:.0f}: unclipped, w jumps {unclipped[0]} → {unclipped[1]:.1f} "
      f"(loss {loss_at(unclipped[0]):.1f} → {loss_at(unclipped[1]):.0f}); clipped, w → {clipped[1]:.2f} "
      f"(loss {loss_at(clipped[1]):.2f}) and reaches {clipped[-1]:.3f}")

figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (low, high) in zip(axes, [(0, unclipped[1] * 1.05), (0.5, 3.5)]):
    grid = np.linspace(low, high, 2000)
    ax.plot(grid, [loss_at(w) for w in grid], color="0.5", label="L(w)")
    ax.set_xlabel("w")
    ax.set_ylabel("loss")
axes[0].annotate("", xy=(unclipped[1], loss_at(unclipped[1])), xytext=(unclipped[0], loss_at(unclipped[0])),
                 arrowprops=dict(arrowstyle="->", color="C3"))
axes[0].plot(unclipped, [loss_at(w) for w in unclipped], "o", color="C3", label="one unclipped step")
axes[0].set_title("unclipped: the step off the cliff explodes")
axes[1].plot(clipped, [loss_at(w) for w in clipped], ".-", color="C0", label="clipped steps (max_norm=1)")
axes[1].set_title("clipped: down the cliff and into the valley")
for ax in axes:
    ax.legend()
figure.tight_layout()
show(figure, "07_cliff.png", dpi=100)

# %% [markdown]
# `clip_grad_value_(params, c)` is the cruder cousin: it clamps every gradient element
# to [−c, c] separately, which also changes the gradient's direction; `clip_grad_norm_`
# keeps the direction and only shortens it.
#
# ## Exercises
#
# 1. Give the noisy SGD above `InverseSqrtLR` instead: which decays faster at first,
#    which ends closer? Why does 1/√t break the second Robbins–Monro condition?
# 2. How small must the unclipped rate be to step safely off the cliff — and how many
#    steps does it then need to reach the valley's minimum?
# 3. Train the MLP of lesson 04 with `LinearWarmup(…, after=CosineAnnealingLR(…))`
#    stepped once per iteration.


# %% [markdown]
# ## References
#
# * I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press, 2016,
#   <https://www.deeplearningbook.org/> — §8.3.1, learning-rate decay.
# * H. Robbins, S. Monro, "A Stochastic Approximation Method", *Annals of Mathematical
#   Statistics* 22(3), 1951.
# * I. Loshchilov, F. Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
#   ICLR 2017, <https://arxiv.org/abs/1608.03983>.
# * R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training recurrent neural
#   networks", ICML 2013, <https://arxiv.org/abs/1211.5063> — gradient clipping.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 07: all checks passed")
