# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 · Automatic differentiation by hand
#
# A neural network is a long expression; training it needs the derivative of
# one number (the loss) with respect to every weight. Reverse-mode automatic
# differentiation ("backprop") gets all of them for about the cost of one more
# evaluation of the expression. This lesson builds the idea from nothing:
#
# 1. the chain rule on a small scalar expression, worked out by hand;
# 2. a hand-made `Node` — a value plus the function, arguments and parents that
#    made it — and a 20-line backward pass over a graph of them;
# 3. the same computation in minigrad, and a look at the graph minigrad recorded.
#
# Run it as a script (`python tutorials/01_autodiff_by_hand.py`) or open it as a
# notebook with Jupytext. `MINIGRAD_QUICK=1` makes it check fewer random points
# and a shorter chain in section 5.

# %%
import math
import os
import sys

import numpy as np

import minigrad
from minigrad.autograd import toposort

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The chain rule on paper
#
# Take
#
# $$f(x, y) = x \tanh(xy + e^{y})$$
#
# and cut it into steps, one elementary function per line:
#
# $$a = x y, \quad b = e^{y}, \quad c = a + b, \quad d = \tanh c, \quad f = d\,x .$$
#
# Each step has a *local* derivative we know from a table:
#
# $$\frac{\partial a}{\partial x} = y,\ \ \frac{\partial a}{\partial y} = x,\ \ \frac{\partial b}{\partial y} = e^{y},\ \ \frac{\partial c}{\partial a} = \frac{\partial c}{\partial b} = 1,\ \ \frac{\partial d}{\partial c} = 1 - \tanh^2 c = 1 - d^2,\ \ \frac{\partial f}{\partial d} = x,\ \ \frac{\partial f}{\partial x}\Big|_\text{direct} = d .$$
#
# Reverse mode walks the steps from the end to the start, carrying the
# "adjoint" f̄ᵥ = ∂f/∂v of each intermediate v. Each adjoint is the adjoint of
# whatever used v, times the local derivative:
#
# $$\begin{aligned}
# \bar f_f &= 1, & \bar f_d &= \bar f_f\, x, & \bar f_c &= \bar f_d\,(1 - d^2), \\
# \bar f_a &= \bar f_c \cdot 1, & \bar f_b &= \bar f_c \cdot 1, & \bar f_y &= \bar f_a\, x + \bar f_b\, e^{y}, \\
# \bar f_x &= \bar f_f\, d + \bar f_a\, y && \text{($x$ is used twice: the two shares add)}
# \end{aligned}$$
#
# That last line is the multivariable chain rule: x reaches f along two paths
# (directly, and through a), and the derivative is the sum over paths.

# %%
def f_by_hand(x, y):
    """Forward pass, then the adjoints of the table above, in reverse order."""
    a = x * y
    b = math.exp(y)
    c = a + b
    d = math.tanh(c)
    f = d * x
    f_bar = 1.0
    d_bar = f_bar * x
    c_bar = d_bar * (1 - d * d)
    a_bar, b_bar = c_bar, c_bar
    y_bar = a_bar * x + b_bar * math.exp(y)
    x_bar = f_bar * d + a_bar * y
    return f, x_bar, y_bar


x0, y0 = 0.5, -1.2
f0, fx0, fy0 = f_by_hand(x0, y0)
print(f"f({x0}, {y0}) = {f0:.6f}   ∂f/∂x = {fx0:.6f}   ∂f/∂y = {fy0:.6f}")

# %% [markdown]
# Check it against the closed form, differentiated the school way:
#
# $$\frac{\partial f}{\partial x} = \tanh c + x\,(1 - \tanh^2 c)\,y, \qquad
# \frac{\partial f}{\partial y} = x\,(1 - \tanh^2 c)\,(x + e^{y}).$$

# %%
def closed_form(x, y):
    c = x * y + math.exp(y)
    t = math.tanh(c)
    return t + x * (1 - t * t) * y, x * (1 - t * t) * (x + math.exp(y))


points = rng.uniform(-2, 2, size=(5 if QUICK else 200, 2))
for x, y in [(x0, y0), *points]:
    _, fx, fy = f_by_hand(x, y)
    gx, gy = closed_form(x, y)
    assert math.isclose(fx, gx, rel_tol=1e-12, abs_tol=1e-14), (x, y, fx, gx)
    assert math.isclose(fy, gy, rel_tol=1e-12, abs_tol=1e-14), (x, y, fy, gy)
print(f"hand-written reverse mode == closed form at {len(points) + 1} points")

# %% [markdown]
# ## 2. A hand-made Node
#
# Writing adjoints by hand does not scale. The trick of every autodiff library
# is to *record* the steps while computing the forward pass. Each intermediate
# becomes a node holding:
#
# * `value` — the number computed;
# * `function` — the name of the elementary function that made it;
# * `arguments` — the input values that function was applied to (the local
#   derivatives need them);
# * `parents` — the nodes those inputs came from (the edges of the graph);
#
# plus a slot `grad` for its adjoint. The local derivatives live in one table,
# keyed by function name.

# %%
class Node:
    def __init__(self, value, function=None, arguments=(), parents=()):
        self.value = value
        self.function = function
        self.arguments = arguments
        self.parents = parents
        self.grad = 0.0

    def __repr__(self):
        return f"Node({self.function or 'input'}, value={self.value:.4f})"


# ∂(output)/∂(argument i), given the arguments: the "table" of section 1.
LOCAL_DERIVATIVES = {
    "add": lambda a, b: (1.0, 1.0),
    "mul": lambda a, b: (b, a),
    "exp": lambda a: (math.exp(a),),
    "tanh": lambda a: (1 - math.tanh(a) ** 2,),
}
FORWARD = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "exp": math.exp, "tanh": math.tanh}


def apply(function, *parents):
    arguments = tuple(p.value for p in parents)
    return Node(FORWARD[function](*arguments), function, arguments, parents)


# %% [markdown]
# The backward pass needs an order in which every node comes *after* all the
# nodes it was computed from (a topological order); walking that order
# backwards, a node's adjoint is complete before we pass it on, because every
# node that used it has already sent its share. The sort below is a loop with
# an explicit stack, not a recursive function: a recursive walk dies with
# `RecursionError` on a graph a few thousand steps deep (section 5).

# %%
def topological_order(output):
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    return order


def backward(output):
    output.grad = 1.0
    for node in reversed(topological_order(output)):
        if node.function is None:
            continue  # an input: nothing to pass on
        local = LOCAL_DERIVATIVES[node.function](*node.arguments)
        for parent, derivative in zip(node.parents, local):
            parent.grad += node.grad * derivative  # += : fan-out shares add up


x, y = Node(x0), Node(y0)
f = apply("mul", apply("tanh", apply("add", apply("mul", x, y), apply("exp", y))), x)
backward(f)
print("recorded order:", topological_order(f))
print(f"Node engine: ∂f/∂x = {x.grad:.6f}, ∂f/∂y = {y.grad:.6f}")
assert math.isclose(f.value, f0, rel_tol=1e-15)
assert math.isclose(x.grad, fx0, rel_tol=1e-12) and math.isclose(y.grad, fy0, rel_tol=1e-12)

# %% [markdown]
# ## 3. The same with minigrad
#
# minigrad does exactly this, with arrays instead of numbers. A `Tensor`
# (`minigrad/tensor.py`) has `.array`; when an op runs on tensors that require
# gradients, its output gets a `.node`, a `Node(op, parents, vjps)`:
#
# * `op` — the name (our `function`);
# * `parents` — the input tensors (their `.array` plays the part of our `arguments`);
# * `vjps` — one function per input, called as `vjp(g, y)` with two arguments:
#   the gradient `g` arriving at the output and the output tensor `y` itself
#   (some rules are cheapest written with the output: tanh's share is
#   g·(1 − y²), with no second tanh). It returns that input's share. For a
#   scalar that is `g · local derivative`, our table above; lesson 02 explains
#   the name "vector-Jacobian product".
#
# We use float64 so that the comparison with the hand computation is tight.

# %%
x = minigrad.tensor(x0, dtype=minigrad.float64, requires_grad=True)
y = minigrad.tensor(y0, dtype=minigrad.float64, requires_grad=True)
a = x * y
b = y.exp()
c = a + b
d = c.tanh()
f = d * x
c.retain_grad()  # keep the adjoint of an intermediate, for inspection
f.backward()
print(f"minigrad: f = {f.item():.6f}, x.grad = {x.grad.item():.6f}, y.grad = {y.grad.item():.6f}")
assert math.isclose(f.item(), f0, rel_tol=1e-15)
assert math.isclose(x.grad.item(), fx0, rel_tol=1e-12)
assert math.isclose(y.grad.item(), fy0, rel_tol=1e-12)
# f̄_c = x·(1 − d²), the fourth line of the adjoint table
assert math.isclose(c.grad.item(), x0 * (1 - d.item() ** 2), rel_tol=1e-12)

# %% [markdown]
# `.grad` is itself a Tensor (as in PyTorch). Gradients *accumulate*: calling
# `backward()` again adds to `.grad`, which is why training loops zero them.

# %%
grad_once = x.grad.item()
(x * y.exp()).backward()  # a second, unrelated expression that also uses x
assert math.isclose(x.grad.item(), grad_once + math.exp(y0), rel_tol=1e-12)
x.grad = y.grad = None

# %% [markdown]
# ## 4. The graph minigrad recorded
#
# `minigrad.autograd.toposort` is the sort `backward` uses (open
# `minigrad/autograd.py`: `toposort`, then `backprop`, which walks the order in
# reverse and adds the shares of tensors used twice). Print each tensor with
# the op that made it and its parents:

# %%
f = (x * y + y.exp()).tanh() * x
order = toposort([f])
names = {id(x): "x", id(y): "y"}
for i, t in enumerate(order):
    names.setdefault(id(t), f"t{i}")
for t in order:
    if t.node is None:
        print(f"{names[id(t)]:>3} = leaf {t.item():+.4f}")
    else:
        args = ", ".join(names[id(p)] for p in t.node.parents)
        print(f"{names[id(t)]:>3} = {t.node.op}({args}) = {t.item():+.4f}")

ops_in_order = [t.node.op for t in order if t.node is not None]
assert sorted(ops_in_order) == ["add", "exp", "mul", "mul", "tanh"], ops_in_order
assert order[-1] is f and {id(x), id(y)} <= {id(t) for t in order}
position = {id(t): i for i, t in enumerate(order)}
for t in order:  # the defining property of a topological order
    for p in (t.node.parents if t.node else ()):
        assert position[id(p)] < position[id(t)]

# %% [markdown]
# Each node's VJPs are the local derivatives of section 1. Call the one of the
# tanh node by hand, `vjp(g, y)` with g = 1 and y the tanh node's own output d:
# it returns 1 − d² = 1 − tanh²(c). Open
# `minigrad/ops/elementwise.py`: `tanh` sits next to its VJP
# `g * (1 - y * y)`, and `mul`, `add`, `exp` are a few lines above.

# %%
d = f.node.parents[0]
assert d.node.op == "tanh"
one = minigrad.tensor(1.0, dtype=minigrad.float64)
(tanh_share,) = [vjp(one, d) for vjp in d.node.vjps]
assert math.isclose(tanh_share.item(), 1 - d.item() ** 2, rel_tol=1e-15)
print(f"tanh node: VJP(1) = {tanh_share.item():.6f} = 1 − d²")

# %% [markdown]
# Under `minigrad.no_grad()` nothing is recorded: the output has no node, which
# is what you want for evaluation and for optimizer updates.

# %%
with minigrad.no_grad():
    plain = (x * y).tanh()
assert plain.node is None and not plain.requires_grad

# %% [markdown]
# ## 5. Why the walk is a loop
#
# A recursive topological sort (micrograd's `build_topo`) is shorter, but each
# step of the graph costs a Python stack frame. A chain of a few thousand ops
# — an RNN unrolled over a long sequence does it easily — exceeds Python's
# recursion limit. minigrad's `toposort` keeps its own stack and does not care.

# %%
def recursive_order(node, order, seen):
    if id(node) not in seen:
        seen.add(id(node))
        for p in node.parents:
            recursive_order(p, order, seen)
        order.append(node)
    return order


depth = 2 * sys.getrecursionlimit()
chain = start = Node(0.1)
for _ in range(depth):
    chain = apply("tanh", chain)
try:
    recursive_order(chain, [], set())
    raise AssertionError("expected a RecursionError")
except RecursionError:
    print(f"recursive sort of a {depth}-step chain: RecursionError")
backward(chain)  # the loop-based sort copes

steps = depth if QUICK else 20_000
t = t0 = minigrad.tensor(0.1, dtype=minigrad.float64, requires_grad=True)
for _ in range(steps):
    t = t * 0.999 + 0.001  # two ops per step; d t/d t0 = 0.999^steps
t.backward()
assert math.isclose(t0.grad.item(), 0.999 ** steps, rel_tol=1e-9)
# d chain/d start = Π (1 − tanh²) over the steps = Π (1 − value²) over the tanh nodes
assert math.isclose(start.grad, math.prod(1 - n.value ** 2 for n in topological_order(chain)[1:]),
                    rel_tol=1e-9)
print(f"minigrad backprop through {2 * steps} ops: d t/d t0 = {t0.grad.item():.6g} = 0.999^{steps}")

# %% [markdown]
# ## Exercises
#
# 1. Add `"div"` to `LOCAL_DERIVATIVES` and `FORWARD` and differentiate
#    f(x, y) = x / (1 + exp(−y)). Compare with minigrad.
# 2. Our `backward` assumes the output is the last node. What goes wrong if you
#    call it twice on the same graph? What does minigrad do (see section 3)?
# 3. Read `backprop` in `minigrad/autograd.py` and find the line that plays the
#    part of our `parent.grad += node.grad * derivative`.
# 4. Lesson 18 draws the graph of this section's `f` with `minigrad.viz`; draw
#    the 20,000-op chain of section 5 as DOT text and count its lines.


# %% [markdown]
# ## References
#
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, "Automatic Differentiation in
#   Machine Learning: a Survey", *JMLR* 18(153), 2018, <https://jmlr.org/papers/v18/17-468.html>.
# * A. Griewank, A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM, 2008 — the chain rule on a computational graph, adjoints.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 01: all checks passed")
