# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 19 · Writing your own op
#
# Every op minigrad ships (lessons 01–02) is a forward computation and one
# vector-Jacobian product (VJP) per input. When you need an op that is not
# there — a fused formula, a numerically careful version of a composite, a
# kernel of your own — you write the same two pieces yourself, with
# `minigrad.autograd.Function`, the same class PyTorch calls
# `torch.autograd.Function`:
#
# 1. what `forward` and `backward` receive and what `backward` must return
#    (one gradient per input, of the input's shape and dtype; `None` where there
#    is none), and why;
# 2. three ops: softplus (one input), a linear layer (three inputs, one of them
#    optional), and sin/cos (two outputs), each checked with `minigrad.gradcheck`;
# 3. the custom ops inside a small model, trained side by side with the same
#    model made of built-in layers: the two runs agree step for step;
# 4. what happens when a backward is wrong: the errors that name the op, and the
#    bug only `gradcheck` can see.
#
# The code it reads is `minigrad/function.py` (the `Function` class and the
# checks on what `backward` returns) and `minigrad/autograd.py` (the walk that
# calls it).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.autograd import Function, once_differentiable
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The contract
#
# Reverse mode (Baydin et al. 2018, section 3.2) walks the graph from a scalar
# loss $L$ down. When it reaches an op $y = f(x_1, \dots, x_k)$ it holds
# $\bar y = \partial L / \partial y$, an array of the shape of $y$, and needs
# each $\bar x_i = \partial L / \partial x_i$. By the chain rule, summed over
# every element $j$ of $y$,
#
# $$\bar x_i = \sum_j \bar y_j \, \frac{\partial y_j}{\partial x_i}
#            = J_i^\top \bar y ,$$
#
# the transposed Jacobian $J_i = \partial y / \partial x_i$ times $\bar y$,
# computed without ever building $J_i$. That is `backward`'s job:
#
# * `forward(ctx, *inputs)` computes $y$. It runs with recording off (as under
#   `no_grad()`): the op is recorded once, as one node, however many Tensor ops
#   forward uses. It can keep what backward needs with
#   `ctx.save_for_backward(...)` (tensors) or as attributes (`ctx.k = 3`).
# * `backward(ctx, *grad_outputs)` receives one $\bar y$ per output and returns
#   one $\bar x_i$ per input of forward, in order.
#
# What it returns for input $x_i$ must be a **Tensor of $x_i$'s shape and
# dtype**: $\bar x_i$ holds one number per element of $x_i$, the engine adds it
# to the other contributions to $x_i$'s gradient (a tensor used twice gets two),
# and passes it to the node that made $x_i$ as *its* $\bar y$. It returns
# **`None`** for an argument that is not a Tensor (a number, a flag) and may
# return `None` for an input that needs no gradient (`ctx.needs_input_grad[i]`
# says which do). That is PyTorch's contract too (its note "Extending PyTorch").
#
# ## 2. One input: softplus
#
# $$\operatorname{softplus}(x) = \log(1 + e^{x}), \qquad
#   \frac{d}{dx} \operatorname{softplus}(x) = \frac{e^x}{1 + e^x} = \sigma(x).$$
#
# $e^x$ overflows for large $x$, so forward uses the equal form
# $\max(x, 0) + \log(1 + e^{-|x|})$, whose exponent is never positive.
# The Jacobian is diagonal, so $\bar x = \bar y \odot \sigma(x)$.

# %%
class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.sigmoid()


x = minigrad.tensor(rng.standard_normal(6) * 4, requires_grad=True)
y = Softplus.apply(x)
print("softplus:", y)
print("recorded as one node:", y.node)
np.testing.assert_allclose(y.numpy(), F.softplus(x).numpy(), rtol=1e-6)
y.sum().backward()  # ȳ = 1 everywhere, so x̄ = σ(x)
np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)

# %% [markdown]
# A hand-written backward is exactly the kind of code lesson 03 taught us to
# distrust. `minigrad.gradcheck` compares it with central differences in
# float64, for a random upstream gradient $\bar y$ (so a backward that ignores
# $\bar y$ fails too). Because this backward is written with Tensor ops, it is
# itself differentiable: `gradgradcheck` checks the second derivative
# $\sigma(x)(1 - \sigma(x))$ through it.

# %%
x64 = minigrad.tensor(rng.standard_normal((3, 4)) * 3, dtype=minigrad.float64, requires_grad=True)
assert minigrad.gradcheck(Softplus.apply, [x64])
assert minigrad.gradgradcheck(Softplus.apply, [x64])
print("Softplus: first and second derivatives match finite differences")

# %% [markdown]
# ## 3. Three inputs: a linear layer
#
# $Y = X W^\top + b$ for $X$ of shape $(N, \text{in})$, $W$ of shape
# $(\text{out}, \text{in})$ and $b$ of shape $(\text{out},)$. Writing
# $Y_{nk} = \sum_i X_{ni} W_{ki} + b_k$ and applying the chain-rule sum:
#
# $$\bar X = \bar Y W, \qquad \bar W = \bar Y^\top X, \qquad
#   \bar b_k = \sum_n \bar Y_{nk} .$$
#
# Each has its input's shape: $(N, \text{out})(\text{out}, \text{in})$,
# $(\text{out}, N)(N, \text{in})$, and for $b$ a sum over the batch, because one
# $b_k$ was added to all $N$ rows (broadcasting, undone by a sum, as in lesson 02).
# The bias is optional: a `None` argument gets a `None` gradient.

# %%
class LinearFunction(Function):
    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        y = x @ w.T
        return y + b if b is not None else y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g @ w if ctx.needs_input_grad[0] else None
        gw = g.T @ x if ctx.needs_input_grad[1] else None
        gb = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gw, gb


X, W, b = (minigrad.tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(5, 3), (2, 3), (2,)])
assert minigrad.gradcheck(LinearFunction.apply, [X, W, b])
np.testing.assert_allclose(LinearFunction.apply(X, W, b).numpy(), F.linear(X, W, b).numpy(), rtol=1e-12)
frozen = minigrad.tensor(X.numpy())  # no gradient wanted: backward is told, and skips its product
assert minigrad.gradcheck(lambda w: LinearFunction.apply(frozen, w), [W])
print("LinearFunction: gradients of X, W and b match finite differences; equal to F.linear")

# %% [markdown]
# ## 4. Two outputs: sin and cos at once
#
# An op may return several tensors. Its backward then receives one $\bar y$ per
# output, and runs **once** for all of them: here
# $\bar x = \bar s \cos x - \bar c \sin x$ for $s = \sin x$, $c = \cos x$. An
# output that the loss does not use arrives as zeros.

# %%
calls = []


class SinCos(Function):
    @staticmethod
    def forward(ctx, x):
        s, c = x.sin(), x.cos()
        ctx.save_for_backward(s, c)
        return s, c

    @staticmethod
    def backward(ctx, gs, gc):
        calls.append(1)
        s, c = ctx.saved_tensors
        return gs * c - gc * s


t = minigrad.tensor(rng.uniform(-3, 3, 5), dtype=minigrad.float64, requires_grad=True)
s, c = SinCos.apply(t)
(s * s + c).sum().backward()  # d/dt (sin²t + cos t) = 2 sin t cos t − sin t
np.testing.assert_allclose(t.grad.numpy(), 2 * np.sin(t.numpy()) * np.cos(t.numpy()) - np.sin(t.numpy()))
assert len(calls) == 1
print("SinCos: backward ran once for both outputs")
assert minigrad.gradcheck(lambda t: minigrad.stack(SinCos.apply(t)), [t])
print("SinCos: gradcheck passes")

# %% [markdown]
# ## 5. Using the ops in a model
#
# A module whose forward calls `LinearFunction.apply` and `Softplus.apply` is
# trained like any other. To see that nothing is lost, we train it beside the
# same network built from `nn.Linear` and `F.softplus`, starting from the same
# weights, on a small regression: fit $y = \sin(2x)$ on $[-2, 2]$.

# %%
class CustomMLP(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden, self.out = nn.Linear(1, hidden), nn.Linear(hidden, 1)  # hold the weights

    def forward(self, x):
        h = Softplus.apply(LinearFunction.apply(x, self.hidden.weight, self.hidden.bias))
        return LinearFunction.apply(h, self.out.weight, self.out.bias)


class BuiltinMLP(CustomMLP):
    def forward(self, x):
        return self.out(F.softplus(self.hidden(x)))


minigrad.manual_seed(0)
custom = CustomMLP(32).double()  # float64, so that the two runs can be compared closely
builtin = BuiltinMLP(32).double()
builtin.load_state_dict(custom.state_dict())
inputs = minigrad.tensor(np.linspace(-2, 2, 64)[:, None])
targets = (2 * inputs).sin()
steps = 300 if QUICK else 800
curves = {}
for name, model in [("custom Functions", custom), ("built-in layers", builtin)]:
    optimizer = optim.Adam(model.parameters(), lr=0.03)
    curves[name] = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        curves[name].append(loss.item())
first, second = (np.array(c) for c in curves.values())
print(f"loss {first[0]:.4f} → {first[-1]:.5f} after {steps} Adam steps (built-in: {second[-1]:.5f})")
np.testing.assert_allclose(first[:10], second[:10], rtol=1e-12)  # the first steps: equal to rounding
np.testing.assert_allclose(first, second, rtol=1e-4)  # later, rounding differences have grown a little
assert first[-1] < 0.01 * first[0]

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
for name, curve in curves.items():
    left.semilogy(curve, label=name, linestyle="-" if name.startswith("custom") else "--")
left.set_xlabel("Adam step")
left.set_ylabel("mean squared error")
left.legend()
right.plot(inputs.numpy(), targets.numpy(), label="sin 2x")
with minigrad.no_grad():
    right.plot(inputs.numpy(), custom(inputs).numpy(), "--", label="custom MLP")
right.set_xlabel("x")
right.set_ylabel("y")
right.legend()
fig.tight_layout()
show(fig, "19_custom_op_model.png")

# %% [markdown]
# The two curves lie on top of each other: the custom ops compute the same
# numbers as the built-in ones, up to rounding. (The two softplus formulas round
# differently in the last bits, and hundreds of Adam steps grow that into
# relative differences of about $10^{-6}$; a wrong gradient would differ at the
# first step.)
#
# ## 6. When backward is wrong
#
# Some mistakes cannot get far: the engine checks what `backward` returns
# before passing it on, and the error names the op and says what was expected.
# A backward that returns a NumPy array:

# %%
class SoftplusNumpy(Softplus):
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g.numpy() / (1 + np.exp(-x.numpy()))  # BUG: an array, not a Tensor


try:
    SoftplusNumpy.apply(x64).sum().backward()
    raise AssertionError("backward should have refused the array")
except TypeError as error:
    print("TypeError:", error)
    assert "SoftplusNumpy.backward" in str(error) and "numpy.ndarray" in str(error)

# %% [markdown]
# The fix is `minigrad.tensor(array)` (or, better, Tensor ops throughout, which
# keep backward differentiable). A gradient of the wrong shape — here
# $\bar W$ transposed, $X^\top \bar Y$ instead of $\bar Y^\top X$ — is refused
# the same way. (A gradient of a *broadcast* shape, such as forgetting $b$'s sum
# over the batch, is summed down to the input's shape for you, as PyTorch does.)

# %%
class LinearTransposed(LinearFunction):
    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w, x.T @ g, g.sum(0)  # BUG: x̄ and b̄ right, W̄ transposed


try:
    LinearTransposed.apply(X, W, b).sum().backward()
    raise AssertionError("backward should have refused the shape")
except RuntimeError as error:
    print("RuntimeError:", error)
    assert "LinearTransposed.backward" in str(error) and "[3, 2]" in str(error) and "[2, 3]" in str(error)

# %% [markdown]
# A wrong formula with the right shape and dtype is a silent wrong answer: only
# a check against finite differences sees it. Forget the $1 + e^{x}$ in
# softplus's derivative and return $\bar y \, e^x$:

# %%
class SoftplusWrong(Softplus):
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.exp()  # BUG: e^x, not e^x / (1 + e^x)


try:
    minigrad.gradcheck(SoftplusWrong.apply, [x64])
    raise AssertionError("gradcheck should have failed")
except minigrad.GradcheckError as error:
    print("GradcheckError:", error)

# %% [markdown]
# Two more guards. A tensor saved for backward and then changed in place would
# make backward compute with the wrong values, so backward refuses it: the
# version each saved tensor had at `save_for_backward` is checked before
# `ctx.saved_tensors` is read (the version counter the built-in ops use too). And a backward that is not
# written with Tensor ops (NumPy, a kernel) should be decorated with
# `@once_differentiable`: then a second derivative through it raises instead of
# silently coming out as zero.

# %%
h = x64 * 1.0
out = Softplus.apply(h)
with minigrad.no_grad():
    h.add_(1)  # changes the tensor Softplus saved
try:
    out.sum().backward()
    raise AssertionError("backward should have refused the modified tensor")
except RuntimeError as error:
    print("RuntimeError:", str(error)[:150], "…")
    assert "modified by an inplace operation" in str(error)


class SoftplusNumpyOnce(Softplus):
    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return minigrad.tensor(1 / (1 + np.exp(-x.numpy()))) * g


assert minigrad.gradcheck(SoftplusNumpyOnce.apply, [x64])  # first order: fine
try:
    minigrad.gradgradcheck(SoftplusNumpyOnce.apply, [x64])
    raise AssertionError("the second derivative should have been refused")
except RuntimeError as error:
    print("RuntimeError:", error)
    assert "once_differentiable" in str(error)

# %% [markdown]
# ## Exercises
#
# 1. Write `Swish` ($x \, \sigma(x)$) as a `Function`. Derive its backward,
#    check it with `gradcheck` and `gradgradcheck`, and compare with `F.silu`.
# 2. Give `LinearFunction` a backward that ignores `ctx.needs_input_grad`
#    and always returns three gradients. Is it still correct? What does the
#    check cost when $X$ is a batch of 10,000 images?
# 3. Write `MaxAndArgmax` returning the values and the indices of a row-wise
#    maximum; call `ctx.mark_non_differentiable` on the indices. What does
#    backward receive for them?
#
# ## References
#
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind,
#   "Automatic differentiation in machine learning: a survey",
#   *Journal of Machine Learning Research* 18(153), 2018.
#   <https://jmlr.org/papers/v18/17-468.html>
# * PyTorch documentation, "Extending PyTorch" (the note on
#   `torch.autograd.Function`). <https://pytorch.org/docs/stable/notes/extending.html>

# %%
print("lesson 19: all checks passed")
