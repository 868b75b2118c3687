# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 11 · Regularisation and the habits that make training work
#
# A network with enough weights can memorise its training set, label noise included;
# what we want is that it does well on images it has not seen. This lesson takes the
# usual tools one at a time, each with a check that it does what it claims:
#
# 1. **weight decay** — the L2 penalty, as the optimizers implement it;
# 2. **dropout** — what changes between `model.train()` and `model.eval()`;
# 3. **data augmentation** — random shifts of the digits (`RandomCrop` with padding);
# 4. **input normalisation** — why standardised inputs train faster;
# 5. **shuffling** — what happens when the batches come sorted by class;
# 6. **early stopping** — keep the weights of the best epoch on a validation curve.
#
# Source files: `minigrad/optim/optimizer.py` (`regularized_grad`), `minigrad/functional.py`
# (`dropout`), `minigrad/data/transforms.py`, `minigrad/data/loader.py`.
#
# Most experiments use a deliberately bad situation: 300 training digits, a fifth of
# them with a random wrong label, and a two-layer MLP with far more weights than
# examples. It fits the training set perfectly, noise and all, unless held back.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import ArrayDataset, DataLoader, Normalize, RandomCrop, load
from minigrad.train import evaluate, fit
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"

train_images, test_images = load("mnist")                      # (N, 1, 28, 28) in [0, 1]
flat_train, _ = load("mnist", flatten=True, normalize=True)    # (N, 784), standardised

rng = np.random.default_rng(0)
SMALL = 300
noisy_labels = flat_train.y[:SMALL].copy()
wrong = rng.random(SMALL) < 0.2
noisy_labels[wrong] = rng.integers(0, 10, wrong.sum())
small_train = ArrayDataset(flat_train.x[:SMALL], noisy_labels)
validation = DataLoader(ArrayDataset(flat_train.x[SMALL:SMALL + 1000], flat_train.y[SMALL:SMALL + 1000]), 1000)


def overfitting_mlp():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def weight_norm(model):
    return float(np.sqrt(sum((p.numpy() ** 2).sum() for p in model.parameters())))


# %% [markdown]
# ## 1 · Weight decay
#
# Adding ½λ‖w‖² to the loss adds λw to its gradient, so every step also shrinks the
# weights by a factor (1 − αλ). The optimizers take λ as `weight_decay` and add λw to
# the gradient themselves (PyTorch's convention; AdamW instead shrinks w directly,
# outside Adam's scaling). First the claim, exactly, on one step:

# %%
LAMBDA = 0.03
x, y = small_train[:50]
steps = []
for decay_in_optimizer in (True, False):
    model = overfitting_mlp()
    sgd = optim.SGD(model.parameters(), lr=0.1, weight_decay=LAMBDA if decay_in_optimizer else 0)
    loss = F.cross_entropy(model(mg.tensor(x)), y)
    if not decay_in_optimizer:  # the penalty written into the loss instead
        loss = loss + 0.5 * LAMBDA * sum((p * p).sum() for p in model.parameters())
    sgd.zero_grad()
    loss.backward()
    sgd.step()
    steps.append([p.numpy().copy() for p in model.parameters()])
for a, b in zip(*steps):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
print("SGD(weight_decay=λ) = SGD on loss + ½λ‖w‖²")

# %% [markdown]
# And its effect on the noisy 300-digit problem: without decay the net drives its
# training loss to ~0 by growing its weights; with decay the weights stay small and
# the validation loss ends lower.

# %%
EPOCHS = 15 if QUICK else 40
results = {}
for weight_decay in (0.0, LAMBDA):
    model = overfitting_mlp()
    sgd = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=weight_decay)
    history = fit(model, sgd, F.cross_entropy, DataLoader(small_train, 50, shuffle=True, seed=0),
                  EPOCHS, val_loader=validation, progress=False)
    results[weight_decay] = (history.epochs[-1]["loss"], history.epochs[-1]["val_loss"], weight_norm(model))
    print(f"weight_decay={weight_decay}: train loss {results[weight_decay][0]:.3f}, validation loss "
          f"{results[weight_decay][1]:.3f}, ‖w‖ = {results[weight_decay][2]:.1f}")
assert results[LAMBDA][2] < 0.7 * results[0.0][2]       # smaller weights …
assert results[LAMBDA][0] > results[0.0][0]             # … a worse fit of the noisy labels …
assert results[LAMBDA][1] < results[0.0][1]             # … and a better validation loss

# %% [markdown]
# ## 2 · Dropout: random in training, the identity in evaluation
#
# In training mode `nn.Dropout(p)` zeroes each activation with probability p and
# multiplies the survivors by 1/(1 − p) ("inverted" dropout), so the expected value of
# every activation is unchanged and nothing has to be rescaled at test time. In
# evaluation mode it passes its input through untouched. `model.train()` /
# `model.eval()` switch every layer at once (and `evaluate` uses eval mode).

# %%
P = 0.3
net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(P))
ones = mg.tensor(np.ones((200, 500), dtype=np.float32))
mg.manual_seed(1)
dropped = net[1](ones).numpy()
assert set(np.unique(dropped)) == {0.0, np.float32(1 / (1 - P))}
assert abs((dropped == 0).mean() - P) < 0.01            # a fraction p is dropped
assert abs(dropped.mean() - 1.0) < 0.02                 # the mean is kept
again = net[1](ones).numpy()
assert not np.array_equal(dropped, again)               # a new mask every call
net.eval()
assert not net[1].training
np.testing.assert_array_equal(net[1](ones).numpy(), ones.numpy())   # eval: the identity
net.train()
print(f"dropout p={P}: {100 * (dropped == 0).mean():.1f} % zeroed, survivors ×{1 / (1 - P):.3f}, "
      f"mean {dropped.mean():.3f}; eval mode passes the input through")

# %% [markdown]
# ## 3 · Data augmentation: shifted digits
#
# A digit moved by a pixel or two is still the same digit, so each epoch can show the
# network new images for free. `RandomCrop(28, padding=2)` pads every image with 2
# pixels of zeros and cuts a random 28 × 28 window back out: a shift by up to 2 pixels
# each way, drawn per image (from the loader's seeded generator in training). MNIST
# digits sit in a 20 × 20 box in the middle of the 28 × 28 image, so nothing is cut off:
# every augmented image is its original moved by some (dy, dx), with the same ink.
# (A horizontal flip, the usual augmentation for photographs, would be wrong here: a
# mirrored 2 is not a 2.)

# %%
originals = train_images.x[:8]
crop = RandomCrop(28, padding=2)
generator = np.random.default_rng(0)
shifted = crop(originals, generator)


def shift(image, dy, dx):
    """image (1, 28, 28) moved down by dy and right by dx, zeros coming in."""
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    return padded[:, 2 - dy:30 - dy, 2 - dx:30 - dx]


moves = []
for original, augmented in zip(originals, shifted):
    found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
             if np.array_equal(shift(original, dy, dx), augmented)]
    assert found, "an augmented image is not a shifted original"
    assert np.isclose(augmented.sum(), original.sum())  # no ink lost
    moves.append(found[0])
assert len(set(moves)) > 1                              # the shifts differ from image to image
print(f"shifts (dy, dx) drawn for 8 digits: {moves}")

figure, axes = plt.subplots(4, 8, figsize=(10, 5.4))
views = [originals] + [crop(originals, generator) for _ in range(3)]
for row, images in enumerate(views):
    for col, image in enumerate(images):
        axes[row, col].imshow(image[0], cmap="gray_r")
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
    axes[row, 0].set_ylabel("original" if row == 0 else f"shifted {row}")
figure.tight_layout()
show(figure, "11_augmentation.png", dpi=100)

# %% [markdown]
# ## 4 · Input normalisation
#
# Gradient descent on a linear model sees the curvature of the loss, which for the
# squared error is the matrix XᵀX/N of the inputs. Features on different scales, or far
# from zero mean, make that matrix ill-conditioned (lesson 06's canyon): the largest
# stable rate is set by the steepest direction and the others crawl. Standardising
# each feature, (x − mean) / std with the *training* set's statistics, removes most of
# it. `Normalize(mean, std)` does it per channel (axis 1) — for images, and for plain
# feature columns as here.

# %%
features = np.column_stack([rng.normal(0, 1, 500), rng.normal(20, 5, 500)]).astype(np.float64)
targets = features @ np.array([2.0, -0.5]) + 1.0 + rng.normal(0, 0.1, 500)
normalize = Normalize(features.mean(axis=0), features.std(axis=0))
standardised = normalize(features)
assert np.allclose(standardised.mean(axis=0), 0, atol=1e-12) and np.allclose(standardised.std(axis=0), 1)


def with_bias(x):
    return np.column_stack([x, np.ones(len(x))])


def gradient_descent(x, steps=200):
    """Full-batch GD on the mean squared error, at a rate of 1/λ_max of its curvature;
    returns the loss above the least-squares optimum."""
    curvature = 2 * with_bias(x).T @ with_bias(x) / len(x)
    rate = 1 / np.linalg.eigvalsh(curvature).max()
    model = nn.Linear(x.shape[1], 1, dtype=np.float64)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    sgd = optim.SGD(model.parameters(), lr=rate)
    for _ in range(steps):
        loss = F.mse_loss(model(mg.tensor(x)), targets[:, None])
        sgd.zero_grad()
        loss.backward()
        sgd.step()
    best = np.linalg.lstsq(with_bias(x), targets, rcond=None)[0]
    optimum = np.mean((with_bias(x) @ best - targets) ** 2)
    excess = F.mse_loss(model(mg.tensor(x)), targets[:, None]).item() - optimum
    return np.linalg.cond(curvature), max(excess, 0.0)  # rounding can put it a hair below 0


raw_condition, raw_excess = gradient_descent(features)
std_condition, std_excess = gradient_descent(standardised)
assert std_condition < 0.01 * raw_condition
assert std_excess < 1e-6 * raw_excess, (std_excess, raw_excess)
print(f"condition number of the curvature: raw {raw_condition:.0f}, standardised {std_condition:.2f}; "
      f"excess loss after 200 steps: raw {raw_excess:.3g}, standardised {std_excess:.1e}")

# %% [markdown]
# `load("mnist", normalize=True)` does the same for images, with one mean and standard
# deviation per channel computed on the training split only (so no test statistic
# leaks into training):

# %%
assert abs(flat_train.x.mean()) < 1e-3 and abs(flat_train.x.std() - 1) < 1e-3

# %% [markdown]
# ## 5 · Shuffling
#
# SGD assumes each batch is a fair sample of the data. Served in the order of the
# labels — all the 0s, then all the 1s, … — every batch pulls the model towards one
# class, and at the end of the epoch it has mostly learned "everything is a 9".
# `DataLoader(shuffle=True, seed=…)` draws a new order every epoch (seeded, so
# reproducible, and part of the checkpoint so a resumed run sees the same order).

# %%
count = 3000
by_label = np.argsort(flat_train.y[:count], kind="stable")
sorted_train = ArrayDataset(flat_train.x[:count][by_label], flat_train.y[:count][by_label])
held_out = DataLoader(ArrayDataset(flat_train.x[-1000:], flat_train.y[-1000:]), 1000)
accuracy = {}
for shuffle in (False, True):
    mg.manual_seed(0)
    classifier = nn.Linear(784, 10)
    fit(classifier, optim.SGD(classifier.parameters(), lr=0.05), F.cross_entropy,
        DataLoader(sorted_train, 50, shuffle=shuffle, seed=0), 1, progress=False)
    accuracy[shuffle] = evaluate(classifier, held_out, F.cross_entropy)[1]
    last_class = np.bincount(classifier(mg.tensor(flat_train.x[-1000:])).numpy().argmax(1), minlength=10)
    print(f"shuffle={shuffle}: held-out accuracy {accuracy[shuffle]:.3f}; "
          f"predictions per class {last_class.tolist()}")
assert accuracy[False] < 0.5 < 0.8 < accuracy[True], accuracy

# %% [markdown]
# ## 6 · Early stopping
#
# Back to the noisy 300 digits, trained with Adam and no other regularisation. The
# training loss falls for ever; the validation loss falls, bottoms out, and rises
# again as the net starts memorising the wrong labels. Early stopping watches the
# validation loss, keeps a copy of the weights of the best epoch so far, and stops once
# `PATIENCE` epochs in a row have not beaten it; the copy is what we keep.

# %%
PATIENCE = 5
model = overfitting_mlp()
adam = optim.Adam(model.parameters(), lr=1e-3)
loader = DataLoader(small_train, 50, shuffle=True, seed=0)
train_curve, validation_curve = [], []
best_loss, best_epoch, best_state = np.inf, None, None
for epoch in range(1, 61):
    row = fit(model, adam, F.cross_entropy, loader, 1, val_loader=validation, progress=False).epochs[0]
    train_curve.append(row["loss"])
    validation_curve.append(row["val_loss"])
    if row["val_loss"] < best_loss:
        best_loss, best_epoch, best_state = row["val_loss"], epoch, model.state_dict()
    elif epoch - best_epoch >= PATIENCE:
        break
stopped = epoch
model.load_state_dict(best_state)
restored_loss = evaluate(model, validation, F.cross_entropy)[0]
print(f"best validation loss {best_loss:.3f} at epoch {best_epoch}; stopped at epoch {stopped} "
      f"(validation loss {validation_curve[-1]:.3f}); restored weights: {restored_loss:.3f}")
assert stopped == best_epoch + PATIENCE < 60
assert validation_curve[-1] > best_loss                          # it did get worse …
assert train_curve[-1] < train_curve[best_epoch - 1]             # … while the fit kept improving
assert abs(restored_loss - best_loss) < 1e-6                     # and the best weights came back

figure, ax = plt.subplots(figsize=(7, 4))
epochs = np.arange(1, stopped + 1)
ax.plot(epochs, train_curve, "o-", label="training loss (noisy labels)")
ax.plot(epochs, validation_curve, "o-", label="validation loss")
ax.axvline(best_epoch, color="C2", linestyle="--", label=f"best epoch ({best_epoch}): weights kept")
ax.axvline(stopped, color="0.5", linestyle=":", label=f"stopped ({PATIENCE} epochs without a new best)")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.grid(alpha=0.3)
ax.legend()
figure.tight_layout()
show(figure, "11_early_stopping.png", dpi=100)

# %% [markdown]
# ## Exercises
#
# 1. Add `nn.Dropout(0.5)` after the ReLU of the overfitting MLP: how does the
#    early-stopping curve change? Does the best validation loss improve?
# 2. Train the 300-digit problem with the shift augmentation of section 3 (reshape to
#    images, `DataLoader(..., transform=RandomCrop(28, padding=2))`, `nn.Flatten()` first).
# 3. Compare `optim.Adam(weight_decay=λ)` with `optim.AdamW(weight_decay=λ)` on it: why
#    do they differ (see `minigrad/optim/adam.py`)?


# %% [markdown]
# ## References
#
# * I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, MIT Press, 2016,
#   <https://www.deeplearningbook.org/> — chapter 7 (weight decay, augmentation, early stopping).
# * N. Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
#   *JMLR* 15, 2014, <https://jmlr.org/papers/v15/srivastava14a.html>.
# * I. Loshchilov, F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
#   <https://arxiv.org/abs/1711.05101> — AdamW.
# * H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST", 2017, <https://arxiv.org/abs/1708.07747>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 11: all checks passed")
