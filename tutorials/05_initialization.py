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
# signals can flow through it. This lesson repeats the lecture notes'
# experiment: push a batch of N(0, 1) inputs through a 10-layer network with
# no biases and look at the activations of every layer, for
#
# * tanh with weights N(0, 0.01²) — activations shrink to 0 (vanishing);
# * tanh with weights N(0, 1) — activations pile up at ±1 (saturation);
# * tanh with Xavier weights — activations stay spread out;
# * ReLU with Xavier weights — activations shrink by 1/√2 per layer;
# * ReLU with He weights — activations keep their scale.
#
# All weights come from `minigrad.nn.init` (open `minigrad/nn/init.py`: the
# variance argument below is its docstring). The figure is written to the
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
#     Var(z) = n · Var(w) · E[a²].
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


def layer_activations(fill, nonlinearity, seed=0):
    """Activations (SAMPLES, WIDTH) of each of the DEPTH layers of a bias-free MLP
    a ← f(a Wᵀ), for inputs drawn from N(0, 1)."""
    generator = np.random.default_rng(seed)
    a = minigrad.tensor(generator.standard_normal((SAMPLES, WIDTH)).astype(np.float32))
    activations = []
    with minigrad.no_grad():  # only looking: record no graph
        for _ in range(DEPTH):
            w = fill(minigrad.tensor(np.empty((WIDTH, WIDTH), dtype=np.float32)), generator)
            z = a @ w.T
            a = z.tanh() if nonlinearity == "tanh" else z.relu()
            activations.append(a.numpy())
    return activations


results = {label: layer_activations(fill, nonlinearity) for label, nonlinearity, fill in CONFIGS}
stds = {label: np.array([layer.std() for layer in layers]) for label, layers in results.items()}
for label, std in stds.items():
    print(f"{label:<18} std by layer: " + " ".join(f"{s:8.2e}" for s in std))

# %% [markdown]
# ## Per-layer histograms
#
# One row per initialisation, one column per layer. The tanh rows share the
# x-range [−1, 1]; the ReLU rows show the positive values (half of them are
# exactly 0) on a common range, so a shrinking scale is visible as a
# histogram squeezed to the left.

# %%
fig, axes = plt.subplots(len(CONFIGS), DEPTH, figsize=(2 * DEPTH, 2.2 * len(CONFIGS)), sharey="row")
fig.subplots_adjust(left=0.04, right=0.99, bottom=0.04, top=0.9, hspace=0.7, wspace=0.15)
for row, (label, nonlinearity, _) in enumerate(CONFIGS):
    layers = results[label]
    value_range = (-1, 1) if nonlinearity == "tanh" else (0, max(layer.max() for layer in layers))
    for column, layer in enumerate(layers):
        values = layer.ravel() if nonlinearity == "tanh" else layer[layer > 0]
        ax = axes[row, column]
        ax.hist(values, bins=40, range=value_range, density=True, histtype="stepfilled", color=f"C{row}")
        ax.set_title(f"layer {column + 1}\nstd {stds[label][column]:.1e}", fontsize=8)
        ax.tick_params(labelsize=6)
    axes[row, 0].set_ylabel(label, fontsize=9)
fig.suptitle(f"Activations of a {DEPTH}-layer MLP, width {WIDTH}, inputs N(0, 1)")
figure_path = show(fig, "05_activation_histograms.png", dpi=70)
print("figure written to", figure_path)

# %% [markdown]
# ## What the histograms show, asserted
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

# %% [markdown]
# **N(0, 1), tanh: saturation.** Most units sit at ±1, where the local gradient
# 1 − a² of tanh is nearly 0: again, almost nothing flows back.

# %%
for layer, a in enumerate(results["tanh, N(0, 1)"], start=1):
    saturated = np.mean(np.abs(a) > 0.99)
    assert saturated > 0.5, (layer, saturated)
last = results["tanh, N(0, 1)"][-1]
print(f"N(0, 1): {np.mean(np.abs(last) > 0.99):.0%} of layer-10 units have |a| > 0.99; "
      f"mean local gradient 1 − a² = {np.mean(1 - last ** 2):.3f}")
assert np.mean(1 - last ** 2) < 0.2

# %% [markdown]
# **Xavier, tanh: healthy.** The spread shrinks slowly (tanh squashes a little
# at every layer) but stays well away from both 0 and saturation.

# %%
xavier = stds["tanh, Xavier"]
assert np.all((0.1 < xavier) & (xavier < 0.9)), xavier
assert np.mean(np.abs(results["tanh, Xavier"][-1]) > 0.99) < 0.05
print(f"Xavier tanh: std from {xavier[0]:.2f} (layer 1) to {xavier[-1]:.2f} (layer 10)")

# %% [markdown]
# **ReLU: Xavier shrinks, He keeps.** With Xavier the ratio of layer-10 to
# layer-1 scale is about (1/√2)⁹ ≈ 0.044; with He it stays near 1.

# %%
he, xavier_relu = stds["ReLU, He"], stds["ReLU, Xavier"]
assert 0.5 < he[-1] / he[0] < 2, he
expected = (1 / np.sqrt(2)) ** (DEPTH - 1)
assert xavier_relu[-1] / xavier_relu[0] < 0.1, xavier_relu
assert expected / 2 < xavier_relu[-1] / xavier_relu[0] < expected * 2, (xavier_relu, expected)
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
# 2. Put the network under `requires_grad=True` weights, take a loss at the top
#    and compare the gradient norms of layer 1 and layer 10 for each row.
# 3. He init uses only fan_in. Try `mode="fan_out"`: what does it preserve instead?

# %%
print("lesson 05: all checks passed")
