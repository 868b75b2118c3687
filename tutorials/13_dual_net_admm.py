# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 13 · The dual net and ADMM
#
# A final-year project report, "Distributed Neural Network Training" (called "the
# report" below; its equation numbers are quoted as "the report's eq. (10.2)"), split
# a CNN in two at `pool2` — net1 (conv1 … pool2, plus a copy of conv3) on one GPU,
# net2 (conv3′ … softmax) on another — and trained the halves with "ADMM": net2
# learns from the labels, net1 learns to make its conv3 agree with net2's conv3′. It
# reached chance accuracy. Each equation of the report that this lesson uses is
# written out in full where it is used. This lesson builds ADMM from the
# ground up on a problem with two numbers, then runs the report's algorithm on the
# real network, watches it collapse, explains why, and fixes it.
#
# Source files it opens: `admm/split.py` (the cut), `admm/modes.py` (one class per
# algorithm), `admm/losses.py` (the report's losses, its eqs. (10.2) and (10.3), and
# the augmented Lagrangian, its eq. (5.5)),
# `admm/halves.py` (what each half computes in one iteration).

# %%
import os

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt
import numpy as np

import minigrad
import minigrad.functional as F
from admm.demo import prepare
from admm.experiments.common import split_history
from admm.losses import augmented_lagrangian
from admm.modes import ADMM, Net2Step
from admm.session import configure, fresh_model
from admm.split import split
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"

# %% [markdown]
# ## 1. Two variables that must agree
#
# Minimise f(x) + g(y) subject to x = y, with f(x) = (x − a)² and g(y) = (y − b)².
# Each half "owns" one variable, as net1 and net2 own their activations. The answer
# is x = y = (a + b)/2.
#
# **The Lagrangian** L(x, y, λ) = f(x) + g(y) + λ(x − y) turns the constraint into a
# price λ on disagreement. At the solution ∂L/∂x = 2(x − a) + λ = 0, so the right
# price is λ* = 2(a − x*) = a − b. *Dual ascent* minimises L over x and y for a
# fixed λ, then raises the price where they disagree: λ ← λ + α(x − y).

# %%
a, b = 3.0, -1.0
x_star, lam_star = (a + b) / 2, a - b


def dual_ascent(alpha, steps=60):
    lam, path = 0.0, []
    for _ in range(steps):
        x = a - lam / 2          # argmin_x (x − a)² + λx
        y = b + lam / 2          # argmin_y (y − b)² − λy
        lam += alpha * (x - y)   # the multiplier step
        path.append(abs(x - y))
    return x, y, lam, path


x, y, lam, _ = dual_ascent(alpha=0.5)
print(f"dual ascent: x = {x:.6f}, y = {y:.6f}, λ = {lam:.6f}  (expected {x_star}, {x_star}, {lam_star})")
assert abs(x - x_star) < 1e-6 and abs(lam - lam_star) < 1e-6
_, _, _, too_far = dual_ascent(alpha=2.5)
assert too_far[-1] > too_far[0], "a multiplier step that is too large makes dual ascent diverge"

# %% [markdown]
# **The augmented Lagrangian** adds a penalty on disagreement (the report's eq. (5.5);
# the standard reference is Boyd, Parikh, Chu, Peleato & Eckstein, "Distributed
# Optimization and Statistical Learning via the Alternating Direction Method of
# Multipliers", 2011, §2.3):
#
#     L_β(x, y, λ) = f(x) + g(y) + λ(x − y) + (β/2)(x − y)².
#
# The penalty makes each subproblem better conditioned and lets the multiplier step
# be λ ← λ + β(x − y) with no step size to tune. **ADMM** minimises L_β over x
# with y fixed, then over y with the new x, then updates λ — each half solves only
# its own problem, and only x, y and λ travel between them:
#
#     x ← argmin_x (x − a)² + λx + (β/2)(x − y)²  =  (2a − λ + βy) / (2 + β)
#     y ← argmin_y (y − b)² − λy + (β/2)(x − y)²  =  (2b + λ + βx) / (2 + β)
#     λ ← λ + β(x − y)

# %%
def admm_toy(beta, steps=5000, tol=1e-8):
    x = y = lam = 0.0
    for k in range(1, steps + 1):
        x = (2 * a - lam + beta * y) / (2 + beta)
        y = (2 * b + lam + beta * x) / (2 + beta)
        lam += beta * (x - y)
        if abs(x - y) < tol and abs(x - x_star) < tol:
            return x, y, lam, k
    return x, y, lam, steps


iterations = {}
for beta in (0.1, 1.0, 2.0, 10.0, 100.0):
    x, y, lam, k = admm_toy(beta)
    iterations[beta] = k
    print(f"ADMM, β = {beta:5}: x = {x:.6f}, y = {y:.6f}, λ = {lam:.6f} after {k} iterations")
    assert abs(x - x_star) < 1e-6 and abs(lam - lam_star) < 1e-5
assert iterations[2.0] < iterations[0.1] and iterations[2.0] < iterations[100.0]

# %% [markdown]
# ADMM converges for every β, but β sets the speed: too small and the halves
# ignore each other, too large and they cling to their last agreement and the
# multiplier crawls. Keep that in mind: a schedule β ← 10β is a trade, not a free win.
#
# ## 2. The split network
#
# Now x is net1's conv3 output and y is net2's conv3′ output, both computed from
# pool2 = P. `split(model, at="pool2")` cuts the named `Sequential`; conv3 is copied
# into net1 as the *dual layer*.

# %%
config = configure(batch=32, iters=60 if QUICK else 200, train_limit=1920 if QUICK else 6400,
                   test_limit=500 if QUICK else 2000, eval_every=10 if QUICK else 20)
model, cut = fresh_model(config, (1, 28, 28))
parts = split(model, cut)
print(parts)

# %% [markdown]
# ## 3. The report's algorithm collapses
#
# One iteration: (1) net1 forward to P, P sent; (2) net2 full step on P against the
# labels, conv3′ sent back; (3) net1 minimises the Euclidean loss of the report's
# eq. (10.2), Caffe's EuclideanLoss over the batch of N images,
#
#     E = 1/(2N) Σₙ ‖conv3ₙ − conv3′ₙ‖².
#
# Look at what net1's objective contains: **no label**.
# It is zero whenever conv3 = conv3′, and the easiest way to get there is P = 0:
# then both dual layers output their biases, which net1 can match. With P = 0 net2
# sees the same input for every image and predicts one class.

# %%
prep = prepare(config)
histories = {}
for label, mode, loss in (("report, eq. 10.2", "report", "10.2"), ("report, eq. 10.3", "report", "10.3"),
                          ("admm", "admm", "10.2")):
    history, diverged = split_history(dict(config, mode=mode, report_loss=loss), mode, prep)
    histories[label] = history
    first, last = history.epochs[0], history.epochs[-1]
    print(f"{label:17}: test accuracy {last['test_acc']:.3f}, pool2 norm {first['test_pool2_norm']:.2f} → "
          f"{last['test_pool2_norm']:.4f}" + (f", diverged at iteration {diverged}" if diverged else ""))

report = histories["report, eq. 10.2"]
assert report.epochs[-1]["test_pool2_norm"] < 0.05 * report.epochs[0]["test_pool2_norm"], "pool2 collapsed"
assert report.epochs[-1]["test_acc"] < 0.2, "the collapsed net is at chance"

# A log axis cannot show 0, and a collapsed pool2 is often exactly 0 (every ReLU
# off): such points are drawn at FLOOR, on the dotted line, with a ▼ marker.
FLOOR = 1e-6
figure, ax = plt.subplots(figsize=(7, 4.2))
for i, (label, history) in enumerate(histories.items()):
    steps = np.array([r["step"] for r in history.steps])
    ratio = np.array([r["pool2_norm"] for r in history.steps]) / history.steps[0]["pool2_norm"]
    ax.plot(steps, np.maximum(ratio, FLOOR), color=f"C{i}", label=label)
    ax.plot(steps[ratio < FLOOR], np.full((ratio < FLOOR).sum(), FLOOR), "v", color=f"C{i}", markersize=5)
ax.axhline(FLOOR, color="0.4", linestyle=":", linewidth=1, label=f"exactly 0 (drawn at {FLOOR:g})")
ax.set_yscale("log")
ax.set_xlabel("iteration")
ax.set_ylabel("mean ‖pool2‖ / at the start")
ax.set_title("pool2 under the report's losses (no label for net1) and under ADMM")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
figure.tight_layout()
show(figure, "13_collapse.png", dpi=100)

# %% [markdown]
# Run long enough (the full mode's 200 iterations), eq. 10.2 then also blows up: once
# P = 0 all that is left to match is conv3's bias, and the Euclidean loss sums each bias
# element's error over the 7×7 positions, a curvature of 49 — at the trainer's rate 0.05
# with Nesterov momentum 0.9 that is past the stability limit γ·c < 2(1 + μ)/(1 + 2μ)
# (section 5), so the chase between the two biases diverges.
#
# The report's normalised loss, eq. (10.3), in our reading
#
#     E = ‖x − y‖² / (‖x‖² + ‖y‖²),   x = conv3, y = conv3′,
#
# cannot be won by shrinking alone, since the ratio stays the same — but it has no
# label term either, and its gradient grows like 1/‖x‖ as the activations shrink: it
# is bounded as a number and unstable as a direction. In the quick run it only delays
# the fall; at full size (without `MINIGRAD_QUICK`) pool2 collapses under eq. (10.3) as
# well (its norm fell from 5.9 to 0.0005 in 200 iterations when we ran it). A loss that
# never mentions the labels has nothing to hold the activations up.
#
# ## 4. The fix: let the labels reach net1 through the target
#
# Treat net2's conv3′ activations y as the auxiliary variable of ADMM. Net2's
# z-step moves them to lower *its* loss — one gradient step on each image's own
# loss ℓₙ, z = y − η ∂ℓₙ/∂yₙ — and sends z; net1's x-step minimises the augmented Lagrangian
# λᵀ(x − z) + (β/2)‖x − z‖²; then λ ← λ + β(x − z). With λ = 0 the gradient in x is
#
#     β(x − z) = β(x − y) + βη ∂ℓₙ/∂yₙ,
#
# a pull towards conv3′ plus **the backprop gradient, scaled by βη**. Because the
# dual layers start equal, x = y and the first term vanishes: this "ADMM" is
# backprop in disguise. Check it on one batch: the gradient net1 gets equals
# βη × the gradient backprop would give it. One detail in the code below:
# `F.cross_entropy` is the *mean* over the batch of 16 images, so `y3.grad` holds
# ∂ℓₙ/∂yₙ / 16 for each image n; the z-step wants each image's own gradient
# ∂ℓₙ/∂yₙ, hence `y3.grad.numpy() * 16` (16 = the batch size).

# %%
beta, eta = 0.5, 4.0
mode = ADMM(beta=beta, eta=eta)
x_batch = minigrad.tensor(prep["train"].x[:16])
labels = prep["labels"]["train"][:16]

p = parts.trunk(x_batch)                                  # backprop through the whole net
F.cross_entropy(parts.head(p), labels).backward()
backprop = [q.grad.numpy().copy() for q in parts.trunk.parameters()]
model.zero_grad()

p = parts.trunk(x_batch)                                  # (1) net1 forward
p2 = minigrad.tensor(p.numpy(), requires_grad=False)
y3 = parts.head[0](p2)
y3.retain_grad()
F.cross_entropy(parts.head[1:](y3), labels).backward()    # (2) net2's gradient in y
# × 16, the batch size: undo cross_entropy's mean to get each image's ∂ℓₙ/∂yₙ
target = mode.reply(Net2Step(y3.numpy(), y3.grad.numpy() * 16, None))["target"]
model.zero_grad()
parts.dual.zero_grad()
augmented_lagrangian(parts.dual(p), minigrad.tensor(target), None, beta).backward()   # (3) net1's x-step
for q, expected in zip(parts.trunk.parameters(), backprop):
    np.testing.assert_allclose(q.grad.numpy(), beta * eta * expected, rtol=1e-3, atol=1e-6)
print(f"net1's ADMM gradient = {beta * eta:g} × the backprop gradient, for every parameter of conv1 … pool2")

# %% [markdown]
# So only the product βη matters for learning, and the trainer's default βη = 1
# makes net1 move as fast as backprop would move it. And it learns where the
# report did not:

# %%
admm_history = histories["admm"]
assert admm_history.epochs[-1]["test_pool2_norm"] > 0.5 * admm_history.epochs[0]["test_pool2_norm"]
assert admm_history.epochs[-1]["consensus_rel_error"] < 0.1
# in both modes (quick: 60 iterations, ~66% against chance; full: 200 iterations)
assert admm_history.epochs[-1]["test_acc"] > report.epochs[-1]["test_acc"] + 0.2
print(f"admm: test accuracy {admm_history.epochs[-1]['test_acc']:.3f}, consensus error "
      f"{admm_history.epochs[-1]['consensus_rel_error']:.2g}")

# %% [markdown]
# ## 5. What the other ADMM pieces do
#
# * **λ per sample** (`--multiplier sample`) remembers each image's residual x − z
#   from its last visit, an epoch ago: a stale gradient. In one epoch it does nothing
#   (every λₙ is still 0 when its image comes round).
# * **λ per feature** (`--multiplier feature`) sums the residuals of all images into
#   one shared push: every image is pushed the same way, and it drifts.
# * **β ← 10β** (`--beta-every k`) with η fixed multiplies net1's learning rate by 10
#   each time: the lesson of section 1 (a β too large) in a new form.
# * **β itself** is the stiffness of the pull β(x − y) that keeps net1's conv3 equal
#   to net2's conv3′. SGD on a quadratic of curvature c is stable only while
#   γ·c < 2(1 + momentum) (with Nesterov's momentum, which the trainer uses,
#   γ·c < 2(1 + momentum)/(1 + 2·momentum)); the dual layer's input (pool2, non-negative) has a large
#   mean direction, so at γ = 0.05 the curvature of β = 1 is far over the limit and a
#   rounding-level difference between the copies grows ×10 per iteration until the
#   pull collapses pool2, exactly as in the report. The curvature also grows with
#   ‖pool2‖², which rises during training: measured at γ = 0.05, β = 1 breaks after
#   8 iterations, β = 0.1 after 20, β = 0.01 holds. The trainer's default β = 0.001,
#   η = 1000 keeps βη = 1 with room to spare.
#
# `docs/admm.md` records what each of these measured on the demo's data; run
# `python -m admm collapse` for the full-size version of section 3, and
# `python -m admm demo` for the comparison with the single net and the frozen-net1
# control.

# %%
print("all checks passed")
