# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 · Optimizers: the update rules, a canyon, MNIST, and what each one remembers
#
# Every optimizer turns the gradient ∇W of the loss into a step for the weights W. The
# textbook writes the rules as below (α the learning rate, products and squares
# element-wise); "the lecture rule" in this lesson means that table. The algorithms are in chapter 8, "Optimization for Training Deep
# Models", of Goodfellow, Bengio & Courville, *Deep Learning* (MIT Press, 2016), and in
# the original papers: AdaGrad (Duchi, Hazan & Singer, JMLR 2011), RMSprop (Tieleman &
# Hinton, Coursera lecture 6.5, 2012), Adam (Kingma & Ba, ICLR 2015).
#
# | method | update |
# |---|---|
# | SGD | W ← W − α ∇W |
# | momentum | V ← βV + (1−β)∇W;  W ← W − αV |
# | AdaGrad | S ← S + ∇W²;  W ← W − α ∇W / (√S + ε) |
# | RMSprop | S ← βS + (1−β)∇W²;  W ← W − α ∇W / (√S + ε) |
# | Adam | V ← β₁V + (1−β₁)∇W;  S ← β₂S + (1−β₂)∇W²;  V̂ = V/(1−β₁ᵗ);  Ŝ = S/(1−β₂ᵗ);  W ← W − α V̂ / (√Ŝ + ε) |
#
# Below, each rule is written in five lines of NumPy, run beside minigrad's optimizer
# (`minigrad/optim/sgd.py`, `adagrad.py`, `rmsprop.py`, `adam.py`; their `_update`
# methods are printed) and checked to give the same weights. Then: why momentum helps in
# an ill-conditioned "canyon", the five optimizers on MNIST in one figure, and how much
# memory each one needs.

# %%
import inspect
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import ArrayDataset, DataLoader, load
from minigrad.history import ema
from minigrad.train import fit
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"

# %% [markdown]
# ## Each rule beside the code
#
# A fixed sequence of "gradients" is fed to both: the lecture rule in NumPy and our
# optimizer, which reads `p.grad` and updates `p` in place. float64, so equality is tight.

# %%
rng = np.random.default_rng(0)
STEPS = 25
gradients = rng.normal(size=(STEPS, 6))
w_start = rng.normal(size=6)
alpha, beta, beta1, beta2, eps = 0.05, 0.9, 0.9, 0.999, 1e-8


def run_ours(optimizer_class, **hyperparameters):
    w = mg.tensor(w_start.copy(), requires_grad=True)
    optimizer = optimizer_class([w], **hyperparameters)
    for g in gradients:
        w.grad = mg.tensor(g)
        optimizer.step()
    return w.numpy()


def lecture_sgd():
    W = w_start.copy()
    for g in gradients:
        W = W - alpha * g
    return W


def lecture_momentum(V):
    W = w_start.copy()
    for g in gradients:
        V = beta * V + (1 - beta) * g
        W = W - alpha * V
    return W, V


def lecture_adagrad():
    W, S = w_start.copy(), np.zeros(6)
    for g in gradients:
        S = S + g ** 2
        W = W - alpha * g / (np.sqrt(S) + eps)
    return W


def lecture_rmsprop():
    W, S = w_start.copy(), np.zeros(6)
    for g in gradients:
        S = beta * S + (1 - beta) * g ** 2
        W = W - alpha * g / (np.sqrt(S) + eps)
    return W


def lecture_adam():
    W, V, S = w_start.copy(), np.zeros(6), np.zeros(6)
    for t, g in enumerate(gradients, start=1):
        V = beta1 * V + (1 - beta1) * g
        S = beta2 * S + (1 - beta2) * g ** 2
        V_hat, S_hat = V / (1 - beta1 ** t), S / (1 - beta2 ** t)
        W = W - alpha * V_hat / (np.sqrt(S_hat) + eps)
    return W


def same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


same(lecture_sgd(), run_ours(optim.SGD, lr=alpha))
same(lecture_adagrad(), run_ours(optim.Adagrad, lr=alpha, eps=eps))
same(lecture_rmsprop(), run_ours(optim.RMSprop, lr=alpha, alpha=beta, eps=eps))
same(lecture_adam(), run_ours(optim.Adam, lr=alpha, betas=(beta1, beta2), eps=eps))
print("SGD, AdaGrad, RMSprop and Adam: the lecture rule and minigrad give the same weights")
for cls in (optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam):
    print(f"---- minigrad/optim/{inspect.getsourcefile(cls).rsplit('/', 1)[-1]}: {cls.__name__}._update")
    print(inspect.getsource(cls._update))

# %% [markdown]
# Two details the table hides, both visible in the code:
#
# * RMSprop's decay rate is called `alpha` in PyTorch (and here), not β, and its `lr`
#   is the α of the table.
# * **Momentum.** PyTorch's SGD keeps a buffer b ← μb + (1−τ)∇W (τ = `dampening`) and
#   starts it at the first gradient, b₁ = ∇W₁. With μ = τ = β that *is* the lecture
#   rule, provided V also starts at ∇W₁; started at V = 0 (the textbook's habit) the
#   buffers differ by β^t ∇W₁, a transient that dies out (the weights keep the offset
#   the first steps gave them).

# %%
w = mg.tensor(w_start.copy(), requires_grad=True)
sgd = optim.SGD([w], lr=alpha, momentum=beta, dampening=beta)
for g in gradients:
    w.grad = mg.tensor(g)
    sgd.step()
W_lecture, V_lecture = lecture_momentum(V=gradients[0])
same(W_lecture, w.numpy())
same(V_lecture, sgd.state[w]["momentum_buffer"])
_, V_from_zero = lecture_momentum(V=np.zeros(6))
same(sgd.state[w]["momentum_buffer"] - V_from_zero, beta ** STEPS * gradients[0])
print("momentum = SGD(momentum=β, dampening=β); from V = 0 the buffer differs by β^t ∇W₁")

# %% [markdown]
# ## The canyon: where plain gradient descent zig-zags
#
# f(w) = ½ (w₀² + κ w₁²) with κ = 100: a long, narrow valley, curvature 1 along it and
# 100 across it. Gradient descent multiplies w₀ by (1 − α) and w₁ by (1 − ακ) each step,
# so it is stable only for α < 2/κ. Near that limit, α = 1.98/κ, the w₁ factor is
# −0.98: every step overshoots to the other wall of the canyon (w₁ changes sign and
# barely shrinks) while w₀ crawls along the valley floor at 1 − α ≈ 0.98 per step.
#
# Momentum averages the gradients: the sideways components alternate in sign and
# cancel in V, the component along the valley keeps its sign and adds up. That lets
# the lecture rule V ← βV + (1−β)∇W, W ← W − αV take a rate 2.5 times larger,
# α = 5/κ with β = 0.9, and still swing across the canyon only slowly (its w₁ changes
# sign every few steps, not every step), while both directions now shrink by
# √β ≈ 0.95 per step.
#
# In minigrad this is `SGD(lr=α(1−β), momentum=β)` with no dampening: its buffer
# b ← βb + ∇W (started at b₁ = ∇W₁) is V/(1−β) for V started at 0, so the paths are the
# same; the first check below confirms it.

# %%
KAPPA = 100.0
curvature = np.array([1.0, KAPPA])
start = np.array([-9.0, 1.0])
CANYON_STEPS = 100
GD_RATE, MOMENTUM_RATE, BETA = 1.98 / KAPPA, 5 / KAPPA, 0.9


def canyon_path(make_optimizer):
    """The points w visited by an optimizer on f(w) = ½ Σ curvature·w², from ``start``."""
    w = mg.tensor(start.copy(), requires_grad=True)
    optimizer = make_optimizer([w])
    path = [w.numpy().copy()]
    for _ in range(CANYON_STEPS):
        loss = 0.5 * (mg.tensor(curvature) * w * w).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append(w.numpy().copy())
    return np.array(path)


gd = canyon_path(lambda ps: optim.SGD(ps, lr=GD_RATE))
momentum = canyon_path(lambda ps: optim.SGD(ps, lr=MOMENTUM_RATE * (1 - BETA), momentum=BETA))

W, V, lecture_path = start.copy(), np.zeros(2), [start.copy()]
for _ in range(CANYON_STEPS):
    V = BETA * V + (1 - BETA) * curvature * W     # V ← βV + (1−β)∇W, from V = 0
    W = W - MOMENTUM_RATE * V                     # W ← W − αV
    lecture_path.append(W)
np.testing.assert_allclose(momentum, lecture_path, rtol=1e-10, atol=1e-12)


def f(path):
    return 0.5 * (path ** 2 * curvature).sum(axis=1)


def sign_changes(path):
    """How many steps moved w₁ to the other side of the valley floor."""
    return int(np.sum(np.sign(path[1:, 1]) != np.sign(path[:-1, 1])))


assert sign_changes(gd) == CANYON_STEPS                  # gradient descent: across at every step
assert abs(gd[50, 1]) > 0.3 * abs(start[1])              # … and still far up the walls
assert sign_changes(momentum) < CANYON_STEPS / 3         # momentum: a slow swing
assert f(momentum)[-1] < f(gd)[-1] / 100, (f(momentum)[-1], f(gd)[-1])
print(f"after {CANYON_STEPS} steps: gradient descent f = {f(gd)[-1]:.2e}, crossed the valley "
      f"{sign_changes(gd)} times; momentum f = {f(momentum)[-1]:.2e}, crossed {sign_changes(momentum)} times")

figure, axes = plt.subplots(1, 2, figsize=(11, 3.8))
u, v = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-1.3, 1.3, 200))
axes[0].contour(u, v, 0.5 * (u ** 2 + KAPPA * v ** 2), levels=np.geomspace(0.05, 150, 14), colors="0.8")
axes[0].plot(*gd.T, ".-", label="gradient descent, α = 1.98/κ")
axes[0].plot(*momentum.T, ".-", label="momentum, α = 5/κ, β = 0.9")
axes[0].set_xlabel("w₀ (curvature 1)")
axes[0].set_ylabel("w₁ (curvature κ = 100)")
axes[0].legend(loc="upper left")
axes[0].set_title("the canyon ½(w₀² + κ w₁²)")
axes[1].semilogy(f(gd), label="gradient descent")
axes[1].semilogy(f(momentum), label="momentum")
axes[1].set_xlabel("step")
axes[1].set_ylabel("f(w)")
axes[1].legend()
figure.tight_layout()
show(figure, "06_canyon.png", dpi=100)

# %% [markdown]
# ## Five optimizers on MNIST
#
# The same small MLP (784-64-10, ReLU), the same initial weights and the same batches
# for each; only the optimizer differs. Each runs at a usual learning rate for it
# (plain SGD and momentum share one, so they can be compared directly).

# %%
train, _ = load("mnist", flatten=True, normalize=True)
images = 3000 if QUICK else 20000
train = ArrayDataset(train.x[:images], train.y[:images])
EPOCHS = 2 if QUICK else 3
OPTIMIZERS = {
    "SGD (lr 0.02)": lambda ps: optim.SGD(ps, lr=0.02),
    "momentum (lr 0.02, μ 0.9)": lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9),
    "AdaGrad (lr 0.02)": lambda ps: optim.Adagrad(ps, lr=0.02),
    "RMSprop (lr 1e-3)": lambda ps: optim.RMSprop(ps, lr=1e-3),
    "Adam (lr 1e-3)": lambda ps: optim.Adam(ps, lr=1e-3),
}
curves = {}
for name, make in OPTIMIZERS.items():
    mg.manual_seed(0)  # same initial weights for all
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    history = fit(model, make(model.parameters()), F.cross_entropy,
                  DataLoader(train, 100, shuffle=True, seed=0), EPOCHS, progress=False)
    curves[name] = np.array(history.column("loss", table="steps"))
    print(f"{name:28s} loss: first step {curves[name][0]:.3f}, mean of the last 20 "
          f"{curves[name][-20:].mean():.3f}")

figure, ax = plt.subplots(figsize=(7, 4))
for name, losses in curves.items():
    ax.plot(ema(list(losses), 0.9), label=name)
ax.set_xlabel("step (batches of 100)")
ax.set_ylabel("training loss (smoothed)")
ax.set_ylim(0, 2.5)
ax.grid(alpha=0.3)
ax.legend()
figure.tight_layout()
show(figure, "06_mnist_optimizers.png", dpi=100)

final = {name: losses[-20:].mean() for name, losses in curves.items()}
sgd_final = final.pop("SGD (lr 0.02)")
assert all(losses[0] > 2.0 for losses in curves.values())  # all start at ≈ ln 10: chance
assert sgd_final < 0.5 * curves["SGD (lr 0.02)"][0]       # plain SGD learns, slowly …
assert all(loss < 0.7 * sgd_final for loss in final.values()), (sgd_final, final)  # … the others faster

# %% [markdown]
# ## What each optimizer remembers
#
# The state an optimizer keeps per weight is its memory cost on top of the model's
# (and on a GPU it is often what decides the batch size): nothing for plain SGD, one
# buffer for momentum, AdaGrad and RMSprop, two for Adam (V and S) and Adadelta, three
# for AMSGrad (the running maximum of S too). We count the arrays in `optimizer.state`
# after one step (the step counters are single numbers, not counted).

# %%
mg.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
weights = sum(p.array.size for p in model.parameters())
x, y = train[:100]
EXPECTED_BUFFERS = {
    "SGD": (lambda ps: optim.SGD(ps, lr=0.1), 0),
    "SGD + momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), 1),
    "AdaGrad": (lambda ps: optim.Adagrad(ps), 1),
    "RMSprop": (lambda ps: optim.RMSprop(ps), 1),
    "RMSprop centered + momentum": (lambda ps: optim.RMSprop(ps, centered=True, momentum=0.9), 3),
    "Adadelta": (lambda ps: optim.Adadelta(ps), 2),
    "Adam": (lambda ps: optim.Adam(ps), 2),
    "Adam (amsgrad)": (lambda ps: optim.Adam(ps, amsgrad=True), 3),
}
print(f"the model: {weights} float32 weights = {4 * weights / 1024:.0f} KiB")
for name, (make, buffers) in EXPECTED_BUFFERS.items():
    optimizer = make(model.parameters())
    optimizer.zero_grad()
    F.cross_entropy(model(mg.tensor(x)), y).backward()
    optimizer.step()
    state_values = sum(value.size for entries in optimizer.state.values()
                       for value in entries.values() if isinstance(value, np.ndarray))
    state_bytes = sum(value.nbytes for entries in optimizer.state.values()
                      for value in entries.values() if isinstance(value, np.ndarray))
    assert state_values == buffers * weights, (name, state_values, weights)
    print(f"{name:28s} {buffers} value(s) per weight = {state_bytes / 1024:5.0f} KiB of state")

# %% [markdown]
# ## Exercises
#
# 1. In the canyon, give gradient descent a rate just above 2/κ: what happens to w₁?
# 2. In the canyon, raise momentum's α towards 19/κ: when does it start to zig-zag
#    too? (Hint: the roots of λ² − (1 + β − α(1−β)κ)λ + β.) Then try `nesterov=True`.
# 3. On MNIST, raise plain SGD's rate until it matches momentum's curve: how close to
#    `lr / (1 − μ)` is the rate you need?


# %% [markdown]
# ## References
#
# * I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press, 2016,
#   <https://www.deeplearningbook.org/> — chapter 8.
# * Y. Nesterov, "A method for solving the convex programming problem with convergence rate
#   O(1/k²)", *Soviet Mathematics Doklady* 27, 1983.
# * J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods", *JMLR* 12, 2011,
#   <https://jmlr.org/papers/v12/duchi11a.html> — AdaGrad.
# * G. Hinton, N. Srivastava, K. Swersky, *Neural Networks for Machine Learning*, lecture 6e,
#   Coursera, 2012, <https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf> — RMSprop.
# * M. D. Zeiler, "ADADELTA", 2012, <https://arxiv.org/abs/1212.5701>.
# * D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
#   <https://arxiv.org/abs/1412.6980>.
# * PyTorch, `torch.optim`, <https://pytorch.org/docs/stable/optim.html>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 06: all checks passed")
