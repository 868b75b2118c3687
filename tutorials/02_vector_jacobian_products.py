# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 · Vector-Jacobian products
#
# Lesson 01 pushed one number (an adjoint) back through scalar steps. With
# arrays, each step y = f(x) has a whole Jacobian matrix J = ∂y/∂x, and the
# chain rule multiplies Jacobians. Reverse mode never builds them: it only
# ever computes **gᵀ J**, the gradient of the loss with respect to the input
# given the gradient g with respect to the output — a *vector-Jacobian
# product* (VJP). This lesson shows:
#
# 1. why forming J is out of the question (the numbers for one 1000×1000 layer);
# 2. the VJP of elementwise ops (J is diagonal) and of matmul
#    (gA = G Bᵀ, gB = Aᵀ G), each checked against a J built column by column;
# 3. fan-out: a tensor used twice receives the sum of two VJPs;
# 4. broadcasting, undone by summing (`minigrad.ops.sum_to`);
# 5. second derivatives: a Hessian-vector product with `create_graph=True`,
#    against the explicit Hessian.

# %%
import os

import numpy as np

import minigrad
from minigrad.ops import sum_to

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)


def t64(array, requires_grad=False):
    """A float64 minigrad tensor: this lesson compares against formulas to ~1e-12."""
    return minigrad.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# %% [markdown]
# ## 1. Never the full Jacobian
#
# A linear layer h = W x with W of shape 1000×1000 and x of size 1000 has
# 10⁶ weights. The Jacobian ∂h/∂W has one row per output and one column per
# weight: 1000 × 10⁶ = 10⁹ numbers, 4 GB in float32 — for a single sample.
# Yet the gradient the optimizer needs is only gᵀ ∂h/∂W, which works out to
# the outer product
#
# $$\frac{\partial L}{\partial W} = g\,x^\top \qquad \Big(g = \frac{\partial L}{\partial h},\ \text{1000 numbers}\Big)$$
#
# — 10⁶ numbers, 4 MB, 10⁶ multiplications. Every Jacobian in a network is
# like this: huge and mostly zeros (h_i depends only on row i of W), with a
# structure the VJP exploits.

# %%
n = 1000
jacobian_numbers = n * (n * n)
vjp_numbers = n * n
print(f"∂h/∂W: {jacobian_numbers:.0e} numbers = {jacobian_numbers * 4 / 1e9:.0f} GB in float32")
print(f"g xᵀ : {vjp_numbers:.0e} numbers = {vjp_numbers * 4 / 1e6:.0f} MB in float32")
assert jacobian_numbers * 4 == 4_000_000_000 and jacobian_numbers // vjp_numbers == n

W = minigrad.tensor(rng.standard_normal((n, n)).astype(np.float32), requires_grad=True)
x = minigrad.tensor(rng.standard_normal(n).astype(np.float32))
g = minigrad.tensor(rng.standard_normal(n).astype(np.float32))
h = W @ x
(gW,) = minigrad.grad(h, W, grad_outputs=g)  # gᵀ ∂h/∂W, without forming ∂h/∂W
assert gW.shape == (n, n)
np.testing.assert_allclose(gW.numpy(), np.outer(g.numpy(), x.numpy()), rtol=1e-6)
print("minigrad's ∂L/∂W for the 1000×1000 layer is g xᵀ")

# %% [markdown]
# `minigrad.grad(outputs, inputs, grad_outputs=g)` is the VJP itself (as
# `torch.autograd.grad`): the gradient of ⟨g, outputs⟩. With g = eᵢ (a one-hot
# vector) it returns row i of J, so reverse mode can build J **row by row**,
# one backward pass per output. Finite differences build it **column by
# column**, one pair of evaluations per input:
#
# $$J_{:,j} \approx \frac{f(x + \varepsilon e_j) - f(x - \varepsilon e_j)}{2\varepsilon}$$
#
# We use both on small cases to check minigrad's VJPs.

# %%
def jacobian_by_columns(fn, x, eps=1e-6):
    """J (outputs × inputs, flattened) by central differences, in float64."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step.flat[j] = eps
        columns.append((fn(t64(x + step)).numpy() - fn(t64(x - step)).numpy()).ravel() / (2 * eps))
    return np.stack(columns, axis=1)


def jacobian_by_rows(fn, x):
    """J built from VJPs with one-hot g: row i is eᵢᵀ J."""
    xt = t64(x, requires_grad=True)
    y = fn(xt)
    rows = []
    for i in range(y.numel()):
        onehot = np.zeros(y.shape)
        onehot.flat[i] = 1.0
        (row,) = minigrad.grad(y, xt, grad_outputs=t64(onehot), retain_graph=True)  # one graph, many VJPs
        rows.append(row.numpy().ravel())
    return np.stack(rows)


# %% [markdown]
# ## 2a. Elementwise ops: a diagonal Jacobian
#
# y = tanh(x) acts on each element alone, so ∂yᵢ/∂xⱼ = 0 for i ≠ j and J is
# diagonal with entries 1 − yᵢ². The VJP gᵀJ is then just an elementwise
# product, g ⊙ (1 − y²): n numbers instead of n². Open
# `minigrad/ops/elementwise.py`: every VJP there has this form, `g * (local derivative)`.

# %%
x = rng.standard_normal(6)
J = jacobian_by_columns(lambda t: t.tanh(), x)
assert np.allclose(J - np.diag(np.diag(J)), 0, atol=1e-12), "off-diagonal entries must vanish"
np.testing.assert_allclose(np.diag(J), 1 - np.tanh(x) ** 2, rtol=1e-8)
np.testing.assert_allclose(jacobian_by_rows(lambda t: t.tanh(), x), J, rtol=1e-8, atol=1e-12)

g = rng.standard_normal(6)
xt = t64(x, requires_grad=True)
(gx,) = minigrad.grad(xt.tanh(), xt, grad_outputs=t64(g))
np.testing.assert_allclose(gx.numpy(), g @ J, rtol=1e-8)
np.testing.assert_allclose(gx.numpy(), g * (1 - np.tanh(x) ** 2), rtol=1e-12)
print("tanh: J is diagonal and gᵀJ = g ⊙ (1 − y²)")

# %% [markdown]
# ## 2b. Matmul: gA = G Bᵀ, gB = Aᵀ G
#
# For Y = A B with A (m×k), B (k×p) and upstream gradient G = ∂L/∂Y (m×p):
#
# $$\begin{aligned}
# \frac{\partial L}{\partial A_{ij}} &= \sum_q G_{iq} B_{jq} & &\Rightarrow & g_A &= G B^\top \quad (m \times k, \text{ like } A), \\
# \frac{\partial L}{\partial B_{jq}} &= \sum_i A_{ij} G_{iq} & &\Rightarrow & g_B &= A^\top G \quad (k \times p, \text{ like } B).
# \end{aligned}$$
#
# A quick sanity check: the shapes only fit one way. The Jacobian ∂Y/∂A would
# have (m·p) × (m·k) entries: for m = k = p = 1000 that is 10¹², against one
# matrix product for the VJP. The code is `matmul` in `minigrad/ops/linalg.py`.

# %%
m, k, p = 3, 4, 2
A, B, G = rng.standard_normal((m, k)), rng.standard_normal((k, p)), rng.standard_normal((m, p))
At, Bt = t64(A, requires_grad=True), t64(B, requires_grad=True)
gA, gB = minigrad.grad(At @ Bt, [At, Bt], grad_outputs=t64(G))
np.testing.assert_allclose(gA.numpy(), G @ B.T, rtol=1e-12)
np.testing.assert_allclose(gB.numpy(), A.T @ G, rtol=1e-12)

J_A = jacobian_by_columns(lambda a: a @ t64(B), A)  # (m·p) × (m·k)
J_B = jacobian_by_columns(lambda b: t64(A) @ b, B)  # (m·p) × (k·p)
assert J_A.shape == (m * p, m * k) and J_B.shape == (m * p, k * p)
np.testing.assert_allclose(G.ravel() @ J_A, gA.numpy().ravel(), rtol=1e-7, atol=1e-9)
np.testing.assert_allclose(G.ravel() @ J_B, gB.numpy().ravel(), rtol=1e-7, atol=1e-9)
print(f"matmul: vec(G)ᵀ J_A ({J_A.shape[0]}×{J_A.shape[1]}) = G Bᵀ and vec(G)ᵀ J_B = Aᵀ G")

# %% [markdown]
# ## 3. Fan-out: gradients add
#
# When a tensor feeds several ops, each op sends back its own VJP and the
# tensor's gradient is their **sum** (the multivariable chain rule; lesson 01
# saw it with x used twice). Take u = tanh(x) and f = Σ (u·u + u): u is used
# three times (twice by the product u·u, once by the addition u·u + u; the
# final Σ uses only the addition's result), so
#
# $$\frac{\partial f}{\partial u} = u + u + 1 = 2u + 1 .$$

# %%
xt = t64(rng.standard_normal(5), requires_grad=True)
u = xt.tanh().retain_grad()
square = u * u
f = (square + u).sum()
f.backward(retain_graph=True)  # keep the VJPs: we call them by hand below (a plain backward frees them)
np.testing.assert_allclose(u.grad.numpy(), 2 * u.numpy() + 1, rtol=1e-12)

# The shares one by one: the two VJPs of the product, and the addition's, which
# passes the gradient through unchanged (1 per element).
ones = t64(np.ones(u.shape))
mul_shares = [vjp(ones, square).numpy() for vjp in square.node.vjps]
assert square.node.parents[0] is u and square.node.parents[1] is u
addition = f.node.parents[0]
assert addition.node.op == "add" and addition.node.parents[1] is u
add_share = addition.node.vjps[1](ones, addition).numpy()
np.testing.assert_allclose(add_share, 1.0)
np.testing.assert_allclose(mul_shares[0] + mul_shares[1] + add_share, u.grad.numpy(), rtol=1e-12)
print("fan-out: u.grad = u (first factor) + u (second factor) + 1 (the addition)")

# %% [markdown]
# ## 4. Broadcasting is undone by summing
#
# In y = x ⊙ c + b with x (3×4), a column c (3×1) and a row b (4,), NumPy's
# broadcasting copies b to every row and c to every column. A copied value
# influences every copy, so its gradient is the **sum** of the gradients of the
# copies (fan-out again):
#
# $$g_b = \sum_\text{rows} G \quad \text{(shape (4,))}, \qquad g_c = \sum_\text{columns} (G \odot x) \quad \text{(3×1, keeping the axis)}$$
#
# minigrad does this in one helper, `sum_to(g, shape)` in `minigrad/ops/shape.py`:
# it sums the leading axes broadcasting added and the axes where `shape` has
# a 1. Every op whose inputs may be broadcast ends its VJP with it (see
# `add`, `mul` in `minigrad/ops/elementwise.py`).

# %%
X, C, Bias = rng.standard_normal((3, 4)), rng.standard_normal((3, 1)), rng.standard_normal(4)
G = rng.standard_normal((3, 4))
xt, ct, bt = t64(X, True), t64(C, True), t64(Bias, True)
(xt * ct + bt).backward(t64(G))
np.testing.assert_allclose(bt.grad.numpy(), G.sum(axis=0), rtol=1e-12)
np.testing.assert_allclose(ct.grad.numpy(), (G * X).sum(axis=1, keepdims=True), rtol=1e-12)
np.testing.assert_allclose(xt.grad.numpy(), G * C, rtol=1e-12)
assert bt.grad.shape == bt.shape and ct.grad.shape == ct.shape

np.testing.assert_allclose(sum_to(t64(G), (4,)).numpy(), G.sum(axis=0), rtol=1e-12)
np.testing.assert_allclose(sum_to(t64(G), (3, 1)).numpy(), G.sum(axis=1, keepdims=True), rtol=1e-12)
G3 = rng.standard_normal((2, 3, 4))
np.testing.assert_allclose(sum_to(t64(G3), (3, 1)).numpy(), G3.sum(axis=(0, 2))[:, None], rtol=1e-12)
print("broadcasting: gb, gc are sums of G over the copied axes (sum_to)")

# %% [markdown]
# ## 5. Second derivatives: Hessian-vector products
#
# Each VJP in minigrad is written with Tensor ops (not raw arrays), so with
# `create_graph=True` the backward pass *records a graph of its own*. The
# gradient ∇f is then a differentiable function of x, and differentiating
# ⟨∇f, v⟩ once more gives a Hessian-vector product
#
# $$H v = \nabla_x \langle \nabla f(x), v \rangle$$
#
# at the cost of about two backward passes, never forming the n×n Hessian.
# (Newton-CG and curvature diagnostics are built on this.)
#
# Test case: f(x) = logsumexp(A x), whose Hessian is known in closed form. With
# p = softmax(A x):
#
# $$\nabla f = A^\top p, \qquad H = A^\top \big(\operatorname{diag}(p) - p\,p^\top\big) A .$$

# %%
n_in, n_out = (5, 7) if QUICK else (40, 60)
A = rng.standard_normal((n_out, n_in))
x = rng.standard_normal(n_in)
v = rng.standard_normal(n_in)
z = A @ x
prob = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
H = A.T @ (np.diag(prob) - np.outer(prob, prob)) @ A

xt = t64(x, requires_grad=True)
f = (t64(A) @ xt).logsumexp()
(grad_f,) = minigrad.grad(f, xt, create_graph=True)
assert grad_f.requires_grad, "with create_graph=True the gradient carries a graph"
np.testing.assert_allclose(grad_f.numpy(), A.T @ prob, rtol=1e-10)
(hv,) = minigrad.grad((grad_f * t64(v)).sum(), xt, retain_graph=True)  # grad_f's graph is used again below
np.testing.assert_allclose(hv.numpy(), H @ v, rtol=1e-9, atol=1e-12)
print(f"H v from two backward passes matches Aᵀ(diag(p) − ppᵀ)A v (n = {n_in})")

# The full Hessian, one column per HVP with v = eⱼ: n passes for n² numbers.
columns = []
for j in range(n_in):
    (column,) = minigrad.grad(grad_f, xt, grad_outputs=t64(np.eye(n_in)[j]), retain_graph=True)
    columns.append(column.numpy())
np.testing.assert_allclose(np.stack(columns, axis=1), H, rtol=1e-9, atol=1e-12)
print("explicit Hessian from n Hessian-vector products matches the formula")

# %% [markdown]
# Without `create_graph` the gradient is a plain number array with no graph,
# and asking for its derivative is an error rather than a silent zero:

# %%
(plain_grad,) = minigrad.grad((t64(A) @ xt).logsumexp(), xt)
assert not plain_grad.requires_grad
try:
    minigrad.grad((plain_grad * t64(v)).sum(), xt)
    raise AssertionError("expected an error")
except RuntimeError as error:
    print("second grad without create_graph:", error)

# %% [markdown]
# ## Exercises
#
# 1. Derive the VJP of y = A x for a *vector* x from gA = G Bᵀ, gB = Aᵀ G.
#    How does `matmul` in `minigrad/ops/linalg.py` handle 1-D inputs?
# 2. Build the Jacobian of `softmax` with `jacobian_by_rows` and check it is
#    diag(y) − y yᵀ. Why does the VJP in `minigrad/ops/reduce.py` never form it?
# 3. Use Hessian-vector products and a few steps of power iteration to find the
#    largest eigenvalue of H above, and compare with `np.linalg.eigvalsh(H)`.


# %% [markdown]
# ## References
#
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, "Automatic Differentiation in
#   Machine Learning: a Survey", *JMLR* 18(153), 2018, <https://jmlr.org/papers/v18/17-468.html> — VJPs and JVPs.
# * A. Griewank, A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM, 2008.
# * B. A. Pearlmutter, "Fast Exact Multiplication by the Hessian", *Neural Computation* 6(1),
#   1994 — Hessian-vector products from two backward passes.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 02: all checks passed")
