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
# W. Dziwulski's final-year project report *Distributed Neural Network Training* (called
# "the report" below; its equation numbers are quoted as "the report's eq. (10.2)"; see
# the references at the end) split a CNN in two at `pool2` — net1 (conv1 … pool2, plus a copy of conv3) on one GPU,
# net2 (conv3′ … softmax) on another — and trained the halves with "ADMM": net2
# learns from the labels, net1 learns to make its conv3 agree with net2's conv3′. It
# reached chance accuracy. Each equation of the report that this lesson uses is
# written out in full where it is used. This lesson builds ADMM from the
# ground up on a problem with two numbers, then runs the report's algorithm on the
# real network, watches it collapse, explains why, and fixes it. The code it follows:
# the cut in `admm/split.py`, one class per algorithm in `admm/modes.py`, the report's
# losses (its eqs. (10.2), (10.3)) and the augmented Lagrangian (its eq. (5.5)) in
# `admm/losses.py`, and what each half computes in one iteration in `admm/halves.py`.

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
# Minimise $f(x) + g(y)$ subject to $x = y$, with $f(x) = (x - a)^2$ and $g(y) = (y - b)^2$.
# Each half "owns" one variable, as net1 and net2 own their activations. The answer
# is $x = y = (a + b)/2$.
#
# **The Lagrangian** $L(x, y, \lambda) = f(x) + g(y) + \lambda(x - y)$ turns the constraint
# into a price $\lambda$ on disagreement. At the solution
# $\partial L/\partial x = 2(x - a) + \lambda = 0$, so the right price is
# $\lambda^* = 2(a - x^*) = a - b$. *Dual ascent* minimises $L$ over $x$ and $y$ for a
# fixed $\lambda$, then raises the price where they disagree:
# $\lambda \leftarrow \lambda + \alpha(x - y)$.

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
# the standard reference is Boyd et al. 2011, §2.3, in the references below):
#
# $$L_\beta(x, y, \lambda) = f(x) + g(y) + \lambda(x - y) + \frac{\beta}{2}(x - y)^2 .$$
#
# The penalty makes each subproblem better conditioned and lets the multiplier step
# be $\lambda \leftarrow \lambda + \beta(x - y)$ with no step size to tune. **ADMM** minimises
# $L_\beta$ over $x$ with $y$ fixed, then over $y$ with the new $x$, then updates $\lambda$ —
# each half solves only its own problem, and only $x$, $y$ and $\lambda$ travel between them:
#
# $$\begin{aligned}
# x &\leftarrow \arg\min_x\, (x - a)^2 + \lambda x + \tfrac{\beta}{2}(x - y)^2 = \frac{2a - \lambda + \beta y}{2 + \beta},\\
# y &\leftarrow \arg\min_y\, (y - b)^2 - \lambda y + \tfrac{\beta}{2}(x - y)^2 = \frac{2b + \lambda + \beta x}{2 + \beta},\\
# \lambda &\leftarrow \lambda + \beta(x - y).
# \end{aligned}$$

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
# ADMM converges for every $\beta$, but $\beta$ sets the speed: too small and the halves
# ignore each other, too large and they cling to their last agreement and the
# multiplier crawls. Keep that in mind: a schedule $\beta \leftarrow 10\beta$ is a trade,
# not a free win.
#
# ### A step-size limit for momentum
#
# One more fact from optimisation, needed twice below. Gradient descent with rate $\gamma$
# on a quadratic $\tfrac{c}{2}\theta^2$ (curvature $c$) multiplies $\theta$ by $1 - \gamma c$ per
# step: it converges only while $|1 - \gamma c| < 1$, i.e. $\gamma c < 2$. With heavy-ball
# momentum $\mu$ the iteration is $\theta_{t+1} = \theta_t - \gamma c\,\theta_t + \mu(\theta_t - \theta_{t-1})$,
# whose characteristic polynomial $z^2 - (1 + \mu - \gamma c)z + \mu$ has a root at $z = -1$
# exactly when $\gamma c = 2(1 + \mu)$. With Nesterov's momentum (Nesterov 1983; the form
# PyTorch's `SGD(nesterov=True)` uses, which lesson 15 derives) the polynomial is
# $z^2 - (1 + \mu)(1 - \gamma c)z + \mu(1 - \gamma c)$, and $z = -1$ gives the limit
#
# $$\gamma c < \frac{2(1 + \mu)}{1 + 2\mu} \qquad (\approx 1.36 \text{ for } \mu = 0.9).$$
#
# Past it, every step overshoots further than the last and the iterate grows without
# bound. The trainer below uses $\gamma = 0.05$ with Nesterov momentum $\mu = 0.9$, so any
# direction of curvature $c > 1.36/0.05 \approx 27$ diverges. Check it with minigrad's own
# `SGD`, just below and just above the limit:

# %%
def nesterov_run(gamma_c, mu=0.9, steps=200):
    """|θ| after ``steps`` of SGD with Nesterov momentum on ½ c θ² (c = 1, γ = gamma_c)."""
    theta = minigrad.tensor(np.array([1.0]), requires_grad=True)
    sgd = minigrad.optim.SGD([theta], lr=gamma_c, momentum=mu, nesterov=True)
    for _ in range(steps):
        theta.grad = minigrad.tensor(theta.numpy().copy())   # ∇(½ θ²) = θ
        sgd.step()
    return abs(theta.item())


limit = 2 * (1 + 0.9) / (1 + 2 * 0.9)
print(f"Nesterov limit for μ = 0.9: γc < {limit:.4f}; |θ| after 200 steps at 0.98× the limit "
      f"{nesterov_run(0.98 * limit):.2e}, at 1.02× {nesterov_run(1.02 * limit):.2e}")
assert nesterov_run(0.98 * limit) < 1 < nesterov_run(1.02 * limit)

# %% [markdown]
# ## 2. The split network
#
# Now $x$ is net1's conv3 output and $y$ is net2's conv3′ output, both computed from
# pool2 $= P$. `split(model, at="pool2")` cuts the named `Sequential`; conv3 is copied
# into net1 as the *dual layer*. The picture below is drawn from the split itself: each
# box is a layer, with the shape of what it outputs for one image.

# %%
config = configure(batch=32, iters=60 if QUICK else 200, train_limit=1920 if QUICK else 6400,
                   test_limit=500 if QUICK else 2000, eval_every=10 if QUICK else 20)
model, cut = fresh_model(config, (1, 28, 28))
parts = split(model, cut)
print(parts)


def output_shapes(layers, x):
    """[(name, output shape of one image)] for the named layers of a Sequential."""
    shapes = []
    with minigrad.no_grad():
        for name, layer in layers.named_children():
            x = layer(x)
            shapes.append((name, tuple(x.shape[1:])))
    return shapes, x


def draw_split(parts, image_shape):
    """net1 | net2 as boxes: the layers of each half, the activations P sent across the
    cut, and the consensus between net1's dual layer and net2's first layer."""
    net1, p = output_shapes(parts.trunk, minigrad.zeros((1, *image_shape)))
    net2, _ = output_shapes(parts.head, p)
    dual = tuple(parts.dual(p).shape[1:])
    figure, ax = plt.subplots(figsize=(12, 4.2))
    width, gap = 1.25, 0.3
    step = width + gap
    left, right = 0, len(net1) * step + 1.0

    def box(x, y, name, shape, colour):
        ax.add_patch(plt.Rectangle((x, y), width, 0.9, facecolor=colour, edgecolor="0.3"))
        ax.text(x + width / 2, y + 0.58, name, ha="center", va="center", fontsize=11)
        ax.text(x + width / 2, y + 0.25, "×".join(map(str, shape)), ha="center", va="center", fontsize=8)

    for i, (name, shape) in enumerate(net1):
        box(left + i * step, 2, name, shape, "#cfe2f3")
    for i, (name, shape) in enumerate(net2):
        box(right + i * step, 2, name + ("′" if i == 0 else ""), shape, "#fce5cd")
    last = left + (len(net1) - 1) * step
    box(last, 0.2, f"{parts.dual_name} (dual)", dual, "#cfe2f3")
    ax.annotate("", (last + width / 2, 1.1), (last + width / 2, 2), arrowprops=dict(arrowstyle="->"))
    ax.annotate("", (right, 2.6), (last + width, 2.6), arrowprops=dict(arrowstyle="->", linewidth=1.5))
    ax.text((last + width + right) / 2, 2.75, f"P = {parts.at}\nsent", ha="center", va="bottom", fontsize=10)
    middle = right + width / 2                   # net2's first layer, conv3′
    ax.plot([middle, middle], [2, 0.65], color="0.3", linestyle="--")
    ax.annotate("", (last + width, 0.65), (middle, 0.65), arrowprops=dict(arrowstyle="<->", linestyle="--"))
    ax.text(middle + 0.15, 0.9, f"consensus: {parts.dual_name}(P) = {parts.dual_name}′(P)\n"
            "target z and multiplier λ sent back", ha="left", va="bottom", fontsize=10)
    ax.text(left, 3.25, "net1 (rank 0): learns to agree", fontsize=11, weight="bold", color="#1c4587")
    ax.text(right, 3.25, "net2 (rank 1): learns from the labels", fontsize=11, weight="bold", color="#b45f06")
    ax.set_xlim(-0.2, right + len(net2) * step)
    ax.set_ylim(0, 3.6)
    ax.axis("off")
    figure.tight_layout()
    return figure


show(draw_split(parts, (1, 28, 28)), "13_split.png")

# %% [markdown]
# ## 3. The report's algorithm collapses
#
# One iteration: (1) net1 forward to $P$, $P$ sent; (2) net2 full step on $P$ against the
# labels, conv3′ sent back; (3) net1 minimises the Euclidean loss of the report's
# eq. (10.2), Caffe's EuclideanLoss over the batch of $N$ images,
#
# $$E = \frac{1}{2N} \sum_{n=1}^{N} \big\lVert \mathrm{conv3}_n - \mathrm{conv3}'_n \big\rVert^2 .$$
#
# Look at what net1's objective contains: **no label**.
# It is zero whenever conv3 = conv3′, and the easiest way to get there is $P = 0$:
# then both dual layers output their biases, which net1 can match. With $P = 0$ net2
# sees the same input for every image and predicts one class.

# %%
prep = prepare(config)
histories = {}
for label, mode, loss in (("report, eq. 10.2", "report", "10.2"), ("report, eq. 10.3", "report", "10.3"),
                          ("admm", "admm", "10.2")):
    # At full size eq. 10.2's run diverges (explained below): its loss passes float32's
    # largest value (3.4e38) a step before the trainer sees it is not finite and stops the
    # run, reported below as "diverged at iteration …". NumPy's overflow warning would only
    # say the same thing a step early, so it is silenced for the report's runs alone.
    with np.errstate(over="ignore" if mode == "report" else "warn"):
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
# $P = 0$ all that is left to match is conv3's bias, and the Euclidean loss sums each bias
# element's error over the 7×7 positions, a curvature of $c = 49$ — at the trainer's rate
# $\gamma = 0.05$ with Nesterov momentum 0.9, $\gamma c = 2.45$ is past the limit
# $2(1 + \mu)/(1 + 2\mu) \approx 1.36$ of section 1, so the chase between the two biases
# diverges.
#
# The report's normalised loss, eq. (10.3), in our reading
#
# $$E = \frac{\lVert x - y \rVert^2}{\lVert x \rVert^2 + \lVert y \rVert^2}, \qquad x = \mathrm{conv3},\ y = \mathrm{conv3}',$$
#
# cannot be won by shrinking alone, since the ratio stays the same — but it has no
# label term either, and its gradient grows like $1/\lVert x \rVert$ as the activations shrink: it
# is bounded as a number and unstable as a direction. In the quick run it only delays
# the fall; at full size (without `MINIGRAD_QUICK`) pool2 collapses under eq. (10.3) as
# well (its norm fell from 5.9 to 0.0005 in 200 iterations when we ran it). A loss that
# never mentions the labels has nothing to hold the activations up.
#
# ## 4. The fix: let the labels reach net1 through the target
#
# Treat net2's conv3′ activations $y$ as the auxiliary variable of ADMM. Net2's
# $z$-step moves them to lower *its* loss — one gradient step on each image's own
# loss $\ell_n$, $z_n = y_n - \eta\, \partial \ell_n / \partial y_n$ — and sends $z$; net1's
# $x$-step minimises the augmented Lagrangian
# $\lambda^\top(x - z) + \tfrac{\beta}{2}\lVert x - z \rVert^2$; then
# $\lambda \leftarrow \lambda + \beta(x - z)$. With $\lambda = 0$ the gradient in $x$ is
#
# $$\beta(x_n - z_n) = \beta(x_n - y_n) + \beta\eta\, \frac{\partial \ell_n}{\partial y_n},$$
#
# a pull towards conv3′ plus **the backprop gradient, scaled by $\beta\eta$**. Because the
# dual layers start equal, $x = y$ and the first term vanishes: this "ADMM" is
# backprop in disguise. Check it on one batch: the gradient net1 gets equals
# $\beta\eta$ × the gradient backprop would give it. One detail in the code below:
# `F.cross_entropy` is the *mean* over the batch of 16 images, so `y3.grad` holds
# $\frac{1}{16}\partial \ell_n/\partial y_n$ for each image $n$; the $z$-step wants each
# image's own gradient, hence `y3.grad.numpy() * 16` (16 = the batch size).

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
# So only the product $\beta\eta$ matters for learning, and the trainer's default $\beta\eta = 1$
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
# * **$\lambda$ per sample** (`--multiplier sample`) remembers each image's residual
#   $x - z$ from its last visit, an epoch ago: a stale gradient. In one epoch it does
#   nothing (every $\lambda_n$ is still 0 when its image comes round).
# * **$\lambda$ per feature** (`--multiplier feature`) sums the residuals of all images into
#   one shared push: every image is pushed the same way, and it drifts.
# * **$\beta \leftarrow 10\beta$** (`--beta-every k`) with $\eta$ fixed multiplies net1's
#   learning rate by 10 each time: the lesson of section 1 (a $\beta$ too large) in a new form.
# * **$\beta$ itself** is the stiffness of the pull $\beta(x - y)$ that keeps net1's conv3
#   equal to net2's conv3′: the curvature that section 1's limit
#   $\gamma c < 2(1 + \mu)/(1 + 2\mu)$ is about. The dual layer's input (pool2, non-negative)
#   has a large mean direction, so at $\gamma = 0.05$ the curvature of $\beta = 1$ is far over
#   the limit and a rounding-level difference between the copies grows ×10 per iteration
#   until the pull collapses pool2, exactly as in the report. The curvature also grows with
#   $\lVert \mathrm{pool2} \rVert^2$, which rises during training: measured at $\gamma = 0.05$,
#   $\beta = 1$ breaks after 8 iterations, $\beta = 0.1$ after 20, $\beta = 0.01$ holds. The
#   trainer's default $\beta = 0.001$, $\eta = 1000$ keeps $\beta\eta = 1$ with room to spare.
#
# `docs/admm.md` records what each of these measured on the demo's data; run
# `python -m admm collapse` for the full-size version of section 3, and
# `python -m admm demo` for the comparison with the single net and the frozen-net1
# control.
#
# ## References
#
# * W. Dziwulski, *Distributed Neural Network Training*, final-year project report
#   (not published): the dual net, its algorithm and its losses, eqs. (5.5), (10.2), (10.3).
# * S. Boyd, N. Parikh, E. Chu, B. Peleato, J. Eckstein, "Distributed Optimization and
#   Statistical Learning via the Alternating Direction Method of Multipliers",
#   *Foundations and Trends in Machine Learning* 3(1), 2011,
#   <https://stanford.edu/~boyd/papers/admm_distr_stats.html> — dual ascent (§2.1), the
#   augmented Lagrangian (§2.3), ADMM (§3).
# * Y. Nesterov, "A method for solving the convex programming problem with convergence
#   rate O(1/k²)", *Soviet Mathematics Doklady* 27, 1983 — the momentum whose step-size
#   limit section 1 derives.
# * I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization and
#   momentum in deep learning", ICML 2013, <https://proceedings.mlr.press/v28/sutskever13.html>
#   — Nesterov's momentum as used in deep learning.
#
# Every source the lessons cite is listed in `docs/references.md` (the site's "References" page).

# %%
print("all checks passed")
