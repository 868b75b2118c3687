# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 18 · Drawing the graph
#
# Every lesson so far has talked about "the graph minigrad records": each op on
# tensors that need gradients gives its output a `Node` (the op's name, its
# parent tensors, one VJP per parent), and `backward()` walks those nodes from
# the output down. Lesson 01 printed that graph as text. This lesson draws it,
# as micrograd's `draw_dot` and PyTorch's torchviz do:
#
# 1. `minigrad.viz.to_dot` writes the graph as Graphviz DOT text, always;
# 2. `minigrad.viz.draw` turns it into a PNG: with Graphviz's `dot` program when
#    it is installed (`apt-get install graphviz`), and otherwise with a simple
#    layered layout drawn by matplotlib, so it works with the plain install;
# 3. a small expression, before and after `backward()`, then a small MLP with
#    its parameters named.
#
# How to read a picture: a **box** is a tensor (its name when we gave one, its
# shape and dtype, its values when it has at most four, its `.grad` once it has
# one); an **ellipse** is an op, the `Node` that made the box to its right.
# Blue boxes need a gradient, grey ones do not, and the bold blue boxes are the
# leaves that `backward()` fills: the inputs and weights we differentiate with
# respect to.
#
# Source file it opens: `minigrad/viz.py` (the walk over the nodes is the
# same explicit-stack topological sort as `toposort` in `minigrad/autograd.py`).

# %%
import math
import os
import shutil

import numpy as np

import minigrad
import minigrad.functional as F
import minigrad.viz as viz
from minigrad import nn
from _figures import output_dir, show

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
OUT = output_dir()
DOT = shutil.which("dot")
print("Graphviz dot:", "installed: viz.draw uses it" if DOT else "not installed: viz.draw lays the graph out with matplotlib")

# %% [markdown]
# ## 1. A small expression
#
# Lesson 01's function,
#
# $$f(x, y) = x \tanh(x y + e^{y}),$$
#
# with x needing a gradient and y a constant this time. Before `backward()`
# the boxes carry only values.

# %%
x = minigrad.tensor(0.5, dtype=minigrad.float64, requires_grad=True)
y = minigrad.tensor(-1.2, dtype=minigrad.float64)
f = (x * y + y.exp()).tanh() * x
names = {"x": x, "y": y}
dot_text = viz.to_dot(f, names=names)
print(dot_text)

# %% [markdown]
# What the DOT text says, checked line by line: x is used twice (fan-out: two
# edges leave its box, the two shares that `backward` will add), and there are
# four ops, not five: **`exp` is missing**. Its only input y needs no gradient,
# so minigrad did not record it at all: `y.exp()` came out as a plain grey
# constant box holding e⁻¹·² = 0.3012, exactly like a number typed in. A graph
# only ever contains the ops that lie between something needing a gradient and
# the output, which is what keeps evaluation and frozen layers cheap.

# %%
nodes, edges = viz.graph(f, names=names)
ops = sorted(n["lines"][0] for n in nodes if n["kind"] == "op")
assert ops == ["add", "mul", "mul", "tanh"], ops
(x_box,) = [n for n in nodes if n["lines"][0] == "x"]
assert sum(a == x_box["id"] for a, _ in edges) == 2, "x feeds two ops"
assert x_box["requires_grad"] and x_box["leaf"]
(exp_box,) = [n for n in nodes if n["kind"] == "tensor" and n["lines"][-1] == f"data {math.exp(-1.2):.4g}"]
assert exp_box["leaf"] and not exp_box["requires_grad"], "exp(y) was not recorded: a constant"
assert dot_text.count("->") == len(edges) == 11
assert all("grad" not in line for n in nodes for line in n["lines"][1:]), "no gradient before backward()"
show(viz.draw(f, OUT / "18_expression_before_backward.png", names=names, direction="TB"))

# %% [markdown]
# PyTorch shows the same graph from the output's end, and so does minigrad: a tensor
# an op made has a `grad_fn` (a view of its `Node`, named after the op as PyTorch
# names it: `MulBackward0`), and `grad_fn.next_functions` pairs each input with where
# its gradient goes next: the `grad_fn` of the tensor that made it, an
# `AccumulateGrad` for a leaf that wants a gradient (x: backward adds into `x.grad`
# there), or `None` for a constant (y, and the unrecorded `exp(y)`). Printing `f`
# shows its `grad_fn`, as PyTorch prints it.

# %%
print(f)
lines, stack = [], [(f.grad_fn, 0)]
while stack:  # the same walk as viz's, an explicit stack: no recursion over the graph
    fn, depth = stack.pop()
    lines.append("  " * depth + ("None" if fn is None else type(fn).__name__))
    stack += [(parent, depth + 1) for parent, _ in reversed(fn.next_functions if fn is not None else ())]
print("\n".join(lines))
assert repr(f).endswith("grad_fn=<MulBackward0>)")
assert [line.strip() for line in lines] == ["MulBackward0", "TanhBackward0", "AddBackward0", "MulBackward0",
                                            "AccumulateGrad", "None", "None", "AccumulateGrad"], lines
assert f.grad_fn.next_functions[1][0].variable is x and x.grad_fn is None and y.grad_fn is None

# %% [markdown]
# After `backward()` x's box shows its gradient, which is lesson 01's closed form
#
# $$\frac{\partial f}{\partial x} = \tanh(c) + x\,(1 - \tanh^2 c)\,y, \qquad c = x y + e^{y}.$$
#
# The intermediate boxes show none: as in PyTorch only leaves keep `.grad`
# (call `retain_grad()` on an intermediate to keep its gradient too).

# %%
f.backward()
c = 0.5 * -1.2 + math.exp(-1.2)
closed_form = math.tanh(c) + 0.5 * (1 - math.tanh(c) ** 2) * -1.2
assert math.isclose(x.grad.item(), closed_form, rel_tol=1e-12)
nodes, _ = viz.graph(f, names=names)
(x_box,) = [n for n in nodes if n["lines"][0] == "x"]
assert x_box["lines"][-1] == f"grad {closed_form:.4g}", x_box["lines"]
assert sum(line.startswith("grad") for n in nodes for line in n["lines"]) == 1
print(f"x.grad = {x.grad.item():.6f} = tanh(c) + x(1 − tanh²c)y")
show(viz.draw(f, OUT / "18_expression_graph.png", names=names, direction="TB"))

# %% [markdown]
# ## 2. A small MLP
#
# A 4-8-3 MLP with a ReLU, a cross-entropy loss on five samples. Passing
# `names=dict(model.named_parameters())` labels the weights with the names the
# `state_dict` uses (`0.weight`, `2.bias`, …). Each `nn.Linear` is
# `x @ W.T + b` (`F.linear`): a `permute` (what `W.T` records: the axes of `W` in reverse
# order, as PyTorch's `.T` does), a `matmul` and an `add`, and the
# loss is `log_softmax` written out (`logsumexp`, `sub`), the picked entries
# (`getitem`) and their mean. The graph is long, so it is drawn top to bottom
# (`direction="TB"`).

# %%
minigrad.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
inputs = minigrad.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
labels = np.array([0, 1, 2, 0, 1])
loss = F.cross_entropy(model(inputs), labels)
loss.backward()
parameters = dict(model.named_parameters())
nodes, edges = viz.graph(loss, names=parameters)
boxes = {n["lines"][0]: n for n in nodes if n["kind"] == "tensor"}
for name, p in parameters.items():
    box = boxes[name]
    assert box["leaf"] and box["requires_grad"], name
    grad_line = box["lines"][-1]
    norm = float(np.linalg.norm(p.grad.numpy()))
    values = p.grad.numpy().ravel()
    expected = (f"grad ‖g‖ = {norm:.4g}" if p.grad.numpy().size > 4
                else "grad [" + ", ".join(f"{v:.4g}" for v in values) + "]")
    assert grad_line == expected, (name, grad_line, expected)
    print(f"{name:>9}: {box['lines'][1]}, {grad_line}")
op_names = [n["lines"][0] for n in nodes if n["kind"] == "op"]
assert op_names.count("matmul") == 2 and op_names.count("relu") == 1
grey = [n["lines"][0] for n in nodes if n["kind"] == "tensor" and not n["requires_grad"]]
print("tensors that need no gradient:", grey)
assert boxes[grey[0]]["lines"][0].startswith("(5, 4)"), "the input batch needs no gradient"
show(viz.draw(loss, OUT / "18_mlp_graph.png", names=parameters, direction="TB"))

# %% [markdown]
# ## 3. What is not recorded
#
# Under `minigrad.no_grad()` no node is made, so the graph of an evaluation is
# one box: there is nothing for `backward` to walk and nothing kept alive in
# memory. The same happens when no input needs a gradient.

# %%
with minigrad.no_grad():
    evaluation = F.cross_entropy(model(inputs), labels)
nodes, edges = viz.graph(evaluation)
assert len(nodes) == 1 and not edges
print(viz.to_dot(evaluation))

# %% [markdown]
# ## 4. The two ways to draw
#
# `viz.draw(..., engine="auto")` (the default) uses `dot` when it is on PATH.
# `engine="matplotlib"` forces minigrad's own layout: each node goes in the
# column just left of the first node that uses it (the output in the last
# column), so every arrow points right, and the rows in a column are ordered by
# the mean row of their parents to avoid most crossings. `dot` does the same
# job better (it also minimises edge lengths and crossings globally), which is
# why it is used when present.

# %%
drawn = viz.draw(f, OUT / "18_expression_matplotlib.png", names=names, engine="matplotlib", direction="TB")
assert drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
show(drawn)
if DOT:
    assert viz.draw(f, OUT / "18_expression_dot.png", names=names, engine="dot").stat().st_size > 1000
    print("drew with both Graphviz's dot and matplotlib")
else:
    print("drew with matplotlib only (Graphviz's dot is not installed)")

# %% [markdown]
# ## Exercises
#
# 1. Draw the graph of `(x * x).sum()` for a vector x that requires a gradient.
#    How many edges leave x's box, and what does `backward` do with them?
# 2. Call `retain_grad()` on the hidden activation of the MLP before
#    `backward()` and draw again: which box gains a gradient?
# 3. Draw a `nn.Conv2d` followed by `nn.MaxPool2d` (lesson 08, 09): which ops
#    are kernel-backed, first-order only nodes?


# %% [markdown]
# ## References
#
# * A. G. Baydin, B. A. Pearlmutter, A. A. Radul, J. M. Siskind, "Automatic Differentiation in
#   Machine Learning: a Survey", *JMLR* 18(153), 2018, <https://jmlr.org/papers/v18/17-468.html>.
# * Graphviz, the DOT language, <https://graphviz.org/doc/info/lang.html>.
#
# Every source the lessons cite is listed in `docs/references.md`.

# %%
print("lesson 18: all checks passed")
