# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 12 · Your first CNN, from your own nn.Module
#
# Lessons 08–10 built the pieces of a convolutional network one at a time:
# convolution as im2col + one GEMM, max pooling and ReLU, batch norm, each
# gradchecked on its own. This lesson puts them together the way you would in
# PyTorch, and trains the result end to end:
#
# 1. subclass `nn.Module`: assign layers in `__init__`, write `forward`;
# 2. one training step taken apart: forward, loss, backward, step;
# 3. the training loop over the embedded MNIST digits, with evaluation under
#    `no_grad()` and `eval()` after each epoch (loss curve and learned filters);
# 4. saving the `state_dict` to a file and loading it into a fresh model that
#    then gives exactly the same outputs.
#
# The code it follows: `minigrad/nn/module.py` (registration by attribute,
# `named_parameters`, `state_dict`, `train`/`eval`), the layers in `minigrad/nn/`, and
# `minigrad/checkpoint.py`. `MINIGRAD_QUICK=1` trains on 6,400 images for one epoch instead of 20,000
# images for three.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.checkpoint import load_checkpoint, save_checkpoint
from minigrad.data import DataLoader, load
from _figures import output_dir, show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()

# %% [markdown]
# ## 1. A network is a Module
#
# A `Module` holds parameters, buffers and sub-modules. Assigning a layer to an
# attribute in `__init__` *registers* it (`Module.__setattr__`), which is how
# `parameters()` later finds every weight to hand to the optimizer, under a
# dotted name (`conv1.weight`) that is also PyTorch's. `forward` says how the
# layers are applied; calling the model calls `forward`.
#
# Two blocks of convolution → ReLU → 2×2 max pooling, the second with batch
# norm, then one linear layer to the ten classes. A 3×3 convolution with
# padding 1 keeps the size; a 2×2 pooling with stride 2 halves it (the output
# size of lesson 08, with input size n, kernel k, padding p, stride s):
#
# $$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1,
# \qquad 28 \xrightarrow{\text{conv}} 28 \xrightarrow{\text{pool}} 14
# \xrightarrow{\text{conv}} 14 \xrightarrow{\text{pool}} 7 .$$

# %%
class SmallCNN(nn.Module):
    def __init__(self, channels=(8, 16), classes=10):
        super().__init__()  # before any assignment: it creates the registries
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(c2)
        self.pool = nn.MaxPool2d(2)  # no weights: registered, but adds no parameters
        self.fc = nn.Linear(c2 * 7 * 7, classes)

    def forward(self, x):                              # x: (N, 1, 28, 28)
        x = self.pool(F.relu(self.conv1(x)))           # (N, c1, 14, 14)
        x = self.pool(F.relu(self.bn2(self.conv2(x)))) # (N, c2, 7, 7)
        return self.fc(x.reshape(x.shape[0], -1))      # (N, classes): logits


minigrad.manual_seed(0)
model = SmallCNN()
print(model)
for name, p in model.named_parameters():
    print(f"{name:>13} {str(p.shape):>16}")
count = sum(p.array.size for p in model.parameters())
# a convolution has C_out·C_in·k·k weights and C_out biases
expected = (8 * 1 * 9 + 8) + (16 * 8 * 9 + 16) + (16 + 16) + (16 * 7 * 7 * 10 + 10)
assert count == expected, (count, expected)
assert [n for n, _ in model.named_parameters()] == [
    "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "fc.weight", "fc.bias"]
# batch norm's running statistics are buffers: saved with the model, never trained
assert [n for n, _ in model.named_buffers()] == ["bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"]
print(f"{count} parameters")

# %% [markdown]
# ## 2. One step, taken apart
#
# The embedded MNIST subset (`minigrad.data.load("mnist")`: 20,000 training and
# 4,000 test digits shipped inside the package) comes as float32 images in
# [0, 1], shape (N, 1, 28, 28). One step of training is four lines:
#
# * **forward**: `logits = model(x)` records the graph;
# * **loss**: `F.cross_entropy(logits, y)`, the mean of −log softmax(logits)[y];
# * **backward**: `loss.backward()` fills every parameter's `.grad`;
# * **step**: `optimizer.step()` moves each parameter against its gradient, and
#   `optimizer.zero_grad()` clears the gradients, which otherwise *add up*
#   over steps (lesson 01).
#
# The gradient only promises that a *small enough* step lowers the loss; this
# first step uses plain SGD with a rate of 0.01 (lesson 07 is about choosing it).

# %%
train, test = load("mnist")
if QUICK:
    train = type(train)(train.x[:6400], train.y[:6400], train.classes)
x, y = (minigrad.tensor(a) for a in train[:64])
optimizer = optim.SGD(model.parameters(), lr=0.01)

logits = model(x)
loss = F.cross_entropy(logits, y)
assert logits.shape == (64, 10) and loss.node is not None
loss.backward()
for name, p in model.named_parameters():
    assert p.grad is not None and p.grad.shape == p.shape, name
before = model.conv1.weight.numpy().copy()
optimizer.step()
optimizer.zero_grad()
assert all(p.grad is None for p in model.parameters())
assert not np.array_equal(before, model.conv1.weight.numpy())
with minigrad.no_grad():
    loss_after = F.cross_entropy(model(x), y).item()
print(f"loss on the first batch: {loss.item():.4f} before the step, {loss_after:.4f} after")
assert loss_after < loss.item()
# at initialisation the ten classes are about equally likely: loss ≈ ln 10
assert abs(loss.item() - np.log(10)) < 0.3, loss.item()

# %% [markdown]
# ## 3. The training loop
#
# Repeat the step over shuffled batches. After each epoch, measure the test
# accuracy with the model in **eval mode** (batch norm then uses its running
# statistics, so a test image's prediction does not depend on the others in
# its batch) and under **`no_grad()`** (no graph is recorded: evaluation needs
# no backward, and the graph would only cost memory). Then back to `train()`.

# %%
def evaluate(model, dataset, batch_size=1000):
    """Accuracy on ``dataset`` in eval mode; the model is left in the mode it was in."""
    was_training = model.training
    model.eval()
    correct = 0
    with minigrad.no_grad():
        for xb, yb in DataLoader(dataset, batch_size):
            out = model(xb)
            assert out.node is None  # nothing recorded
            correct += int((out.numpy().argmax(axis=1) == yb.numpy()).sum())
    model.train(was_training)
    return correct / len(dataset)


epochs = 1 if QUICK else 3
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)  # lesson 06: momentum
losses, accuracies = [], []
loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
for epoch in range(epochs):
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    accuracies.append(evaluate(model, test))
    print(f"epoch {epoch + 1}: last training loss {losses[-1]:.3f}, test accuracy {accuracies[-1]:.4f}")

assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20]), "the training loss falls"
assert accuracies[-1] > (0.85 if QUICK else 0.97), accuracies

# %% [markdown]
# In eval mode the output for an image does not depend on its batch-mates; in
# train mode batch norm normalises with the batch's own statistics, so it does.
# And a forward pass in train mode *updates the running statistics*, even under
# `no_grad()` (as in PyTorch): `no_grad` stops the recording of the graph, not
# the layer's bookkeeping. So evaluate in eval mode, always.

# %%
sample = minigrad.tensor(test.x[:8])
model.eval()
with minigrad.no_grad():
    alone = model(sample[:1]).numpy()
    in_batch = model(sample).numpy()[:1]
np.testing.assert_allclose(alone, in_batch, rtol=1e-4, atol=1e-5)
model.train()
running_mean = model.bn2.running_mean.numpy().copy()
with minigrad.no_grad():
    train_alone, train_batch = model(sample[:2]).numpy()[:1], model(sample).numpy()[:1]
assert not np.allclose(train_alone, train_batch, atol=1e-4)
assert not np.array_equal(running_mean, model.bn2.running_mean.numpy()), "train mode moved the running mean"
model.eval()  # from here on we only evaluate
print("eval mode: an image alone gives its output in a batch; train mode does not, and it moves the running mean")

# %% [markdown]
# The loss per step (faint) with its running mean, and the test accuracy after
# each epoch; then what the first layer learned: its eight 3×3 filters, and the
# eight feature maps they make from one test digit (after the ReLU).

# %%
figure, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
steps = np.arange(1, len(losses) + 1)
window = 25
ax_loss.plot(steps, losses, alpha=0.3, color="C0", label="per step")
ax_loss.plot(steps[window - 1:], np.convolve(losses, np.ones(window) / window, mode="valid"), color="C0",
             label=f"mean of {window} steps")
ax_loss.set(xlabel="step", ylabel="cross-entropy", title="Training loss", yscale="log")
ax_loss.legend()
ax_acc.plot(range(1, epochs + 1), accuracies, "o-", color="C1")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy (eval mode, no_grad)",
           xticks=range(1, epochs + 1))
for ax in (ax_loss, ax_acc):
    ax.grid(alpha=0.3)
figure.tight_layout()
show(figure, "12_training.png")

with minigrad.no_grad():
    maps = F.relu(model.conv1(sample[:1])).numpy()[0]
filters = model.conv1.weight.numpy()[:, 0]
figure, axes = plt.subplots(2, 9, figsize=(12, 3.6))
axes[0, 0].imshow(test.x[0, 0], cmap="gray_r")
axes[0, 0].set_title("input", fontsize=9)
axes[1, 0].axis("off")
for i in range(8):
    limit = np.abs(filters[i]).max()
    axes[0, i + 1].imshow(filters[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0, i + 1].set_title(f"filter {i}", fontsize=9)
    axes[1, i + 1].imshow(maps[i], cmap="viridis")
    axes[1, i + 1].set_title(f"map {i}", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
figure.suptitle("conv1 after training: its 3×3 filters (top) and their ReLU feature maps of one digit (bottom)")
figure.tight_layout()
show(figure, "12_filters.png")

# %% [markdown]
# ## 4. Saving and loading
#
# `state_dict()` is an ordered `{name: array}` of every parameter *and* buffer
# (here batch norm's running statistics, without which eval mode would give
# different answers). `save_checkpoint` writes it to one `.npz` file atomically
# and without pickle, so loading it can never run code; `load_state_dict`
# copies it back by name into a model of the same architecture.

# %%
accuracy = evaluate(model, test)  # the running statistics moved a little since the last epoch
path = save_checkpoint(OUT / "12_small_cnn.npz", model.state_dict())
minigrad.manual_seed(1)
fresh = SmallCNN().eval()
with minigrad.no_grad():
    assert not np.allclose(fresh(sample).numpy(), model(sample).numpy())
    fresh.load_state_dict(load_checkpoint(path))
    np.testing.assert_array_equal(fresh(sample).numpy(), model(sample).numpy())
print(f"saved {path.name} ({path.stat().st_size / 1024:.0f} KiB); the reloaded model gives identical outputs")
reloaded_accuracy = evaluate(fresh, test)
assert reloaded_accuracy == accuracy
print(f"test accuracy {accuracy:.4f}, the same for the reloaded model")

# %% [markdown]
# Names are the contract: loading into a different architecture fails, listing
# every key that does not fit, and changes nothing.

# %%
wider = SmallCNN(channels=(8, 32))
try:
    wider.load_state_dict(load_checkpoint(path))
    raise AssertionError("expected a KeyError")
except KeyError as error:
    print(str(error)[:300], "…")
    assert "conv2.weight: expected (32, 8, 3, 3), got (16, 8, 3, 3)" in str(error)

# %% [markdown]
# ## Exercises
#
# 1. Remove `self.bn2` (and its use in `forward`) and train again with the same
#    learning rate. Is the first epoch slower? Lesson 10 says why it might be.
# 2. Replace `F.relu(...)` in `forward` by `nn.ReLU()` modules assigned in
#    `__init__`. Does `named_parameters()` change? Does the `state_dict`?
# 3. Draw the graph of one forward pass with `minigrad.viz` (lesson 18). Which
#    ops are the kernel-backed ones of lessons 08–10?
# 4. Lesson 13 cuts a network like this one in two and trains the halves
#    separately. Which layer's output would you send between the halves, and
#    how many numbers is that per image?


# %% [markdown]
# ## References
#
# * Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-Based Learning Applied to Document
#   Recognition", *Proceedings of the IEEE* 86(11), 1998 — LeNet and MNIST.
# * S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
#   Internal Covariate Shift", ICML 2015, <https://arxiv.org/abs/1502.03167>.
# * PyTorch, `torch.nn.Module`, <https://pytorch.org/docs/stable/generated/torch.nn.Module.html>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 12: all checks passed")
