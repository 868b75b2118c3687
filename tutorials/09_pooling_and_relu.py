# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 09 · Pooling and ReLU
#
# Two of the cheapest layers of a CNN, and two of the most instructive
# backward passes: neither has a weight, and both route gradients rather than
# compute them. This lesson opens `kernels/pool/` and `kernels/relu/`, and the
# ops built on them (`minigrad/ops/pool.py`, `relu` in `minigrad/ops/elementwise.py`):
#
# 1. max pooling by hand: the window loop, the argmax, and a backward that sends
#    each gradient to its window's winner (overlapping windows add up);
# 2. average pooling: a *linear* map, whose backward is its transpose — checked
#    with the dot-product test ⟨A x, g⟩ = ⟨x, Aᵀ g⟩; what `count_include_pad` means;
# 3. scatter or gather: the CPU face scatters gradients, the CUDA face gathers
#    them (one thread per input, no two threads writing one address) — the same
#    numbers, shown in NumPy;
# 4. gradient checking at ties: why the tests use distinct values;
# 5. ReLU: the kernel forward, the mask backward, and why relu stays
#    differentiable twice while the pooling ops are first-order;
# 6. the reference face against the fast CPU face (same numbers, timed).
#
# A figure of the gradient routing goes to `$MINIGRAD_TUTORIAL_OUT`
# (default `tutorial_output/`).

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import kernels.pool
import kernels.relu
import minigrad
import minigrad.functional as F
from kernels.pool import cpu as pool_cpu
from kernels.pool import reference as pool_reference
from _figures import show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Max pooling by hand
#
# A window of kh×kw slides over each (H, W) plane with stride s; each output is
# the largest value under the window:
#
# $$y_{n,c,i,j} = \max_{(r, q) \in \text{window}} x_{n,\,c,\,i s + r - p,\,j s + q - p}$$
#
# The output size is Ho = (H + 2p − kh) // s + 1. Padding p counts as −∞, so it
# never wins; PyTorch (and minigrad) allow p ≤ k/2 only, so no window is padding
# alone. Here is the whole forward pass for one 4×4 plane with 2×2 windows,
# written out as loops:

# %%
x = np.array([[1., 2., 0., 5.],
              [3., 4., 6., 1.],
              [0., 0., 1., 1.],
              [9., 0., 1., 2.]])

by_hand = np.empty((2, 2))
winner = np.empty((2, 2), dtype=int)
for i in range(2):
    for j in range(2):
        window = x[2 * i:2 * i + 2, 2 * j:2 * j + 2]
        k = window.argmax()                      # position inside the window, row-major
        by_hand[i, j] = window.flat[k]
        winner[i, j] = (2 * i + k // 2) * 4 + (2 * j + k % 2)  # flat index h·W + w in the plane
print("pooled:\n", by_hand, "\nwinners (h·W + w):\n", winner)

y, argmax = kernels.pool.max_forward(x[None, None], 2)
assert np.array_equal(y[0, 0], by_hand) and np.array_equal(argmax[0, 0], winner)

# %% [markdown]
# The backward follows from y[o] = x[argmax[o]]: the output o depends on one
# input only, with derivative 1, so
#
# $$\frac{\partial L}{\partial x_m} = \sum_{o\,:\,\operatorname{argmax}(o) = m} \frac{\partial L}{\partial y_o}$$
#
# Every other input gets 0. The forward *records* the argmax for exactly this
# reason: the backward never looks at x again. With overlapping windows
# (stride < kernel), one input can win several windows, and its gradient is the
# sum — here the centre of a 3×3 plane wins all four 2×2 windows at stride 1:

# %%
gy = np.array([[10., 20.], [30., 40.]])
gx = kernels.pool.max_backward(gy[None, None], argmax, (1, 1, 4, 4), 2)[0, 0]
print("gradient routed to the winners:\n", gx)
assert gx.sum() == gy.sum() and gx[1, 1] == 10 and gx[1, 2] == 20 and gx[3, 0] == 30 and gx[3, 3] == 40

centre = np.zeros((1, 1, 3, 3))
centre[0, 0, 1, 1] = 1
y3, argmax3 = kernels.pool.max_forward(centre, 2, stride=1)
g3 = kernels.pool.max_backward(np.ones_like(y3), argmax3, centre.shape, 2, 1)
assert g3[0, 0, 1, 1] == 4 and g3.sum() == 4

# %% [markdown]
# ## 2. Average pooling is linear: its backward is its transpose
#
# y[o] = (1 / (kh·kw)) Σ_window x. No argmax is needed: each input of a window
# receives gy[o] / (kh·kw). Average pooling is a linear map y = A x, and the VJP
# of a linear map is multiplication by the transpose, gx = Aᵀ gy. The
# *dot-product test* checks a transpose without ever forming A: for any x and g,
# ⟨A x, g⟩ must equal ⟨x, Aᵀ g⟩ to rounding.
#
# `count_include_pad=True` (PyTorch's default, and minigrad's only mode) divides by
# kh·kw even where the window hangs over the padding: a corner window of a
# 3×3 pool with padding 1 averages 4 real values and 5 zeros.

# %%
xa = rng.standard_normal((2, 3, 7, 6))
for kernel, stride, padding in [(2, 2, 0), (3, 1, 1), ((3, 2), (2, 3), (1, 0))]:
    ya = kernels.pool.avg_forward(xa, kernel, stride, padding)
    g = rng.standard_normal(ya.shape)
    gxa = kernels.pool.avg_backward(g, xa.shape, kernel, stride, padding)
    lhs, rhs = np.vdot(ya, g), np.vdot(xa, gxa)
    print(f"kernel {kernel}, stride {stride}, padding {padding}:  ⟨Ax, g⟩ = {lhs:.12f}   ⟨x, Aᵀg⟩ = {rhs:.12f}")
    assert abs(lhs - rhs) < 1e-12 * max(1, abs(lhs))

ones = np.ones((1, 1, 2, 2))
assert np.allclose(kernels.pool.avg_forward(ones, 3, 1, 1), 4 / 9)  # the padding's zeros count

# %% [markdown]
# ## 3. Scatter or gather
#
# The backward above *scatters*: walk the outputs, add each gy into the input it
# names. On a CPU a serial loop does this safely (`kernels/pool/cpu.py`). On a GPU,
# with one thread per output, two threads whose windows picked the same input
# would add into the same address at the same time — a race. `kernels/pool/cuda.py`
# turns the loop around and *gathers*: one thread per input, which visits the
# outputs whose windows cover it and adds the gy of those that picked it. No two
# threads write the same element, and the sum comes out in a fixed order.
#
# Which windows cover input row r? Window i spans rows i·s − p … i·s − p + k − 1,
# so r is covered when i·s − p ≤ r < i·s − p + k:
#
# $$i_\text{first} = \begin{cases} 0 & r + p < k \\ \lfloor (r + p - k)/s \rfloor + 1 & \text{otherwise} \end{cases}, \qquad i_\text{last} = \min\big(\lfloor (r + p)/s \rfloor,\ H_o - 1\big)$$
#
# (the same two lines as `_first_window` and `_last_window` in the CUDA face).
# Here is that gather in NumPy, against the scatter:

# %%
def gather_max_backward(gy, argmax, x_shape, k, s, p):
    n, c, h, w = x_shape
    ho, wo = gy.shape[2:]
    gx = np.zeros(x_shape)
    for r in range(h):                       # on the GPU: one thread per (n, c, r, q)
        rows = range(0 if r + p < k else (r + p - k) // s + 1, min((r + p) // s, ho - 1) + 1)
        for q in range(w):
            cols = range(0 if q + p < k else (q + p - k) // s + 1, min((q + p) // s, wo - 1) + 1)
            for oi in rows:
                for oj in cols:
                    picked = argmax[:, :, oi, oj] == r * w + q
                    gx[:, :, r, q] += np.where(picked, gy[:, :, oi, oj], 0)
    return gx


xg = rng.standard_normal((2, 2, 7, 7))
for k, s, p in [(3, 1, 1), (2, 2, 0), (3, 2, 1), (2, 3, 1)]:
    yg, ag = kernels.pool.max_forward(xg, k, s, p)
    gyg = rng.standard_normal(yg.shape)
    scattered = kernels.pool.max_backward(gyg, ag, xg.shape, k, s, p)
    assert np.allclose(gather_max_backward(gyg, ag, xg.shape, k, s, p), scattered)
print("gather == scatter for overlapping, tiled, padded and gapped windows")

# %% [markdown]
# ## 4. Gradient checking at ties
#
# Max pooling is differentiable wherever each window has a unique maximum. At a
# tie, the kernel (like PyTorch) gives the whole gradient to the first maximum,
# while central differences see a kink: nudging either tied value up wins, down
# loses, and the numeric derivative averages to ½ for each. So `gradcheck` of
# max pooling is only meaningful on distinct values, spaced further apart than
# its step ε — which is what `tests/test_pool_bn_ops.py` draws.

# %%
distinct = minigrad.tensor(rng.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) * 0.01, requires_grad=True)
assert minigrad.gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), [distinct])
assert minigrad.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1), [distinct])

tied = minigrad.tensor(np.array([[[[1.0, 1.0], [0.0, 0.0]]]]), requires_grad=True)
try:
    minigrad.gradcheck(lambda t: F.max_pool2d(t, 2), [tied])
    raise AssertionError("a tie should disagree with finite differences")
except minigrad.GradcheckError as error:
    print("at a tie:", error)
    assert "analytic 1" in str(error) or "analytic 0" in str(error)

# %% [markdown]
# ## 5. ReLU: a kernel forward, a mask backward
#
# y = max(x, 0); ∂y/∂x is 1 where x > 0 and 0 where x < 0 (at 0, minigrad and
# PyTorch choose 0). The backward needs only *where* x was positive, and
# y > 0 exactly there, so `kernels.relu.backward(gy, y)` keeps the output, not
# the input (one array less to hold between forward and backward).
#
# `F.relu` runs `kernels.relu.forward`. Its VJP is g·mask with a constant mask,
# a linear function of g, so a second derivative exists (it is 0 almost
# everywhere): for a plain backward the kernel applies the mask; under
# `create_graph=True` the VJP is built from Tensor ops instead, so it can be
# differentiated again. The pooling ops compute their backward in a kernel on raw
# arrays: they are *first-order*, and say so.

# %%
xr = minigrad.tensor(np.array([-1.5, -0.5, 0.5, 2.0]), requires_grad=True)
(g1,) = minigrad.grad((F.relu(xr) ** 3).sum(), [xr], create_graph=True)  # 3·relu(x)²·mask
(g2,) = minigrad.grad(g1.sum(), [xr])                                     # 6·relu(x)·mask
assert np.allclose(g1.numpy(), [0, 0, 0.75, 12]) and np.allclose(g2.numpy(), [0, 0, 3, 12])
assert minigrad.gradgradcheck(lambda t: F.relu(t) ** 3, [xr])

try:
    minigrad.grad((F.max_pool2d(distinct, 2) ** 2).sum(), [distinct], create_graph=True)
    raise AssertionError("max_pool2d should refuse create_graph")
except RuntimeError as error:
    print(error)
    assert "first-order" in str(error)

# %% [markdown]
# ## 6. The reference face and the fast CPU face
#
# `kernels/pool/reference.py` pads a copy of x and loops in Python over the output
# positions, each step slicing a window out of every plane at once: easy to read,
# and the oracle every other face is tested against. `kernels/pool/cpu.py` walks
# each plane once in compiled Numba code, skipping the border instead of padding
# a copy. Same numbers, different speed (the benchmark CNN's first pooling layer:
# 128 images of 32 channels of 32×32; smaller in quick mode):

# %%
shape = (8, 8, 16, 16) if QUICK else (128, 32, 32, 32)
big = rng.standard_normal(shape).astype(np.float32)
window = kernels.pool.window("max_pool2d", 2)
pool_cpu.max_forward(big, *window)  # compile (or load from Numba's cache) before timing
results = {}
for name, face in [("reference", pool_reference), ("cpu", pool_cpu)]:
    start = time.perf_counter()
    results[name] = face.max_forward(big, *window)
    print(f"{name:>9}: {1e3 * (time.perf_counter() - start):7.1f} ms for max pooling of {shape}")
assert all(np.array_equal(a, b) for a, b in zip(results["reference"], results["cpu"]))  # y and argmax

# %% [markdown]
# ## A picture of the routing
#
# Left: an input plane; middle: its 2×2 max pool; right: the gradient of
# Σ y — a 1 on every winner, 0 elsewhere (one winner per window).

# %%
plane = rng.standard_normal((1, 1, 8, 8))
yp, ap = kernels.pool.max_forward(plane, 2)
gp = kernels.pool.max_backward(np.ones_like(yp), ap, plane.shape, 2)
assert gp.sum() == yp.size and set(np.unique(gp)) <= {0.0, 1.0}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
scales = [dict(vmin=plane.min(), vmax=plane.max())] * 2 + [{}]  # x and y on one colour scale
titles = ["input x", "max_pool2d(x, 2)", "∂(Σy)/∂x: the winners"]
for ax, image, title, scale in zip(axes, [plane, yp, gp], titles, scales):
    ax.imshow(image[0, 0], cmap="viridis", **scale)
    ax.set_title(title)
    ax.set_xticks([]), ax.set_yticks([])
fig.tight_layout()
show(fig, "09_max_pool_routing.png", dpi=120)

# %% [markdown]
# ## Exercises
#
# 1. Write the gather backward of *average* pooling in NumPy (section 3, without
#    the argmax test) and compare it with `kernels.pool.avg_backward`.
# 2. Max pooling and ReLU commute: max(relu(a), relu(b)) = relu(max(a, b)). Check
#    it with `F.max_pool2d` and `F.relu`, and count how many elements each order
#    passes through ReLU. Which order is cheaper in a CNN?
# 3. Run section 6 with `MINIGRAD_FACE=reference` set in the environment: what do
#    `F.max_pool2d` and `F.relu` run then?


# %% [markdown]
# ## References
#
# * Y. Jia et al., "Caffe: Convolutional Architecture for Fast Feature Embedding", ACM
#   Multimedia 2014, <https://arxiv.org/abs/1408.5093> — im2col + one GEMM, as Caffe does it — pooling with stored argmax.
# * K. Chellapilla, S. Puri, P. Simard, "High Performance Convolutional Neural Networks for
#   Document Processing", IWFHR 2006, <https://inria.hal.science/inria-00112631> — im2col.
# * V. Nair, G. Hinton, "Rectified Linear Units Improve Restricted Boltzmann Machines",
#   ICML 2010 — the ReLU.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 09: all checks passed")
