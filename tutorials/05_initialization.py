# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 05 · Weight initialisation
#
# Before any training, a deep network's random weights already decide whether
# signals can flow through it. This lesson repeats the experiment of Glorot & Bengio
# (2010, §4) and He et al. (2015, §2.2): push a batch of N(0, 1) inputs through a
# 10-layer network with no biases and look at the activations of every layer,
# and at the gradients coming back, for
#
# * tanh with weights N(0, 0.01²) — activations shrink to 0 (vanishing);
# * tanh with weights N(0, 1) — activations pile up at ±1 (saturation), and
#   the gradient explodes on its way back down;
# * tanh with Xavier weights — activations stay spread out;
# * ReLU with Xavier weights — activations shrink by 1/√2 per layer;
# * ReLU with He weights — activations keep their scale.
#
# All weights come from `minigrad.nn.init` (open `minigrad/nn/init.py`: the
# variance argument below is its docstring). Xavier's rule is from Glorot &
# Bengio, "Understanding the difficulty of training deep feedforward neural
# networks" (AISTATS 2010), He's from He, Zhang, Ren & Sun, "Delving deep into
# rectifiers" (ICCV 2015). The figure is written to the
# folder named by `MINIGRAD_TUTORIAL_OUT` (default `tutorial_output/`).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad
from minigrad.nn import init
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"

DEPTH = 10
WIDTH = 200 if QUICK else 500  # units per layer; the inputs have the same size
SAMPLES = 250 if QUICK else 1000

# %% [markdown]
# ## The variance argument
#
# One unit of a layer computes z = Σᵢ wᵢ aᵢ over n inputs. With independent,
# zero-mean weights and inputs,
#
# $$\operatorname{Var}(z) = n \operatorname{Var}(w)\, \mathrm{E}[a^2] .$$
#
# * Var(w) = 0.01² and n = 500: each layer multiplies the scale by
#   0.01·√500 ≈ 0.22 (tanh is ≈ linear near 0), so after 10 layers ≈ 0.22¹⁰ ≈ 3e-7.
# * Var(w) = 1: z has a standard deviation of about √500 ≈ 22 (the inputs, and
#   later the ±1 activations, have E[a²] ≈ 1), and tanh(z) is ±1 for almost
#   every unit. The gradient through tanh, 1 − tanh²(z), is then ≈ 0.
# * Xavier/Glorot: Var(w) = 2 / (n_in + n_out) = 1/n for square layers, so
#   Var(z) = E[a²]: the scale is kept (tanh still shrinks it a little per layer).
# * ReLU zeroes half its inputs, so E[relu(z)²] = ½ Var(z). With Xavier's 1/n the
#   second moment halves every layer: the scale falls by 1/√2 per layer.
#   He/Kaiming doubles the variance to Var(w) = 2/n to make up for it.

# %%
CONFIGS = [  # (label, nonlinearity, how to fill a weight of shape (WIDTH, WIDTH))
    ("tanh, N(0, 0.01²)", "tanh", lambda w, gen: init.normal_(w, 0.0, 0.01, generator=gen)),
    ("tanh, N(0, 1)", "tanh", lambda w, gen: init.normal_(w, 0.0, 1.0, generator=gen)),
    ("tanh, Xavier", "tanh", lambda w, gen: init.xavier_normal_(w, generator=gen)),
    ("ReLU, Xavier", "relu", lambda w, gen: init.xavier_normal_(w, generator=gen)),
    ("ReLU, He", "relu", lambda w, gen: init.kaiming_normal_(w, nonlinearity="relu", generator=gen)),
]


def forward_backward(fill, nonlinearity, seed=0):
    """The activations (SAMPLES, WIDTH) of each of the DEPTH layers of a bias-free MLP
    a ← f(a Wᵀ), for inputs drawn from N(0, 1); and the gradients ∂L/∂a of each layer
    when an N(0, 1) gradient arrives at the top (L = Σ a_top ⊙ g, g fixed), as
    backprop would bring it down from a loss."""
    generator = np.random.default_rng(seed)
    a = minigrad.tensor(generator.standard_normal((SAMPLES, WIDTH)).astype(np.float32), requires_grad=True)
    activations = []
    for _ in range(DEPTH):
        w = fill(minigrad.tensor(np.empty((WIDTH, WIDTH), dtype=np.float32)), generator)
        z = a @ w.T
        a = (z.tanh() if nonlinearity == "tanh" else z.relu()).retain_grad()
        activations.append(a)
    top_gradient = generator.standard_normal((SAMPLES, WIDTH)).astype(np.float32)
    (a * minigrad.tensor(top_gradient)).sum().backward()
    return [t.numpy() for t in activations], [t.grad.numpy() for t in activations]


runs = {label: forward_backward(fill, nonlinearity) for label, nonlinearity, fill in CONFIGS}
results = {label: run[0] for label, run in runs.items()}
gradients = {label: run[1] for label, run in runs.items()}
stds = {label: np.array([layer.std() for layer in layers]) for label, layers in results.items()}
grad_stds = {label: np.array([g.std() for g in layers]) for label, layers in gradients.items()}
for label, std in stds.items():
    print(f"{label:<18} std by layer: " + " ".join(f"{s:8.2e}" for s in std))
    print(f"{'':<18}   ∂L/∂a std: " + " ".join(f"{s:8.2e}" for s in grad_stds[label]))

# %% [markdown]
# ## The forward histograms, and both directions' scales
#
# Top row: one panel per initialisation, the histograms of the ten layers
# overlaid (dark = layer 1, light = layer 10), the fraction of units per bin on
# a log scale so that a spike and a spread are both visible. The tanh panels
# share the range [−1, 1]; the ReLU panels show the positive values (half of
# them are exactly 0), so a shrinking scale is a histogram squeezed to the left.
#
# Bottom row: the standard deviation per layer of the activations (left) and of
# the gradients ∂L/∂a coming back down (right). The backward pass obeys the same
# argument with the fans swapped,
#
# $$\operatorname{Var}\Big(\frac{\partial L}{\partial a_\text{in}}\Big) = n_\text{out} \operatorname{Var}(w)\, \mathrm{E}[f'(z)^2] \operatorname{Var}\Big(\frac{\partial L}{\partial a_\text{out}}\Big),$$
#
# so an initialisation that shrinks the forward signal shrinks the gradient on
# its way down too, and weights too large for the layer make it grow.

# %%
# three histograms a row (12 inches at 100 dpi: the width of the page's column, so the
# labels show at their size)
fig = plt.figure(figsize=(12, 12))
grid = fig.add_gridspec(2, 1, height_ratios=[2, 1.1], hspace=0.28)
top = grid[0].subgridspec(2, 3, wspace=0.3, hspace=0.45)
bottom = grid[1].subgridspec(1, 2, wspace=0.25)
shades = plt.cm.viridis(np.linspace(0, 0.9, DEPTH))
for column, (label, nonlinearity, _) in enumerate(CONFIGS):
    layers = results[label]
    value_range = (-1, 1) if nonlinearity == "tanh" else (0, max(layer.max() for layer in layers))
    ax = fig.add_subplot(top[column // 3, column % 3])
    for depth, layer in enumerate(layers):
        values = layer.ravel() if nonlinearity == "tanh" else layer[layer > 0]
        ax.hist(values, bins=40, range=value_range, weights=np.full(values.size, 1 / values.size),
                histtype="step", color=shades[depth], linewidth=1.3,
                label=f"layer {depth + 1}" if depth in (0, DEPTH - 1) else None)
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1.5)
    ax.set_title(label, fontsize=12)
    ax.set_xlabel("activation" if nonlinearity == "tanh" else "activation (> 0 only)", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9, loc="upper right")
    if column % 3 == 0:
        ax.set_ylabel("fraction of units per bin", fontsize=10)
for column, (what, values) in enumerate((("activations a", stds), ("gradients ∂L/∂a", grad_stds))):
    ax = fig.add_subplot(bottom[column])
    for row, (label, _, _) in enumerate(CONFIGS):
        ax.plot(range(1, DEPTH + 1), values[label], "o-", color=f"C{row}", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer", fontsize=10)
    ax.set_ylabel("standard deviation", fontsize=10)
    ax.set_title(f"Scale of the {what} by layer" + ("\n(backward: read right to left)" if column else ""), fontsize=12)
    ax.set_xticks(range(1, DEPTH + 1))
    ax.tick_params(labelsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
fig.suptitle(f"A {DEPTH}-layer MLP of width {WIDTH} at initialisation, inputs N(0, 1)", fontsize=14)
show(fig, "05_activation_histograms.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# ## What the figure shows, asserted
#
# **N(0, 0.01²), tanh: vanishing.** Each layer scales the activations by about
# 0.01·√n, and by layer 10 they are all but zero. The gradients flowing back
# are scaled the same way, so the first layers would not learn.

# %%
tiny = stds["tanh, N(0, 0.01²)"]
assert tiny[-1] < 1e-3, tiny
per_layer = tiny[1:] / tiny[:-1]
np.testing.assert_allclose(per_layer, 0.01 * np.sqrt(WIDTH), rtol=0.15)
print(f"N(0, 0.01²): layer-10 std {tiny[-1]:.1e}; "
      f"each layer scales by ≈ 0.01·√{WIDTH} = {0.01 * np.sqrt(WIDTH):.3f}")
# and the gradient shrinks by the same factor per layer on its way down
tiny_grad = grad_stds["tanh, N(0, 0.01²)"]
np.testing.assert_allclose(tiny_grad[:-1] / tiny_grad[1:], 0.01 * np.sqrt(WIDTH), rtol=0.15)

# %% [markdown]
# **N(0, 1), tanh: saturation forwards, explosion backwards.** Most units sit
# at ±1, where tanh's local gradient 1 − a² is nearly 0, so a weight feeding a
# saturated unit learns almost nothing. But the weights are √n times Xavier's,
# and the few unsaturated units pass the gradient down multiplied by them: per
# layer the scale of ∂L/∂a grows by √(n · Var(w) · E[(1 − a²)²]), and layer 1
# receives a gradient thousands of times larger than layer 10's. Both
# directions are broken; no learning rate suits every layer.

# %%
for layer, a in enumerate(results["tanh, N(0, 1)"], start=1):
    saturated = np.mean(np.abs(a) > 0.99)
    assert saturated > 0.5, (layer, saturated)
last = results["tanh, N(0, 1)"][-1]
print(f"N(0, 1): {np.mean(np.abs(last) > 0.99):.0%} of layer-10 units have |a| > 0.99; "
      f"mean local gradient 1 − a² = {np.mean(1 - last ** 2):.3f}")
assert np.mean(1 - last ** 2) < 0.2
saturated_grad = grad_stds["tanh, N(0, 1)"]
# backwards: per layer the gradient's scale grows by √(n · Var(w) · E[f′²]), f′ = 1 − a²
growth = np.array([np.sqrt(WIDTH * np.mean((1 - a ** 2) ** 2)) for a in results["tanh, N(0, 1)"][1:]])
np.testing.assert_allclose(saturated_grad[:-1] / saturated_grad[1:], growth, rtol=0.2)
assert saturated_grad[0] > 100 * saturated_grad[-1], saturated_grad
print(f"N(0, 1): the gradient grows ×{np.mean(growth):.1f} per layer on its way down "
      f"(layer 1 gets {saturated_grad[0] / saturated_grad[-1]:.0f}× layer 10's)")

# %% [markdown]
# **Xavier, tanh: healthy.** The spread shrinks slowly (tanh squashes a little
# at every layer) but stays well away from both 0 and saturation.

# %%
xavier = stds["tanh, Xavier"]
assert np.all((0.1 < xavier) & (xavier < 0.9)), xavier
assert np.mean(np.abs(results["tanh, Xavier"][-1]) > 0.99) < 0.05
print(f"Xavier tanh: std from {xavier[0]:.2f} (layer 1) to {xavier[-1]:.2f} (layer 10)")
xavier_grad = grad_stds["tanh, Xavier"]
assert 0.1 < xavier_grad[0] / xavier_grad[-1] < 10, xavier_grad  # the gradient reaches layer 1

# %% [markdown]
# **ReLU: Xavier shrinks, He keeps.** With Xavier the ratio of layer-10 to
# layer-1 scale is about (1/√2)⁹ ≈ 0.044; with He it stays near 1.

# %%
he, xavier_relu = stds["ReLU, He"], stds["ReLU, Xavier"]
assert 0.5 < he[-1] / he[0] < 2, he
expected = (1 / np.sqrt(2)) ** (DEPTH - 1)
assert xavier_relu[-1] / xavier_relu[0] < 0.1, xavier_relu
assert expected / 2 < xavier_relu[-1] / xavier_relu[0] < expected * 2, (xavier_relu, expected)
# backwards, the same factor per layer: He keeps the gradient, Xavier loses (1/√2)⁹ of it
he_grad, xavier_relu_grad = grad_stds["ReLU, He"], grad_stds["ReLU, Xavier"]
assert 0.5 < he_grad[0] / he_grad[-1] < 2, he_grad
assert expected / 2 < xavier_relu_grad[0] / xavier_relu_grad[-1] < expected * 2, (xavier_relu_grad, expected)
print(f"ReLU: layer10/layer1 std ratio He {he[-1] / he[0]:.2f}, Xavier {xavier_relu[-1] / xavier_relu[0]:.3f} "
      f"(theory (1/√2)^9 = {expected:.3f})")

# %% [markdown]
# ## The initialisers' variances
#
# Finally, check that `minigrad.nn.init` draws with the variances used above:
# Xavier 2/(n_in + n_out), He 2/n_in (mode "fan_in"), on a non-square weight so
# the two fans differ. `calculate_gain` holds the factor for each
# nonlinearity (√2 for ReLU; 5/3 for tanh, which PyTorch suggests passing as
# `gain=` to Xavier for tanh networks — try it in exercise 1).

# %%
generator = np.random.default_rng(1)
n_out, n_in = 300, 700
w = minigrad.tensor(np.empty((n_out, n_in), dtype=np.float32))
init.xavier_normal_(w, generator=generator)
np.testing.assert_allclose(w.numpy().var(), 2 / (n_in + n_out), rtol=0.02)
init.kaiming_normal_(w, nonlinearity="relu", generator=generator)
np.testing.assert_allclose(w.numpy().var(), 2 / n_in, rtol=0.02)
assert init.calculate_gain("relu") == np.sqrt(2)
print("Var(xavier_normal_) = 2/(n_in + n_out), Var(kaiming_normal_, relu) = 2/n_in")

# %% [markdown]
# ## Exercises
#
# 1. Run the tanh network with `init.xavier_normal_(w, gain=init.calculate_gain("tanh"))`.
#    Does the layer-10 spread get closer to layer 1? Why is 5/3 the right gain?
# 2. Give the weights `requires_grad=True` and compare the gradient norms of W
#    in layer 1 and layer 10 for each row: ∂L/∂W = (∂L/∂z)ᵀ a, so which of the
#    two curves of the bottom row does it follow?
# 3. He init uses only fan_in. Try `mode="fan_out"`: what does it preserve instead?


# %% [markdown]
# ## References
#
# * X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
#   networks", AISTATS 2010, <https://proceedings.mlr.press/v9/glorot10a.html>.
# * K. He, X. Zhang, S. Ren, J. Sun, "Delving Deep into Rectifiers", ICCV 2015,
#   <https://arxiv.org/abs/1502.01852>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 05: all checks passed")
