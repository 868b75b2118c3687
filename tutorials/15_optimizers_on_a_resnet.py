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
# a real convolutional network with batch norm and shortcuts: SGD with momentum (lr 0.01,
# μ 0.9), Adam (1e-3), RMSprop (1e-3) and AdaGrad (1e-2), each from **the same initial
# weights** and on the same batches, so the optimizer is the only difference. The
# training loss and accuracy are averaged every 2 batches and drawn as moving
# averages (window 5), side by side.
#
# **Which ResNet.** Comparisons like this one are usually run on ResNet-18, the ImageNet
# network of He et al. (2016):
# 64 to 512 channels and 11 million weights. On a CPU one pass of it over these images
# would take far longer than a lesson should (the page times one batch below and says
# how long). So this lesson uses the network the same paper designed for 32×32 images,
# the CIFAR ResNet (`resnet_cifar`): the same `BasicBlock`s, shortcuts and batch norm,
# with 16, 32 and 64 channels and 6n + 2 layers — ResNet-20 here, 0.27 million weights.
# `models.resnet18` is there too, with torchvision's names, to run that version.
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
# ## The update rules (Goodfellow, Bengio and Courville, *Deep Learning*, 2016, ch. 8)
#
# $g_t = \nabla f(\theta_{t-1})$ is the gradient of the mini-batch loss, $\alpha$ the learning
# rate; squares, roots and divisions act element by element; every state starts at zero.
#
# **Momentum as an exponential moving average.**
# $v_t = \beta v_{t-1} + (1-\beta) g_t$, $\theta_t = \theta_{t-1} - \alpha v_t$. Unrolled,
# $v_t = (1-\beta) \sum_{i=1}^{t} \beta^{t-i} g_i$: a weighted mean of the recent gradients whose
# weights fall by $\beta$ per step, so it remembers about $1/(1-\beta)$ of them (10 for
# $\beta = 0.9$). Components that keep their sign add up; components that flip from batch to
# batch (noise, or the walls of a narrow valley) cancel.
#
# **Nesterov's correction** (Nesterov 1983). Take the gradient where momentum is about to
# carry the weights, not where they are:
#
# $$v_t = \mu v_{t-1} - \alpha \nabla f(\theta_{t-1} + \mu v_{t-1}), \qquad \theta_t = \theta_{t-1} + v_t$$
#
# (Sutskever, Martens, Dahl and Hinton 2013, eqs. (3)–(4)). If momentum overshoots, the
# look-ahead gradient already points back and brakes it.
#
# **AdaGrad** (Duchi, Hazan and Singer 2011).
# $s_t = s_{t-1} + g_t^2$, $\theta_t = \theta_{t-1} - \alpha\, g_t / (\sqrt{s_t} + \varepsilon)$: each
# weight's step is divided by the root of the sum of all its squared gradients, so
# often-updated weights slow down and rare ones keep large steps. $s$ only grows: the
# effective rate $\alpha/\sqrt{s_t}$ decays for ever, which can stop learning too early.
#
# **RMSprop** (Hinton's lecture 6e, 2012). $s_t = \rho s_{t-1} + (1-\rho) g_t^2$,
# $\theta_t = \theta_{t-1} - \alpha\, g_t / (\sqrt{s_t} + \varepsilon)$: AdaGrad with the sum
# replaced by an exponential moving average ($\rho = 0.99$ in PyTorch, where it is called
# `alpha`), so the rate follows the recent gradient size instead of decaying.
#
# **Adam, with its bias correction** (Kingma and Ba 2015, Algorithm 1):
#
# $$\begin{aligned}
# m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, & v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
# \hat m_t &= \frac{m_t}{1-\beta_1^t}, & \hat v_t &= \frac{v_t}{1-\beta_2^t}, \qquad
# \theta_t = \theta_{t-1} - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}.
# \end{aligned}$$
#
# Started at zero, the averages are too small: if the gradients have a steady mean,
# $\mathrm{E}[m_t] = (1-\beta_1^t)\, \mathrm{E}[g]$, and dividing by $1-\beta_1^t$ removes exactly
# that factor. Without it the first step would be
# $\alpha (1-\beta_1)/\sqrt{1-\beta_2} \approx 3.2\,\alpha$ per weight with $\beta_1 = 0.9$,
# $\beta_2 = 0.999$; with it, it is $\approx \alpha$.
#
# **PyTorch's SGD** (the algorithm box of `torch.optim.SGD`'s documentation, which
# `minigrad/optim/sgd.py` follows line for line). Inputs: $\gamma$ (lr), $\theta_0$, $f$,
# $\lambda$ (weight decay), $\mu$ (momentum), $\tau$ (dampening), nesterov, maximize. For
# $t = 1, 2, \dots$:
#
# 1. $g_t \leftarrow \nabla f(\theta_{t-1})$ (or $-\nabla f(\theta_{t-1})$ with maximize)
# 2. if $\lambda \ne 0$: $g_t \leftarrow g_t + \lambda \theta_{t-1}$
# 3. if $\mu \ne 0$: $b_t \leftarrow g_t$ when $t = 1$, else $b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t$;
#    then $g_t \leftarrow g_t + \mu b_t$ with nesterov, else $g_t \leftarrow b_t$
# 4. $\theta_t \leftarrow \theta_{t-1} - \gamma g_t$
#
# Two differences from the textbook: $b$ is a *sum* (no $1-\beta$ in front of $g_t$), so
# `SGD(lr=0.01, momentum=0.9)` moves exactly like the textbook's EMA form with
# $\alpha = 0.01/(1-0.9) = 0.1$ (by induction $v_t = (1-\beta) b_t$, so $\alpha v_t = \gamma b_t$;
# checked below on the ResNet); and Nesterov's look-ahead is folded into a change of
# variable: PyTorch keeps $\varphi = \theta + \mu v$, the look-ahead point itself, where the
# gradient is taken (Bengio, Boulanger-Lewandowski and Pascanu 2013, §3.5). The first check
# below runs Sutskever's two lines and PyTorch's box side by side and finds
# $\varphi_t = \theta_t + \mu v_t$.

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


# full mode: ResNet-20, one epoch of 3840 of the 9000 shipped Fashion-MNIST training images
# (or of CIFAR-10's), 60 steps of 64 for each of the four optimizers, 1000 test images: the
# whole lesson took 157 s of CPU, 159 s wall, on the 2-core machine beside another job
# (6400 and 2000 images took 258 s of CPU)
TRAIN_IMAGES = 1280 if QUICK else 3840
TEST_IMAGES = 500 if QUICK else 1000
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


def seconds_per_image(network, batch=8, repeats=2):
    """Wall seconds of one training step (forward and backward), per image, at 32×32."""
    x = mg.tensor(np.zeros((batch, channels, 32, 32), dtype=np.float32))
    y = mg.tensor(np.zeros(batch, dtype=np.int64))
    F.cross_entropy(network(x), y).backward()                  # the first call warms up
    start = time.perf_counter()
    for _ in range(repeats):
        F.cross_entropy(network(x), y).backward()
    return (time.perf_counter() - start) / (repeats * batch)


big = models.resnet18(num_classes=10, in_channels=channels)
big_weights = sum(p.array.size for p in big.parameters())
ratio = seconds_per_image(big) / seconds_per_image(model)
print(f"ResNet-18 (the usual choice): {big_weights:,} weights, {big_weights / weights:.0f}× ResNet-{DEPTH}'s; "
      f"a training step costs {ratio:.1f}× as much per image here, so this lesson would take {ratio:.1f}× as long")
del big

# %% [markdown]
# ## The same initial weights for every optimizer
#
# The recipe: save the initial state once; before each run, `model.apply(reset)`
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
# ## Three checks on the real network
#
# Each would catch a broken optimizer on the ResNet's own gradients: PyTorch's SGD box
# (with weight decay and Nesterov, the most involved path) written in NumPy beside
# `optim.SGD` for three steps; `SGD(lr=γ, momentum=β)` against the textbook's EMA form with
# $\alpha = \gamma/(1-\beta)$ for three steps; and Adam's first step, where bias correction
# makes every weight move by almost exactly $\alpha$.

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
sgd = optim.SGD(params, lr=0.01, momentum=0.9)
theta = [p.numpy().astype(np.float64) for p in params]
v = [np.zeros_like(w) for w in theta]
for t in range(1, 4):
    sgd.zero_grad()
    F.cross_entropy(model(x0), y0).backward()
    for i, p in enumerate(params):
        v[i] = 0.9 * v[i] + (1 - 0.9) * p.grad.numpy()          # the textbook: an average of gradients
        theta[i] = theta[i] - 0.01 / (1 - 0.9) * v[i]            # with α = γ / (1 − β)
    sgd.step()
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.numpy(), theta[i], rtol=2e-5, atol=1e-7)
print("SGD(lr=0.01, momentum=0.9) = the textbook's EMA momentum with α = 0.1, 3 steps on the ResNet")

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


def run(make_optimizer, snapshots=()):
    """Train from the initial state; at the steps in ``snapshots``, also evaluate on the
    test images (eval mode) and go on training."""
    model.apply(reset)
    model.load_state_dict(initial)
    assert same_state(model.state_dict(), initial)
    optimizer = make_optimizer(model.parameters())
    loader = DataLoader(train, BATCH, shuffle=True, seed=0)
    losses, accuracies, seen = [], [], {}
    model.train()
    start = time.perf_counter()
    for _ in range(EPOCHS):
        for x, y in loader:
            if len(losses) in snapshots:
                seen[len(losses)] = evaluate(model, DataLoader(test, 500))[1]
                model.train()
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            accuracies.append(float((logits.numpy().argmax(axis=1) == y.numpy()).mean()))
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = evaluate(model, DataLoader(test, 500))
    seen[len(losses)] = test_accuracy
    return dict(loss=every(losses, 2), accuracy=every(accuracies, 2), seconds=seconds,
                test_loss=test_loss, test_accuracy=test_accuracy, snapshots=seen)


load_before = os.getloadavg()
cpu_before = time.process_time()
steps = EPOCHS * (len(train) // BATCH + (len(train) % BATCH > 0))
SNAPSHOTS = (steps - 2 * steps // 8, steps - steps // 8)   # two late steps, besides the last
results = {}
for name, make in OPTIMIZERS.items():
    results[name] = run(make, SNAPSHOTS if name.startswith("SGD") else ())
    r = results[name]
    print(f"{name:28s} train loss {r['loss'][0]:.3f} → {moving_average(r['loss'], 5)[-1]:.3f}, "
          f"accuracy {r['accuracy'][0]:.2f} → {moving_average(r['accuracy'], 5)[-1]:.2f}; "
          f"test accuracy {r['test_accuracy']:.3f} ({r['seconds']:.0f} s)")
load_after = os.getloadavg()
race_cpu = time.process_time() - cpu_before
race_wall = sum(r["seconds"] for r in results.values())
print(f"the four runs: {race_wall:.0f} s of wall time, {race_cpu:.0f} s of CPU time "
      f"(load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)")

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
record_path = write_atomically(OUT / "15_optimizers_on_a_resnet.json", json.dumps(record, indent=1) + "\n")

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
# largest effective steps (SGD's). The cell below prints SGD's snapshots at three late
# steps of the same run. Judge the optimizers by the training curves here, and by test
# accuracy only after training has settled.
#
# One curiosity the equations predict: RMSprop's first step is
# $\alpha g/\sqrt{(1-\rho) g^2} = 10\,\alpha$ per weight (it has no bias correction, and
# $1/\sqrt{1-0.99} = 10$), and AdaGrad's is $\alpha g/\sqrt{g^2} = \alpha$. So RMSprop at 1e-3 and
# AdaGrad at 1e-2 make the *same* first step, and their first 2-batch means agree; after
# that their denominators part ways.

# %%
sgd_name = next(name for name in results if name.startswith("SGD"))
print(f"{sgd_name}: eval-mode test accuracy at steps " + ", ".join(
    f"{step}: {accuracy:.2f}" for step, accuracy in sorted(results[sgd_name]["snapshots"].items())))
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
#
# ## References
#
# * K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition",
#   CVPR 2016, <https://arxiv.org/abs/1512.03385> — ResNet-18 and the CIFAR ResNets (§4.2).
# * S. Ioffe, C. Szegedy, "Batch Normalization", ICML 2015, <https://arxiv.org/abs/1502.03167>.
# * Y. Nesterov, "A method for solving the convex programming problem with convergence
#   rate O(1/k²)", *Soviet Mathematics Doklady* 27, 1983.
# * I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization and
#   momentum in deep learning", ICML 2013, <https://proceedings.mlr.press/v28/sutskever13.html>.
# * Y. Bengio, N. Boulanger-Lewandowski, R. Pascanu, "Advances in Optimizing Recurrent
#   Networks", ICASSP 2013, <https://arxiv.org/abs/1212.0901>.
# * J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods for Online Learning and
#   Stochastic Optimization", JMLR 12, 2011, <https://jmlr.org/papers/v12/duchi11a.html>.
# * G. Hinton, N. Srivastava, K. Swersky, *Neural Networks for Machine Learning*, lecture 6e
#   "rmsprop", Coursera, 2012, <https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf>.
# * D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
#   <https://arxiv.org/abs/1412.6980>.
# * PyTorch, `torch.optim.SGD` documentation, <https://pytorch.org/docs/stable/generated/torch.optim.SGD.html>.

# %%
print("lesson 15: all checks passed")
