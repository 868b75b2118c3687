# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 10 · Batch normalisation
#
# Batch norm (Ioffe & Szegedy, 2015) normalises each channel with the mean and
# variance *of the current batch*, then rescales it with a learned γ and β. The
# forward is four lines; the backward is the interesting part, because every
# input of a channel feeds its mean and its variance, so each gradient depends on
# all the others. This lesson opens `kernels/batchnorm/` and
# `minigrad/ops/batchnorm.py`:
#
# 1. the forward, by hand on a tiny batch, against the kernel;
# 2. the backward derived step by step through the graph x → μ → σ² → x̂ → y, each
#    step checked numerically, down to the closed form
#    gx = (1/M)·γ·inv_std·(M·gy − Σgy − x̂·Σgy·x̂) (Ioffe &
#    Szegedy, "Batch normalization", ICML 2015, §3, give the staged form);
# 3. that formula against `minigrad.gradcheck`, against batch norm composed of
#    Tensor ops, and against the kernel — and the bug it prevents (treating μ and
#    σ² as constants);
# 4. two facts the formula makes visible: Σ gx = 0 and Σ gx·x̂ = 0;
# 5. running statistics (PyTorch's momentum convention, unbiased variance),
#    evaluation mode, and the layers `nn.BatchNorm1d` / `nn.BatchNorm2d` (plot);
# 6. what it does to training: a deep sigmoid MLP that does not learn without
#    it and does with it (plot).
#
# The figure goes to `$MINIGRAD_TUTORIAL_OUT` (default `tutorial_output/`).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import kernels.batchnorm
import minigrad
import minigrad.functional as F
from minigrad import nn
from minigrad.data import DataLoader, load
from minigrad.tensor import result
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)
EPS = 1e-5

# %% [markdown]
# ## 1. The forward pass
#
# For each channel c, over its M values (M = N for an (N, C) input, N·H·W for
# (N, C, H, W)):
#
# $$\begin{aligned}
# \mu &= \frac{1}{M}\sum x && \text{the batch mean} \\
# \sigma^2 &= \frac{1}{M}\sum (x - \mu)^2 && \text{the batch variance (biased: divide by $M$)} \\
# \hat x &= \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} && \text{zero mean, unit variance} \\
# y &= \gamma \hat x + \beta && \text{the learned scale and shift}
# \end{aligned}$$
#
# Write inv_std = 1/√(σ² + ε). Four samples, two features:

# %%
x = np.array([[1.0, 10.0],
              [2.0, 20.0],
              [3.0, 30.0],
              [6.0, 60.0]])
gamma, beta = np.array([1.0, 0.5]), np.array([0.0, 1.0])

mu = x.mean(axis=0)                       # [3, 30]
var = ((x - mu) ** 2).mean(axis=0)        # [3.5, 350]
inv_std = 1 / np.sqrt(var + EPS)
x_hat = (x - mu) * inv_std
y = gamma * x_hat + beta
print("μ =", mu, " σ² =", var, "\nx̂ =\n", x_hat.round(4))

mean_k, var_k = kernels.batchnorm.statistics(x)
assert np.allclose(mean_k, [3, 30]) and np.allclose(var_k, [3.5, 350])
assert np.allclose(kernels.batchnorm.normalize(x, mean_k, var_k, gamma, beta, EPS), y)
# the second feature is the first times 10: after normalising they are the same
assert np.allclose(x_hat[:, 0], x_hat[:, 1], atol=1e-6)

# %% [markdown]
# ## 2. The backward, step by step
#
# We are given gy = ∂L/∂y (same shape as x) and want gx, gγ, gβ. Go through the
# forward in reverse, one line at a time; sums run over the M values of a channel.
#
# **Step 1, y = γ x̂ + β.** γ and β are shared by all M values, so their gradients
# collect over them; x̂ gets the local factor γ:
#
# $$g_\beta = \sum g_y, \qquad g_\gamma = \sum g_y \hat x, \qquad g_{\hat x} = \gamma\, g_y$$
#
# **Step 2, x̂ = (x − μ)·inv_std** with inv_std = (σ² + ε)^(−½). x̂ depends on
# x directly, and on σ² through inv_std (∂inv_std/∂σ² = −½ (σ² + ε)^(−3/2) = −½ inv_std³):
#
# $$g_{\sigma^2} = \sum g_{\hat x}\,(x - \mu) \cdot \big(-\tfrac12\big) \cdot \text{inv_std}^3$$
#
# **Step 3, σ² = (1/M) Σ (x − μ)²**: ∂σ²/∂x = 2(x − μ)/M, and ∂σ²/∂μ = −(2/M) Σ (x − μ) = 0.
# **Step 4, μ = (1/M) Σ x**: μ reaches y through x̂ (with factor −inv_std) and
# through σ² (with a zero factor, just seen):
#
# $$g_\mu = -\text{inv_std} \sum g_{\hat x} + g_{\sigma^2} \cdot 0$$
#
# **Step 5, collect the three paths from x** — directly into x̂, through σ², through μ:
#
# $$g_x = g_{\hat x}\, \text{inv_std} + g_{\sigma^2} \frac{2(x - \mu)}{M} + \frac{g_\mu}{M}$$
#
# Let us compute exactly that, with the tiny batch above and a random gy:

# %%
gy = rng.standard_normal(x.shape)
M = x.shape[0]

g_beta = gy.sum(axis=0)                                           # step 1
g_gamma = (gy * x_hat).sum(axis=0)
g_x_hat = gamma * gy
g_var = (g_x_hat * (x - mu)).sum(axis=0) * (-0.5) * inv_std ** 3   # step 2
g_mu = -inv_std * g_x_hat.sum(axis=0)                              # steps 3-4
gx_staged = g_x_hat * inv_std + g_var * 2 * (x - mu) / M + g_mu / M  # step 5

# %% [markdown]
# **Step 6, simplify.** Substitute gx̂ = γ·gy and (x − μ) = x̂/inv_std:
#
# $$\begin{aligned}
# g_{\sigma^2} \frac{2(x - \mu)}{M} &= \Big(-\tfrac12 \text{inv_std}^3 \cdot \frac{\gamma \sum g_y \hat x}{\text{inv_std}}\Big) \cdot \frac{2 \hat x}{M\, \text{inv_std}} = -\frac{\gamma\, \text{inv_std}}{M}\, \hat x \sum g_y \hat x, \\
# \frac{g_\mu}{M} &= -\frac{\gamma\, \text{inv_std}}{M} \sum g_y, \\
# g_{\hat x}\, \text{inv_std} &= \frac{\gamma\, \text{inv_std}}{M}\, M g_y,
# \end{aligned}$$
#
# and the three terms share the factor γ·inv_std/M:
#
# $$g_x = \frac{1}{M}\, \gamma\, \text{inv_std} \Big(M g_y - \sum g_y - \hat x \sum g_y \hat x\Big)$$
#
# — the closed form usually implemented (the three sums of Ioffe & Szegedy's §3, collected). It reuses the two sums
# gβ = Σ gy and gγ = Σ gy·x̂ that the parameters need anyway: a kernel computes
# both in one pass over gy and x, then gx in a second (`kernels/batchnorm/cpu.py`).

# %%
gx_closed = gamma * inv_std / M * (M * gy - g_beta - x_hat * g_gamma)
assert np.allclose(gx_staged, gx_closed, rtol=1e-12, atol=1e-12)

gx_kernel, g_gamma_kernel, g_beta_kernel = kernels.batchnorm.backward(gy, x, mean_k, var_k, gamma, EPS)
assert np.allclose(gx_kernel, gx_closed) and np.allclose(g_gamma_kernel, g_gamma) and np.allclose(g_beta_kernel, g_beta)
print("staged chain rule == closed form == kernel; gx =\n", gx_closed.round(5))

# %% [markdown]
# ## 3. Checked three more ways
#
# * **gradcheck**: `F.batch_norm(..., training=True)` is the kernel-backed op;
#   central differences of the whole forward must agree with its backward.
# * **composition**: batch norm written with minigrad Tensor ops (mean, power,
#   sqrt, broadcasting) gets its gradient from the chain rule of lesson 02,
#   with no formula of ours; it must agree with the kernel.
# * **the bug**: pretend μ and σ² are constants and the backward would be just
#   γ·inv_std·gy (the first term). gradcheck refuses it.

# %%
shape = (6, 3, 4, 4) if QUICK else (16, 4, 6, 6)
xt = minigrad.tensor(rng.normal(2.0, 3.0, shape), requires_grad=True)
wt = minigrad.tensor(rng.standard_normal(shape[1]), requires_grad=True)
bt = minigrad.tensor(rng.standard_normal(shape[1]), requires_grad=True)


def kernel_bn(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True, eps=EPS)


def composed_bn(x, w, b):
    c = (1, x.shape[1], 1, 1)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (x - mean) / (var + EPS).sqrt() * w.reshape(c) + b.reshape(c)


assert minigrad.gradcheck(kernel_bn, [xt, wt, bt])
g = minigrad.tensor(rng.standard_normal(shape))
for kernel_grad, composed_grad in zip(minigrad.grad((kernel_bn(xt, wt, bt) * g).sum(), [xt, wt, bt]),
                                      minigrad.grad((composed_bn(xt, wt, bt) * g).sum(), [xt, wt, bt])):
    assert np.allclose(kernel_grad.numpy(), composed_grad.numpy(), rtol=1e-8, atol=1e-10)
print("kernel backward == composed Tensor-op backward == finite differences")

# %% [markdown]
# The wrong backward, written as an op of its own with `minigrad.tensor.result`
# (lesson 03's way of writing a deliberate bug):

# %%
def wrong_bn(x):
    mean, var = kernels.batchnorm.statistics(x.array)
    inv = (1 / np.sqrt(var + EPS))[None, :, None, None]
    y = kernels.batchnorm.normalize(x.array, mean, var, eps=EPS)
    return result(y, "wrong_bn", (x,), (lambda g, out: g * minigrad.Tensor._wrap(inv),))  # BUG: only the first term


try:
    minigrad.gradcheck(wrong_bn, [xt])
    raise AssertionError("gradcheck should have caught the missing terms")
except minigrad.GradcheckError as error:
    print("treating μ, σ² as constants →", str(error)[:110], "…")

# %% [markdown]
# ## 4. What the formula says: gx is orthogonal to 1 and to x̂
#
# Sum the closed form over a channel: Σ(M·gy − Σgy − x̂·Σgy·x̂) = M Σgy − M Σgy −
# (Σ x̂)·Σgy·x̂ = 0, because Σ x̂ = 0. Multiply by x̂ first and sum: M Σgy·x̂ − 0 −
# (Σ x̂²)·Σgy·x̂ = 0, because Σ x̂² = M·σ²/(σ² + ε) ≈ M. So
#
# $$\sum g_x = 0 \qquad \text{and} \qquad \sum g_x \hat x \approx 0 .$$
#
# The reason: y does not change if every x of a channel is shifted by the same
# amount, or (up to ε) scaled by the same factor — so the gradient has no
# component along those two directions. Batch norm makes the layer below it
# invariant to the shift and scale of its output.

# %%
mean_b, var_b = kernels.batchnorm.statistics(xt.numpy())
gx_big, _, _ = kernels.batchnorm.backward(g.numpy(), xt.numpy(), mean_b, var_b, wt.numpy(), EPS)
x_hat_b = (xt.numpy() - mean_b[None, :, None, None]) / np.sqrt(var_b + EPS)[None, :, None, None]
print("Σ gx per channel:   ", gx_big.sum(axis=(0, 2, 3)))
print("Σ gx·x̂ per channel: ", (gx_big * x_hat_b).sum(axis=(0, 2, 3)))
assert np.allclose(gx_big.sum(axis=(0, 2, 3)), 0, atol=1e-10)
assert np.allclose((gx_big * x_hat_b).sum(axis=(0, 2, 3)), 0, atol=1e-4)

# %% [markdown]
# ## 5. Running statistics and evaluation mode
#
# At test time there may be one image, not a batch, so batch norm uses statistics
# estimated during training. After each training batch (PyTorch's convention,
# where momentum is the weight of the *new* batch):
#
# $$\begin{aligned}
# \text{running_mean} &\leftarrow (1 - m)\, \text{running_mean} + m\, \mu, \\
# \text{running_var} &\leftarrow (1 - m)\, \text{running_var} + m\, \sigma^2 \frac{M}{M - 1}, \qquad m = \text{momentum}.
# \end{aligned}$$
#
# The variance is made unbiased (M − 1 in the denominator) because it estimates
# the variance of the population, not of this batch. In evaluation mode,
# y = γ (x − running_mean)/√(running_var + ε) + β: a fixed per-channel affine
# map, which minigrad composes of Tensor ops (`_evaluate` in
# `minigrad/ops/batchnorm.py`), so it is differentiable to any order — while the
# training-mode op is kernel-backed and first-order.
#
# Feed a `BatchNorm2d` batches from a distribution with known per-channel mean
# and variance, and watch the running statistics converge:

# %%
true_mean, true_std = np.array([-1.0, 0.5, 3.0]), np.array([0.5, 1.0, 2.0])
layer = nn.BatchNorm2d(3, momentum=0.1).double()
steps = 40 if QUICK else 150
history = []
for step in range(steps):
    batch = true_mean[None, :, None, None] + true_std[None, :, None, None] * rng.standard_normal((8, 3, 4, 4))
    layer(minigrad.tensor(batch))
    history.append((layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()))
assert int(layer.num_batches_tracked.item()) == steps
print("running mean", layer.running_mean.numpy().round(3), "(true", true_mean, ")")
print("running var ", layer.running_var.numpy().round(3), "(true", true_std ** 2, ")")
assert np.allclose(layer.running_mean.numpy(), true_mean, atol=0.25)
assert np.allclose(layer.running_var.numpy(), true_std ** 2, rtol=0.35)

# by hand: one step from the initial state (0, 1), with M = 2 values
running_mean, running_var = minigrad.tensor(np.zeros(1)), minigrad.tensor(np.ones(1))
F.batch_norm(minigrad.tensor(np.array([[1.0], [3.0]])), running_mean, running_var, training=True, momentum=0.1)
assert np.allclose(running_mean.numpy(), 0.9 * 0 + 0.1 * 2) and np.allclose(running_var.numpy(), 0.9 * 1 + 0.1 * 2)

layer.eval()
probe = minigrad.tensor(true_mean[None, :, None, None] + np.zeros((1, 3, 2, 2)), requires_grad=True)
out = layer(probe)  # x = the true mean → ≈ 0 after normalising with the running statistics
assert np.allclose(out.numpy(), 0, atol=0.3)
assert minigrad.gradgradcheck(lambda t: layer(t) ** 2, [probe])  # eval mode: composed, second order works
try:
    minigrad.grad((F.batch_norm(xt, None, None, training=True) ** 2).sum(), [xt], create_graph=True)
    raise AssertionError("training-mode batch norm should refuse create_graph")
except RuntimeError as error:
    assert "first-order" in str(error)
print("layer state_dict:", list(layer.state_dict()))
assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]

means, variances = (np.array(h) for h in zip(*history))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for c in range(3):
    axes[0].plot(means[:, c], label=f"channel {c}")
    axes[0].axhline(true_mean[c], color=f"C{c}", linestyle=":")
    axes[1].plot(variances[:, c], label=f"channel {c}")
    axes[1].axhline(true_std[c] ** 2, color=f"C{c}", linestyle=":")
axes[0].set_title("running_mean (dotted: true mean)")
axes[1].set_title("running_var (dotted: true variance)")
for ax in axes:
    ax.set_xlabel("training batch")
    ax.legend()
fig.tight_layout()
show(fig, "10_running_statistics.png", dpi=120)

# %% [markdown]
# ## 6. What batch norm does to training
#
# Everything above is about one layer. Its point shows in a deep network: take
# an MLP with four hidden layers of 100 **sigmoid** units on the embedded MNIST
# digits, and train it twice from the same initial weights, with the same
# batches and plain SGD at the same rate, once as it is and once with
# `nn.BatchNorm1d` between each `Linear` and its sigmoid.
#
# Without batch norm the gradient reaching the first layers is a product of
# four sigmoid derivatives, each at most σ′(0) = 1/4, times the weights; with
# PyTorch's default initialisation it is too small to move them, and the loss
# sits at ln 10 ≈ 2.30, chance. Batch norm re-centres and re-scales every
# layer's pre-activations to zero mean and unit variance, where the sigmoid is
# steep, whatever the weights below did, and γ, β let the network pick another
# scale if that helps. The same rate now trains. (Ioffe & Szegedy report the
# same effect for sigmoid networks on ImageNet: they train only with batch norm.)

# %%
digits, test_digits = load("mnist", flatten=True)


def sigmoid_mlp(batch_norm, depth=4, width=100):
    layers, n = [], 784
    for _ in range(depth):
        layers += [nn.Linear(n, width)] + ([nn.BatchNorm1d(width)] if batch_norm else []) + [nn.Sigmoid()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 10))


steps = 300 if QUICK else 1500
curves, accuracies = {}, {}
for batch_norm in (False, True):
    minigrad.manual_seed(0)
    net = sigmoid_mlp(batch_norm)
    sgd = minigrad.optim.SGD(net.parameters(), lr=0.1)
    losses = []
    loader = DataLoader(digits, batch_size=64, shuffle=True, seed=0)
    while len(losses) < steps:
        for xb, yb in loader:
            loss = F.cross_entropy(net(xb), yb)
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    net.eval()
    with minigrad.no_grad():
        accuracies[batch_norm] = float((net(minigrad.tensor(test_digits.x)).numpy().argmax(axis=1)
                                        == test_digits.y).mean())
    curves[batch_norm] = np.array(losses)
    print(f"{'with' if batch_norm else 'without'} batch norm: loss {losses[0]:.3f} → {np.mean(losses[-50:]):.3f} "
          f"(mean of the last 50 steps), test accuracy {accuracies[batch_norm]:.3f}")

assert np.mean(curves[True][-50:]) < 0.5 * np.mean(curves[False][-50:]), "batch norm trains faster"
assert accuracies[True] > (0.85 if QUICK else 0.93) and accuracies[True] > accuracies[False] + 0.1, accuracies

fig, ax = plt.subplots(figsize=(7, 3.8))
window = 20
for batch_norm, color in ((False, "C3"), (True, "C0")):
    curve = curves[batch_norm]
    label = f"{'with' if batch_norm else 'without'} BatchNorm1d (test acc. {accuracies[batch_norm]:.2f})"
    ax.plot(curve, color=color, alpha=0.25)
    ax.plot(np.arange(window - 1, steps), np.convolve(curve, np.ones(window) / window, mode="valid"),
            color=color, label=label)
ax.axhline(np.log(10), color="0.5", linestyle=":", label="ln 10: chance")
ax.set(xlabel="SGD step (batch of 64, lr 0.1)", ylabel="cross-entropy",
       title="A 4-hidden-layer sigmoid MLP, same start, same batches")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
show(fig, "10_training_with_batch_norm.png", dpi=100)

# %% [markdown]
# ## Exercises
#
# 1. With momentum 0.1 the running mean forgets its start like 0.9ᵗ. How many
#    batches until the initial 0 weighs less than 1%? Check it on the plot.
# 2. Set `momentum=None` (a cumulative average, 1/t per batch) and compare the
#    curves: which is closer to the truth after 150 batches, and which would
#    follow a distribution that drifts during training?
# 3. Train-mode batch norm on a batch of 2 samples of an (N, C) input: what is x̂?
#    What is gx, whatever gy is? (Hint: section 4.)


# %% [markdown]
# ## References
#
# * S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
#   Internal Covariate Shift", ICML 2015, <https://arxiv.org/abs/1502.03167> — §3, the forward and the staged backward.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 10: all checks passed")
