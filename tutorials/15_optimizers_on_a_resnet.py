# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 15 · Comparing optimizers on a ResNet
#
# Lesson 06 checked each update rule on six numbers and an MLP. Here the same rules meet
# a real convolutional network with batch norm and shortcuts, the small CIFAR ResNet of
# He et al. (2016) from `minigrad.models`: SGD with momentum (lr 0.01, μ 0.9), Adam
# (1e-3), RMSprop (1e-3) and AdaGrad (1e-2), each from **the same initial weights** and
# on the same batches, so the optimizer is the only difference. As in the notes, the
# training loss and accuracy are averaged every 2 batches and drawn as moving averages
# (window 5), side by side.
#
# The code it follows: `minigrad/models/resnet.py` (`BasicBlock`, `ResNet`,
# `resnet_cifar`), the four optimizers in `minigrad/optim/`, and `apply`, `state_dict`,
# `load_state_dict` in `minigrad/nn/module.py`.
#
# Data: the Fashion-MNIST subset shipped with minigrad, padded from 28×28 to 32×32 (the
# size the CIFAR ResNet was designed for), or CIFAR-10 when the environment variable
# `MINIGRAD_CIFAR10` names its folder (the one holding `cifar-10-batches-py` or `-bin`).

# %%
import json
import os
import platform
import time

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import models, optim
from minigrad.data import ArrayDataset, DataLoader, channel_stats, load
from minigrad.checkpoint import write_atomically
from minigrad.train import evaluate
from _figures import output_dir, show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()
CIFAR10 = os.environ.get("MINIGRAD_CIFAR10")

# %% [markdown]
# ## The update rules, from the lecture notes on optimization for training deep models
#
# g_t = ∇f(θ_{t−1}) is the gradient of the mini-batch loss, α the learning rate; squares,
# roots and divisions act element by element; every state starts at zero.
#
# **Momentum as an exponential moving average.** v_t = β v_{t−1} + (1−β) g_t,
# θ_t = θ_{t−1} − α v_t. Unrolled, v_t = (1−β) Σ_{i=1}^{t} β^{t−i} g_i: a weighted mean of
# the recent gradients whose weights fall by β per step, so it remembers about 1/(1−β)
# of them (10 for β = 0.9). Components that keep their sign add up; components that
# flip from batch to batch (noise, or the walls of a narrow valley) cancel.
#
# **Nesterov's correction.** Take the gradient where momentum is about to carry the
# weights, not where they are: v_t = μ v_{t−1} − α ∇f(θ_{t−1} + μ v_{t−1}),
# θ_t = θ_{t−1} + v_t (Sutskever, Martens, Dahl and Hinton 2013, eq. (3)–(4)). If momentum
# overshoots, the look-ahead gradient already points back and brakes it.
#
# **AdaGrad.** s_t = s_{t−1} + g_t², θ_t = θ_{t−1} − α g_t / (√s_t + ε): each weight's
# step is divided by the root of the sum of all its squared gradients, so often-updated
# weights slow down and rare ones keep large steps. s only grows: the effective rate
# α/√s_t decays for ever, which can stop learning too early.
#
# **RMSprop.** s_t = ρ s_{t−1} + (1−ρ) g_t², θ_t = θ_{t−1} − α g_t / (√s_t + ε): AdaGrad
# with the sum replaced by an exponential moving average (ρ = 0.99 in PyTorch, where it
# is called `alpha`), so the rate follows the recent gradient size instead of decaying.
#
# **Adam, with its bias correction.** m_t = β₁ m_{t−1} + (1−β₁) g_t and
# v_t = β₂ v_{t−1} + (1−β₂) g_t² (momentum and RMSprop together), then
# m̂_t = m_t / (1−β₁ᵗ), v̂_t = v_t / (1−β₂ᵗ), θ_t = θ_{t−1} − α m̂_t / (√v̂_t + ε)
# (Kingma and Ba 2015, Algorithm 1). Started at zero, the averages are too small:
# if the gradients have a steady mean, E[m_t] = (1−β₁ᵗ) E[g], and dividing by
# (1−β₁ᵗ) removes exactly that factor. Without it the first step would be
# α (1−β₁)/√(1−β₂) ≈ 3.2 α per weight with β₁ = 0.9, β₂ = 0.999; with it, it is ≈ α.
#
# **PyTorch's SGD** (the algorithm box of `torch.optim.SGD`'s documentation, which
# `minigrad/optim/sgd.py` follows line for line). Inputs: γ (lr), θ₀, f, λ (weight
# decay), μ (momentum), τ (dampening), nesterov, maximize. For t = 1, 2, …:
#
# 1. g_t ← ∇f(θ_{t−1})  (or −∇f(θ_{t−1}) with maximize)
# 2. if λ ≠ 0: g_t ← g_t + λ θ_{t−1}
# 3. if μ ≠ 0: b_t ← g_t when t = 1, else b_t ← μ b_{t−1} + (1−τ) g_t;
#    then g_t ← g_t + μ b_t with nesterov, else g_t ← b_t
# 4. θ_t ← θ_{t−1} − γ g_t
#
# Two differences from the notes: b is a *sum* (no 1−β in front of g_t), so
# `SGD(lr=0.01, momentum=0.9)` moves like the notes' EMA form with α = 0.01/(1−0.9) = 0.1
# (lesson 06 checks that); and Nesterov's look-ahead is folded into a change of variable:
# PyTorch keeps φ = θ + μ v, the look-ahead point itself, where the gradient is taken
# (Bengio, Boulanger-Lewandowski and Pascanu 2013, §3.5). The first check below runs
# Sutskever's two lines and PyTorch's box side by side and finds φ_t = θ_t + μ v_t.

# %%
A = np.array([1.0, 10.0, 100.0])           # f(θ) = ½ Σ A θ², ∇f = A θ: an ill-conditioned bowl
theta0 = np.array([1.0, -1.0, 0.5])
mu, lr = 0.9, 0.005

theta, v = theta0.copy(), np.zeros(3)
phi = mg.tensor(theta0.copy(), requires_grad=True)
sgd = optim.SGD([phi], lr=lr, momentum=mu, nesterov=True)
for t in range(50):
    v = mu * v - lr * A * (theta + mu * v)  # Sutskever et al.: the gradient at the look-ahead point
    theta = theta + v
    phi.grad = mg.tensor(A * phi.numpy())   # PyTorch's box: the gradient at its own θ (= φ)
    sgd.step()
    np.testing.assert_allclose(phi.numpy(), theta + mu * v, rtol=1e-12, atol=1e-14)
print("Nesterov: PyTorch's box keeps φ = θ + μv, Sutskever et al.'s look-ahead point, for all 50 steps")

# %% [markdown]
# ## The data and the network
#
# The images are padded to 32×32 with the background value 0 first, then standardised
# with the training set's mean and standard deviation (the padding counted, so that the
# border is the same value everywhere).

# %%
if CIFAR10:
    train, test = load(f"cifar10:{CIFAR10}")
    source = f"CIFAR-10 from {CIFAR10}"
else:
    train, test = load("fashion-mnist")
    pad = ((0, 0), (0, 0), (2, 2), (2, 2))
    train = ArrayDataset(np.pad(train.x, pad), train.y, train.classes)
    test = ArrayDataset(np.pad(test.x, pad), test.y, test.classes)
    source = "the embedded Fashion-MNIST, padded to 32×32"
mean, std = channel_stats(train.x)  # one value per channel: (C,)


def standardise(x):
    return ((x - mean[:, None, None]) / std[:, None, None]).astype(np.float32)


# full mode: ResNet-20, one epoch of all 9000 shipped Fashion-MNIST training images (of the
# first 10 000 of CIFAR-10's 50 000): about 13 minutes on two busy CPU cores
TRAIN_IMAGES = 1280 if QUICK else 10000
TEST_IMAGES = 500 if QUICK else 2000
DEPTH = 8 if QUICK else 20
BATCH = 32 if QUICK else 64
EPOCHS = 1
train = ArrayDataset(standardise(train.x[:TRAIN_IMAGES]), train.y[:TRAIN_IMAGES])
test = ArrayDataset(standardise(test.x[:TEST_IMAGES]), test.y[:TEST_IMAGES])
channels = train.x.shape[1]
assert train.x.shape[1:] == (channels, 32, 32)
print(f"{source}: {len(train)} training and {len(test)} test images of shape {train.x.shape[1:]}")

mg.manual_seed(0)
model = models.resnet_cifar(DEPTH, num_classes=10, in_channels=channels)
weights = sum(p.array.size for p in model.parameters())
print(f"ResNet-{DEPTH}: {weights:,} weights; stages of {(DEPTH - 2) // 6} BasicBlock(s) at 16, 32, 64 channels")

# %% [markdown]
# ## The same initial weights for every optimizer
#
# The notes' recipe: save the initial state once; before each run, `model.apply(reset)`
# (every layer that has a `reset_parameters` draws fresh weights and clears its running
# statistics), then load the saved state. `apply(fn)` calls `fn` on every sub-module,
# children first, as in PyTorch. The reset alone would give *different* random weights
# to each optimizer, an unfair comparison; the load makes them identical, buffers
# (batch norm's running mean and variance) included.

# %%
initial = model.state_dict()


def reset(module):
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()


def same_state(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


model.apply(reset)
assert not same_state(model.state_dict(), initial)  # fresh random weights …
model.load_state_dict(initial)
assert same_state(model.state_dict(), initial)      # … replaced by the saved ones
print("apply(reset) draws new weights; load_state_dict(initial) restores the saved ones exactly")

# %% [markdown]
# ## Two checks on the real network
#
# PyTorch's SGD box (with weight decay and Nesterov, the most involved path), written in
# NumPy beside `optim.SGD` for three steps on the ResNet's own gradients; and Adam's first
# step, where bias correction makes every weight move by almost exactly α.

# %%
x0, y0 = (mg.tensor(a) for a in train[:BATCH])
params = list(model.parameters())
sgd = optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4, nesterov=True)
theta = [p.numpy().copy() for p in params]
b = [None] * len(params)
for t in range(1, 4):
    sgd.zero_grad()
    F.cross_entropy(model(x0), y0).backward()
    for i, p in enumerate(params):
        g = p.grad.numpy() + 5e-4 * theta[i]                  # 2. weight decay
        b[i] = g if t == 1 else 0.9 * b[i] + g                # 3. momentum buffer (τ = 0)
        theta[i] = theta[i] - 0.01 * (g + 0.9 * b[i])         # 3. Nesterov, 4. the step
    sgd.step()
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.numpy(), theta[i], rtol=2e-5, atol=1e-7)
print("PyTorch's SGD box in NumPy = optim.SGD on the ResNet, 3 steps with weight decay and Nesterov")

model.apply(reset)
model.load_state_dict(initial)
adam = optim.Adam(model.parameters(), lr=1e-3)
adam.zero_grad()
F.cross_entropy(model(x0), y0).backward()
gradients = [p.grad.numpy().copy() for p in model.parameters()]
before = [p.numpy().copy() for p in model.parameters()]
adam.step()
moves = np.concatenate([np.abs(p.numpy() - w)[np.abs(g) > 1e-5].ravel()
                        for p, w, g in zip(model.parameters(), before, gradients)])
assert np.allclose(moves, 1e-3, rtol=2e-2), (moves.min(), moves.max())
print(f"Adam's first step: every weight with a gradient moved by {moves.min():.2e} … {moves.max():.2e} "
      f"(α = 1e-3; uncorrected it would be {0.1 / np.sqrt(0.001):.2f} α)")

# %% [markdown]
# ## The race
#
# Each run: reset and load the initial state, a fresh loader with the same seed (the same
# batches in the same order), then the four lines every training loop shares.
# `every(values, 2)` averages each pair of batches; `moving_average(…, 5)` is the mean of
# each window of 5 such points (so a point summarises 10 batches).

# %%
OPTIMIZERS = {
    "SGD (lr 0.01, momentum 0.9)": lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9),
    "Adam (lr 1e-3)": lambda ps: optim.Adam(ps, lr=1e-3),
    "RMSprop (lr 1e-3)": lambda ps: optim.RMSprop(ps, lr=1e-3),
    "AdaGrad (lr 1e-2)": lambda ps: optim.Adagrad(ps, lr=1e-2),
}


def every(values, k):
    """The mean of each group of k consecutive values (a last, shorter group is dropped)."""
    values = np.asarray(values[:len(values) // k * k], dtype=np.float64)
    return values.reshape(-1, k).mean(axis=1)


def moving_average(values, window):
    """The mean of each run of ``window`` consecutive values (len − window + 1 of them)."""
    return np.convolve(values, np.ones(window) / window, mode="valid")


def run(make_optimizer):
    model.apply(reset)
    model.load_state_dict(initial)
    assert same_state(model.state_dict(), initial)
    optimizer = make_optimizer(model.parameters())
    loader = DataLoader(train, BATCH, shuffle=True, seed=0)
    losses, accuracies = [], []
    model.train()
    start = time.perf_counter()
    for _ in range(EPOCHS):
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            accuracies.append(float((logits.numpy().argmax(axis=1) == y.numpy()).mean()))
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = evaluate(model, DataLoader(test, 500))
    return dict(loss=every(losses, 2), accuracy=every(accuracies, 2), seconds=seconds,
                test_loss=test_loss, test_accuracy=test_accuracy)


load_before = os.getloadavg()
results = {}
for name, make in OPTIMIZERS.items():
    results[name] = run(make)
    r = results[name]
    print(f"{name:28s} train loss {r['loss'][0]:.3f} → {moving_average(r['loss'], 5)[-1]:.3f}, "
          f"accuracy {r['accuracy'][0]:.2f} → {moving_average(r['accuracy'], 5)[-1]:.2f}; "
          f"test accuracy {r['test_accuracy']:.3f} ({r['seconds']:.0f} s)")
load_after = os.getloadavg()

# %%
figure, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, r in results.items():
    for ax, metric in zip(axes, ("loss", "accuracy")):
        smooth = moving_average(r[metric], 5)
        # point j of the moving average covers 2-batch points j … j+4: batches 2j+1 … 2j+10
        batches = 2 * np.arange(len(smooth)) + 10
        ax.plot(batches, smooth, label=f"{name}, test acc {r['test_accuracy']:.2f}")
for ax, metric in zip(axes, ("training loss", "training accuracy")):
    ax.set_xlabel(f"batches of {BATCH} seen")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
axes[1].legend(fontsize=8)
figure.suptitle(f"ResNet-{DEPTH} on {source}: {len(train)} images, {EPOCHS} epoch(s), same initial weights\n"
                f"2-batch means, moving average of 5", fontsize=10)
figure.tight_layout()
show(figure, "15_optimizers_on_a_resnet.png", dpi=100)

record = dict(data=source, train_images=len(train), test_images=len(test), depth=DEPTH, batch=BATCH,
              epochs=EPOCHS, weights=weights, quick=QUICK, machine=f"{platform.machine()}, "
              f"{os.cpu_count()} CPU threads, {platform.python_implementation()} {platform.python_version()}",
              load_average_before=[round(v, 2) for v in load_before],
              load_average_after=[round(v, 2) for v in load_after],
              results={name: dict(seconds=round(r["seconds"], 1), test_accuracy=round(r["test_accuracy"], 4),
                                  final_train_loss=round(float(moving_average(r["loss"], 5)[-1]), 4),
                                  final_train_accuracy=round(float(moving_average(r["accuracy"], 5)[-1]), 4))
                       for name, r in results.items()})
write_atomically(OUT / "15_optimizers_on_a_resnet.json", json.dumps(record, indent=1) + "\n")

# %% [markdown]
# What the runs show (and the checks below hold on every run): every optimizer lowers
# the loss from chance (ln 10 ≈ 2.30) and beats chance on the test images. Which one
# wins depends on the problem, the rate and the budget; with these usual rates the
# adaptive methods lead early, because batch norm and the ReLU make the scale of the
# gradients differ from layer to layer and they divide that scale out, while SGD's
# effective rate 0.01/(1−0.9) = 0.1 has to suit every layer at once.
#
# The test accuracy in the legend is one snapshot, taken in eval mode, where batch norm
# uses its running statistics (momentum 0.1: roughly the last 10 batches) instead of the
# batch's own. After one short epoch the weights still move fast, the running statistics
# lag them, and that snapshot jumps around from one step to the next, the most for the
# largest effective steps (SGD's). This is not minigrad's doing: a PyTorch copy of the
# ResNet-20, trained in lockstep on the same batches from the same weights with the same
# SGD, had eval-mode test accuracies of 0.69, 0.67 and 0.57 at steps 80, 100 and 120 (ours:
# 0.32, 0.71, 0.58; in float32 the two runs drift apart within a few dozen steps, as any
# two float32 trainings do, while in float64 they agree to 1e-14). Judge the optimizers
# by the training curves here, and by test accuracy only after training has settled.
#
# One curiosity the equations predict: RMSprop's first step is α g/√((1−ρ) g²) = 10 α
# per weight (it has no bias correction, and 1/√(1−0.99) = 10), and AdaGrad's is
# α g/√(g²) = α. So RMSprop at 1e-3 and AdaGrad at 1e-2 make the *same* first step, and
# their first 2-batch means agree; after that their denominators part ways.

# %%
RMSPROP, ADAGRAD = "RMSprop (lr 1e-3)", "AdaGrad (lr 1e-2)"
assert np.isclose(results[RMSPROP]["loss"][0], results[ADAGRAD]["loss"][0], rtol=1e-4)
for name, r in results.items():
    assert r["loss"][0] > 1.8, (name, r["loss"][0])                             # starts near chance
    assert moving_average(r["loss"], 5)[-1] < 0.9 * r["loss"][0], (name, r["loss"][:3], r["loss"][-5:])
    assert r["test_accuracy"] > 0.3, (name, r["test_accuracy"])                 # chance is 0.1

# %% [markdown]
# ## Exercises
#
# 1. Give SGD `nesterov=True`, then lr 0.1: which helps more on this network, and why
#    does the second one change the picture more than the first?
# 2. Raise AdaGrad's rate to 0.05 and watch its curve flatten: plot α/√s for one
#    weight of `layer3` and find where the rate has shrunk tenfold.
# 3. Run Adam with bias correction removed (copy `minigrad/optim/adam.py`'s `_update`
#    and drop the two divisions): how large is the first step, and does batch norm save
#    the run?
# 4. Set `MINIGRAD_CIFAR10` and run the full mode on CIFAR-10: does the order change?

# %%
print("lesson 15: all checks passed")
