# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 · Gradient checking
#
# Every VJP in minigrad is a hand-written formula, and a wrong formula does
# not crash: the network trains a little worse, or not at all, and nothing
# tells you why. The defence is to compare the analytic gradient with a
# numerical one from finite differences. This lesson shows:
#
# 1. forward vs central differences, and how their error depends on the step ε:
#    truncation error falls as ε shrinks, rounding error grows — measured in
#    float32 and float64 and drawn on a log-log plot;
# 2. `minigrad.gradcheck`, element-wise and directional, on a small network;
# 3. what a bug looks like: an op with a deliberately wrong VJP, and the
#    `GradcheckError` that catches it.
#
# The figure is written to the folder named by the environment variable
# `MINIGRAD_TUTORIAL_OUT` (default: `tutorial_output/` in the working directory).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import minigrad
import minigrad.functional as F
from minigrad.tensor import result
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Forward vs central differences
#
# Taylor's theorem around x:
#
# $$f(x + \varepsilon) = f(x) + \varepsilon f'(x) + \frac{\varepsilon^2}{2} f''(x) + \frac{\varepsilon^3}{6} f'''(x) + \dots$$
#
# gives two estimates of f′(x):
#
# $$\begin{aligned}
# \text{forward:}\quad & \frac{f(x + \varepsilon) - f(x)}{\varepsilon} = f'(x) + \frac{\varepsilon}{2} f''(x) + \dots & &\text{error } O(\varepsilon), \\
# \text{central:}\quad & \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon} = f'(x) + \frac{\varepsilon^2}{6} f'''(x) + \dots & &\text{error } O(\varepsilon^2).
# \end{aligned}$$
#
# In the central difference the ε² terms cancel. So: make ε small? Only up to a
# point. f is computed with a relative rounding error of about the machine
# epsilon u (u ≈ 6e-8 in float32, 1.1e-16 in float64), and dividing the
# difference of two nearly equal numbers by ε magnifies it to about u·|f|/ε.
# The total error is truncation + rounding, smallest where the two meet:
#
# | difference | best $\varepsilon^*$ | its error | float64: $\varepsilon^*$, error | float32: $\varepsilon^*$, error |
# |---|---|---|---|---|
# | forward | $\sqrt{u}$ | $\sqrt{u}$ | 1e-8, 1e-8 | 2e-4, 2e-4 |
# | central | $u^{1/3}$ | $u^{2/3}$ | 5e-6, 2e-11 | 4e-3, 2e-5 |
#
# We measure it on f(x) = tanh(x)·exp(x) at a batch of points x, computed with
# minigrad ops, against the exact derivative from minigrad's backward pass in
# float64 (itself checked against the closed form f′ = (1 − tanh²x + tanh x)·eˣ).

# %%
def f(x):
    return x.tanh() * x.exp()


points = rng.uniform(-0.5, 1.5, size=8 if QUICK else 64)  # f′ > 0.19 here: relative errors mean something
xt = minigrad.tensor(points, dtype=minigrad.float64, requires_grad=True)
f(xt).sum().backward()  # the points are independent, so ∂(Σf)/∂xᵢ = f′(xᵢ)
exact = xt.grad.numpy()
np.testing.assert_allclose(exact, (1 - np.tanh(points) ** 2 + np.tanh(points)) * np.exp(points), rtol=1e-12)


def difference_errors(dtype, epsilons):
    """Median over the points of |numeric − exact| / |exact|, for both formulas."""
    forward, central = [], []
    with minigrad.no_grad():
        for eps in epsilons:
            x = minigrad.tensor(points, dtype=dtype)
            step = dtype(eps)
            fx, fplus, fminus = (f(x).numpy(), f(x + step).numpy(), f(x - step).numpy())
            forward.append(np.median(np.abs((fplus - fx) / step - exact) / np.abs(exact)))
            central.append(np.median(np.abs((fplus - fminus) / (2 * step) - exact) / np.abs(exact)))
    return np.array(forward), np.array(central)


epsilons = np.logspace(-14, -1, 27 if QUICK else 53)
errors = {name: difference_errors(dtype, epsilons)
          for name, dtype in [("float64", np.float64), ("float32", np.float32)]}
for name, (forward, central) in errors.items():
    print(f"{name}: best forward {forward.min():.1e} at ε = {epsilons[forward.argmin()]:.0e}, "
          f"best central {central.min():.1e} at ε = {epsilons[central.argmin()]:.0e}")

# %% [markdown]
# The plot: on the right, the straight lines of slope 1 (forward) and 2
# (central) are the truncation error; on the left, slope −1 is rounding, u·|f|/ε.
# float32 hits that wall at steps about u₃₂/u₆₄ ≈ 5·10⁸ times larger than float64.
# Its flat line at 100% error is where ε < u·|x|: x + ε rounds back to x, the
# difference is exactly 0, and the "derivative" is 0.

# %%
fig, ax = plt.subplots(figsize=(7, 5))
styles = {"float64": "-", "float32": "--"}
for name, (forward, central) in errors.items():
    ax.loglog(epsilons, forward, styles[name], color="tab:red", label=f"forward, {name}")
    ax.loglog(epsilons, central, styles[name], color="tab:blue", label=f"central, {name}")
ax.loglog(epsilons, epsilons, ":", color="gray", label="∝ ε")
ax.loglog(epsilons, epsilons ** 2, ":", color="black", label="∝ ε²")
ax.set_xlabel("step ε")
ax.set_ylabel("median relative error of f′")
ax.set_ylim(1e-14, 10)
ax.set_title("Finite differences: truncation (right) vs rounding (left)")
ax.legend(fontsize=8)
show(fig, "03_finite_difference_error.png", dpi=100, bbox_inches="tight")

# %% [markdown]
# Now assert what the plot shows.

# %%
def slope(curve, low, high):
    """Least-squares slope of log(error) against log(ε) for ε in [low, high]."""
    window = (epsilons >= low) & (epsilons <= high)
    return np.polyfit(np.log10(epsilons[window]), np.log10(curve[window]), 1)[0]


forward64, central64 = errors["float64"]
forward32, central32 = errors["float32"]
# Truncation regime (large ε): the orders of the two formulas.
assert 0.9 < slope(forward64, 1e-4, 1e-1) < 1.1, slope(forward64, 1e-4, 1e-1)
assert 1.9 < slope(central64, 1e-3, 1e-1) < 2.1, slope(central64, 1e-3, 1e-1)
# Rounding regime (tiny ε): error grows as ε shrinks.
assert slope(forward64, 1e-14, 1e-10) < -0.5, slope(forward64, 1e-14, 1e-10)
assert forward64[0] > 1e3 * forward64.min()
# Central differences in float64 reach ~1e-10; float32 cannot get anywhere near.
assert central64.min() < 1e-9
assert central32.min() > 1e3 * central64.min()
assert forward64.min() > 10 * central64.min()
# The best step is far larger in float32.
assert epsilons[central32.argmin()] > 100 * epsilons[central64.argmin()]
print("slopes: forward ≈ 1, central ≈ 2; rounding wall on the left; float64 central is the one to use")

# %% [markdown]
# **Lessons for a gradient checker:** use central differences, compute in
# float64, take ε ≈ 1e-6 (near u^⅓ and safe for inputs of size ~1), and allow a
# relative tolerance around 1e-5…1e-3 rather than demanding equality.
# Those are the defaults of `minigrad.gradcheck` (`eps=1e-6, atol=1e-5, rtol=1e-3`).
#
# ## 2. minigrad.gradcheck on a small network
#
# Open `minigrad/gradcheck.py`. For a function `fn` of some tensors it:
#
# * makes float64 copies of the inputs (your float32 tensors are untouched);
# * draws a fixed random v of the output's shape and checks the scalar
#   L(x) = Σ v ⊙ fn(x), whose gradient is the VJP vᵀ ∂fn/∂x — so one backward
#   pass checks the VJP for a *generic* upstream gradient, not just for ones;
# * element-wise mode: perturbs every element of every input in turn
#   (2 evaluations each — exact but slow, for small inputs);
# * directional mode: perturbs along a few random unit directions u and
#   compares ⟨∇L, u⟩ with (L(x + εu) − L(x − εu)) / 2ε (2 evaluations per
#   direction, whatever the size).
#
# It returns True or raises `GradcheckError`. Here is a two-layer tanh network
# with a cross-entropy loss, written with `minigrad.functional` (`F.linear`,
# `F.cross_entropy` in `minigrad/functional.py`):

# %%
def network_loss(x, w1, b1, w2, b2):
    labels = np.arange(x.shape[0]) % w2.shape[0]
    return F.cross_entropy(F.linear(F.linear(x, w1, b1).tanh(), w2, b2), labels)


def parameters(n_in, n_hidden, n_classes, batch):
    shapes = [(batch, n_in), (n_hidden, n_in), (n_hidden,), (n_classes, n_hidden), (n_classes,)]
    return [minigrad.tensor(rng.standard_normal(s) / np.sqrt(s[-1]), requires_grad=True) for s in shapes]


small = parameters(n_in=3, n_hidden=5, n_classes=4, batch=6)
assert minigrad.gradcheck(network_loss, small, mode="elementwise")
print("element-wise gradcheck passed:", sum(t.numel() for t in small), "elements, each perturbed ±ε")

large = parameters(n_in=64 if QUICK else 256, n_hidden=128 if QUICK else 512, n_classes=10, batch=32)
assert minigrad.gradcheck(network_loss, large, mode="directional", directions=3)
print(f"directional gradcheck passed: {sum(t.numel() for t in large)} elements, 3 random directions per input")

# %% [markdown]
# ## 3. What a bug looks like
#
# A new op in minigrad is a forward computation on arrays plus one VJP per
# input, packed by `minigrad.tensor.result(data, op, parents, vjps)` — the
# same function every op in `minigrad/ops/` ends with. Let us add softplus,
#
# $$y = \log(1 + e^{x}), \qquad \frac{\partial y}{\partial x} = \frac{e^{x}}{1 + e^{x}} = \sigma(x),$$
#
# once correctly, once with a classic slip (the denominator forgotten), and
# once with a subtler one: the VJP ignores the incoming gradient g.

# %%
def softplus(x):
    # log(1 + eˣ) = logaddexp(0, x) without overflow for large x
    return result(np.logaddexp(0, x.array), "softplus", (x,), (lambda g, y: g * x.sigmoid(),))


def softplus_forgot_denominator(x):
    return result(np.logaddexp(0, x.array), "softplus", (x,), (lambda g, y: g * x.exp(),))  # BUG


def softplus_ignores_g(x):
    return result(np.logaddexp(0, x.array), "softplus", (x,), (lambda g, y: x.sigmoid(),))  # BUG


x = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
assert minigrad.gradcheck(softplus, x)
print("correct softplus: gradcheck passed")

try:
    minigrad.gradcheck(softplus_forgot_denominator, x)
    raise AssertionError("gradcheck should have failed")
except minigrad.GradcheckError as error:
    message = str(error)
    print("forgot the denominator →", message)
assert "input 0" in message and "element" in message and "analytic" in message and "numeric" in message

# %% [markdown]
# The message names the input (0), the element where the two most
# disagree, and both values. The values are entries of ∇L for the random
# projection L = Σ v ⊙ fn(x), so they are v-weighted derivatives, not
# σ(x) itself; what matters is that they differ.
#
# The second bug is sneakier. If you test an op only as the last step before
# `.sum()`, the incoming gradient is all ones and "forgetting g" changes
# nothing — the naive check passes:

# %%
naive = minigrad.tensor(x.numpy(), requires_grad=True)
softplus_ignores_g(naive).sum().backward()
np.testing.assert_allclose(naive.grad.numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
print("naive test (sum, g = 1) cannot see the bug")

for mode in ("elementwise", "directional"):
    try:
        minigrad.gradcheck(softplus_ignores_g, x, mode=mode)
        raise AssertionError("gradcheck should have failed")
    except minigrad.GradcheckError as error:
        print(f"ignores g, {mode} →", error)
        assert "input 0" in str(error)

# %% [markdown]
# gradcheck's random v is a random upstream gradient, so the bug shows. This
# is why minigrad's own tests (`tests/test_ops_gradcheck.py`) gradcheck every
# op on random shapes, and run `minigrad.gradgradcheck` for second derivatives.
#
# A third kind of slip — a VJP that forgets to undo broadcasting and returns a
# gradient of the wrong shape — never gets as far as gradcheck: the backward
# pass itself refuses it (`_check_grad` in `minigrad/autograd.py`).

# %%
def add_forgot_sum_to(a, b):
    return result(a.array + b.array, "add", (a, b), (lambda g, y: g, lambda g, y: g))  # BUG for b


a = minigrad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
b = minigrad.tensor(rng.standard_normal(4), requires_grad=True)
try:
    add_forgot_sum_to(a, b).sum().backward()
    raise AssertionError("backward should have refused the gradient")
except RuntimeError as error:
    print("forgot sum_to →", error)
    assert "Size([3, 4])" in str(error) and "Size([4])" in str(error)

# %% [markdown]
# ## Exercises
#
# 1. Re-run section 1 with a function that has a kink, e.g. `x.relu()`, at
#    points near 0. Which ε still works, and why does gradcheck test ReLU away
#    from its kink?
# 2. Pass `eps=1e-3` and `eps=1e-10` to `minigrad.gradcheck` on the network.
#    Predict from the plot which one fails and why.
# 3. Write a `cube(x)` op with `result(...)` and a VJP `g * 3 * x * x`; check it
#    with `minigrad.gradcheck` and with `minigrad.gradgradcheck`.


# %% [markdown]
# ## References
#
# * A. Ng et al., *UFLDL Tutorial*, Stanford, <http://ufldl.stanford.edu/tutorial/> — "Debugging: Gradient Checking".
# * N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM, 2002 —
#   rounding error and the best step of a finite difference.
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, "Automatic Differentiation in
#   Machine Learning: a Survey", *JMLR* 18(153), 2018, <https://jmlr.org/papers/v18/17-468.html>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 03: all checks passed")
