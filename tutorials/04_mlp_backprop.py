# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 04 · Backpropagation through a multi-layer perceptron
#
# A multi-layer perceptron of logistic (sigmoid) units, first by hand and then with
# minigrad. The equations are the classic ones, in the notation of Stanford's UFLDL tutorial (Ng et al.; see the references): for layer l = 1 … L with
# weights W⁽ˡ⁾ (shape n_l × n_{l−1}) and biases b⁽ˡ⁾, on one example x,
#
# **forward propagation**
#
# $$a^{(0)} = x, \qquad z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \qquad a^{(l)} = \sigma(z^{(l)}), \qquad
# \sigma(z) = \frac{1}{1 + e^{-z}}, \quad \sigma'(z) = a\,(1 - a)$$
#
# **the cost** of one example, J = ½ ‖a⁽ᴸ⁾ − y‖², averaged over the N examples;
#
# **backpropagation**: the "error" δ⁽ˡ⁾ = ∂J/∂z⁽ˡ⁾ of each layer, from the top down,
#
# $$\delta^{(L)} = (a^{(L)} - y) \odot \sigma'(z^{(L)}), \qquad
# \delta^{(l)} = \big(W^{(l+1)\top} \delta^{(l+1)}\big) \odot \sigma'(z^{(l)}) \quad \text{for } l = L-1, \dots, 1$$
#
# and then the gradients, one outer product per layer,
#
# $$\frac{\partial J}{\partial W^{(l)}} = \delta^{(l)} a^{(l-1)\top}, \qquad \frac{\partial J}{\partial b^{(l)}} = \delta^{(l)} .$$
#
# For a batch the examples are the rows of a matrix (minigrad's and PyTorch's layout,
# `X` of shape N × n₀), so every column vector above becomes a row: `Z = A Wᵀ + b`, and
# the per-example outer products sum into one matrix product, `∂J/∂W = Δᵀ A / N`.
#
# We compute all of it with NumPy for one small net, check it against minigrad's
# `backward()`, and then train an MLP on the MNIST digits shipped with minigrad.
# Files to open beside this lesson: `minigrad/nn/layers.py` (`Linear`, `Sigmoid`),
# `minigrad/ops/elementwise.py` (the VJP of `sigmoid`: `g * y * (1 - y)`, the σ′ = a(1 − a)
# above) and `minigrad/functional.py` (`euclidean_loss`, `cross_entropy`).

# %%
import os

import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import ArrayDataset, DataLoader, load
from minigrad.train import evaluate, fit
from _figures import output_dir, show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()

# %% [markdown]
# ## One small net, by hand
#
# Three inputs, four hidden logistic units, two logistic outputs, a batch of five
# examples; float64 so that the comparison with minigrad can be tight.

# %%
mg.manual_seed(0)
rng = np.random.default_rng(0)
sizes = [3, 4, 2]
N = 5
X = rng.normal(size=(N, sizes[0]))
Y = rng.uniform(size=(N, sizes[-1]))          # targets in (0, 1), where σ can reach
net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Sigmoid()).double()
W = [net[0].weight.numpy().copy(), net[2].weight.numpy().copy()]   # W⁽¹⁾, W⁽²⁾
b = [net[0].bias.numpy().copy(), net[2].bias.numpy().copy()]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# forward propagation, keeping every a⁽ˡ⁾ (rows = examples)
A = [X]
for Wl, bl in zip(W, b):
    A.append(sigmoid(A[-1] @ Wl.T + bl))      # a⁽ˡ⁾ = σ(W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾)
J = 0.5 * ((A[-1] - Y) ** 2).sum() / N        # mean over the batch of ½‖a⁽ᴸ⁾ − y‖²

# backpropagation: δ⁽ᴸ⁾ first, then down; the 1/N of the mean rides along in δ
deltas = [None] * len(W)
deltas[-1] = (A[-1] - Y) * A[-1] * (1 - A[-1]) / N            # (a⁽ᴸ⁾ − y) ⊙ σ′(z⁽ᴸ⁾)
for l in range(len(W) - 2, -1, -1):
    deltas[l] = (deltas[l + 1] @ W[l + 1]) * A[l + 1] * (1 - A[l + 1])   # (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ σ′(z⁽ˡ⁾)
grad_W = [d.T @ a for d, a in zip(deltas, A[:-1])]            # Σₙ δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ
grad_b = [d.sum(axis=0) for d in deltas]                     # Σₙ δ⁽ˡ⁾
print(f"J = {J:.6f}")
for l, (gW, gb) in enumerate(zip(grad_W, grad_b), start=1):
    print(f"layer {l}: ∂J/∂W shape {gW.shape}, ∂J/∂b shape {gb.shape}")

# %% [markdown]
# ## The same with minigrad
#
# `euclidean_loss` is Caffe's `1/(2N) Σₙ ‖ŷₙ − yₙ‖²`, our J. One `backward()` call does
# what the loop above did: it walks the graph from J down, and at each `sigmoid` node
# multiplies by `y (1 − y)`, at each `Linear` by the transposed weight.

# %%
loss = F.euclidean_loss(net(mg.tensor(X)), Y)
loss.backward()
assert abs(loss.item() - J) < 1e-14, (loss.item(), J)
for l, layer in enumerate([net[0], net[2]]):
    np.testing.assert_allclose(layer.weight.grad.numpy(), grad_W[l], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(layer.bias.grad.numpy(), grad_b[l], rtol=1e-10, atol=1e-14)
print("hand-written backprop = minigrad's gradients (float64, rtol 1e-10)")

# %% [markdown]
# And, since the hand derivation could be wrong in the same way twice, one more
# witness: a central finite difference on one weight, (J(w+ε) − J(w−ε)) / 2ε.

# %%
def cost(W1):
    a = sigmoid(sigmoid(X @ W1.T + b[0]) @ W[1].T + b[1])
    return 0.5 * ((a - Y) ** 2).sum() / N


eps = 1e-6
bump = np.zeros_like(W[0])
bump[2, 1] = eps
numeric = (cost(W[0] + bump) - cost(W[0] - bump)) / (2 * eps)
assert abs(numeric - grad_W[0][2, 1]) < 1e-9, (numeric, grad_W[0][2, 1])
print(f"∂J/∂W⁽¹⁾[2,1]: backprop {grad_W[0][2, 1]:.10f}, finite difference {numeric:.10f}")

# %% [markdown]
# ## Why the MNIST net below ends in a softmax, not a logistic layer
#
# δ⁽ᴸ⁾ carries the factor σ′(z⁽ᴸ⁾) = a(1 − a): an output unit that is confidently
# *wrong* (a ≈ 0 where y = 1) has σ′ ≈ 0 and hardly learns. With a softmax output and
# the cross-entropy cost, the factor cancels and the output error is just
#
# $$\delta^{(L)} = \operatorname{softmax}(z^{(L)}) - \operatorname{onehot}(y) \quad \text{(divided by $N$ for the batch mean),}$$
#
# largest exactly where the net is most wrong. Check it against minigrad:

# %%
z = mg.tensor(rng.normal(size=(N, 10)), requires_grad=True)
labels = rng.integers(0, 10, N)
F.cross_entropy(z, labels).backward()
softmax = np.exp(z.numpy()) / np.exp(z.numpy()).sum(axis=1, keepdims=True)
np.testing.assert_allclose(z.grad.numpy(), (softmax - np.eye(10)[labels]) / N, rtol=1e-10, atol=1e-15)

wrong = np.array([-8.0])                   # a logistic output unit confidently off (y = 1)
saturated_delta = (sigmoid(wrong) - 1) * sigmoid(wrong) * (1 - sigmoid(wrong))
assert abs(saturated_delta[0]) < 1e-3      # ½‖a − y‖² barely pushes it …
assert abs(sigmoid(wrong)[0] - 1) > 0.99   # … while the cross-entropy error a − y is ≈ −1
print(f"saturated logistic output: δ = {saturated_delta[0]:.2e} (squared error) vs "
      f"{sigmoid(wrong)[0] - 1:.3f} (cross-entropy)")

# %% [markdown]
# ## An MLP on MNIST
#
# 784 inputs (28 × 28 pixels, flattened), one hidden layer of logistic units, ten
# outputs. Trained with SGD + momentum and `minigrad.train.fit`, which is the same
# forward / backward / update loop as above, plus a progress bar and a `History`.

# %%
train, test = load("mnist", flatten=True)
if QUICK:
    train, test = ArrayDataset(train.x[:3000], train.y[:3000]), ArrayDataset(test.x[:1000], test.y[:1000])
mg.manual_seed(0)
mlp = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 10))
sgd = optim.SGD(mlp.parameters(), lr=0.5, momentum=0.9)
epochs = 3 if QUICK else 10
history = fit(mlp, sgd, F.cross_entropy, DataLoader(train, 64, shuffle=True, seed=0), epochs,
              val_loader=DataLoader(test, 1000), progress=False)
test_loss, test_accuracy = evaluate(mlp, DataLoader(test, 1000), F.cross_entropy)
for row in history.epochs:
    print(f"epoch {row['epoch']}: train loss {row['loss']:.3f}, test accuracy {row['val_accuracy']:.4f}")
show(history.plot(OUT / "04_mlp_mnist.png"))

losses = history.column("loss")
assert losses[-1] < losses[0], losses
assert test_accuracy > (0.88 if QUICK else 0.96), test_accuracy
print(f"test accuracy {test_accuracy:.4f} with {sum(p.array.size for p in mlp.parameters())} "
      f"weights and one layer of logistic units")

# %% [markdown]
# ## Exercises
#
# 1. Add a second hidden layer to the by-hand net (sizes `[3, 4, 4, 2]`): only `W`, `b`
#    and the loop bounds change. Check it against minigrad again.
# 2. Replace the logistic hidden units by tanh (σ′ becomes 1 − a²) and by ReLU; which
#    trains MNIST fastest with the same SGD settings?
# 3. Train the MNIST net with `nn.Sigmoid()` outputs and `F.euclidean_loss` against
#    one-hot targets: how much slower is it, and why (see the δ⁽ᴸ⁾ above)?


# %% [markdown]
# ## References
#
# * A. Ng et al., *UFLDL Tutorial*, Stanford, <http://ufldl.stanford.edu/tutorial/> — "Multi-Layer Neural Network" and backpropagation.
# * D. E. Rumelhart, G. E. Hinton, R. J. Williams, "Learning representations by
#   back-propagating errors", *Nature* 323, 1986.
# * Y. LeCun, C. Cortes, C. J. C. Burges, *The MNIST database of handwritten digits*, 1998.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 04: all checks passed")
