"""Draw the graph minigrad recorded: the tensors, the ops (``Node``) that made them, and
after ``backward()`` the gradients, for learners (micrograd's ``draw_dot``, DeZero's
``plot_dot_graph`` and torchviz's ``make_dot`` do the same for theirs).

    import minigrad.viz as viz
    y = model(x); loss = F.cross_entropy(y, labels); loss.backward()
    print(viz.to_dot(loss, names=dict(model.named_parameters())))  # Graphviz DOT text
    viz.draw(loss, "graph.png", names=dict(model.named_parameters()))

A box is a tensor: its name (when ``names`` gives one), shape and dtype, its values when
it has at most four, and its ``.grad`` once there is one (PyTorch's rule: leaves get
``.grad``; an intermediate only if ``retain_grad()`` was called). Blue boxes need a
gradient, grey ones do not; bold blue boxes are the leaves that will receive one (the
weights). An ellipse is an op: the ``Node`` that made the tensor to its right.

``to_dot`` always works. ``draw`` renders that DOT text with Graphviz's ``dot`` when it is
installed (a system package: ``apt-get install graphviz``), and otherwise lays out the same
graph itself in layers and draws it with matplotlib, so it works with the plain install.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from minigrad import backend
from minigrad.autograd import toposort
from minigrad.checkpoint import write_atomically
from minigrad.history import save_figure
from minigrad.tensor import Tensor

# fill colours: needs a gradient / does not / op
_GRAD, _NO_GRAD, _OP = "#cfe2f3", "#eeeeee", "#fff2cc"


def _values(array):
    """Up to four values as a short list, else None."""
    array = backend.to_numpy(array)
    if array.size > 4:
        return None
    return "[" + ", ".join(f"{v:.4g}" for v in np.ravel(array)) + "]" if array.ndim else f"{array.item():.4g}"


def _tensor_label(t, name):
    shape = "(" + ", ".join(str(n) for n in t.shape) + ("," if len(t.shape) == 1 else "") + ")"
    lines = [name] if name else []
    lines.append(f"{shape} {t.dtype.name}")
    values = _values(t.array)
    if values is not None:
        lines.append(f"data {values}")
    if t.grad is not None:
        g = t.grad.array
        shown = _values(g)
        lines.append(f"grad {shown}" if shown is not None else f"grad ‖g‖ = {float(np.linalg.norm(backend.to_numpy(g))):.4g}")
    return lines


def graph(output, names=None):
    """The recorded graph behind ``output`` as ``(nodes, edges)``.

    ``nodes`` is a list of dicts in topological order (inputs first): ``id`` (``t0``,
    ``op0``, …), ``kind`` (``"tensor"`` or ``"op"``), ``lines`` (the label), and for
    tensors ``requires_grad`` and ``leaf``. ``edges`` is a list of ``(from_id, to_id)``:
    parent tensor → op → the tensor it made. Every parent is followed, also those that need
    no gradient, so the picture shows all the inputs. ``names`` maps names to tensors (e.g.
    ``dict(model.named_parameters())``); the output is labelled ``output`` unless named.
    The walk is ``autograd.toposort``'s explicit stack: deep graphs are fine.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"viz.graph: expected the Tensor whose graph to draw, got {type(output).__name__}")
    label = {id(t): n for n, t in (names or {}).items()}
    label.setdefault(id(output), "output")
    order = toposort([output], needing_grad=False)
    tensor_id = {id(t): f"t{i}" for i, t in enumerate(order)}
    nodes, edges, ops = [], [], 0
    for t in order:
        if t.node is not None:
            op = f"op{ops}"
            ops += 1
            nodes.append({"id": op, "kind": "op", "lines": [t.node.op]})
            edges += [(tensor_id[id(p)], op) for p in t.node.inputs()]
            edges.append((op, tensor_id[id(t)]))
        nodes.append({"id": tensor_id[id(t)], "kind": "tensor", "lines": _tensor_label(t, label.get(id(t))),
                      "requires_grad": t.requires_grad, "leaf": t.node is None})
    return nodes, edges


def _quote(lines):
    """A DOT string: backslashes and quotes escaped, lines joined by DOT's \\n."""
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def _check_direction(direction, what):
    if direction not in ("LR", "TB"):
        raise ValueError(f"viz.{what}: direction must be 'LR' (inputs left, output right) or 'TB' "
                         f"(inputs on top), got {direction!r}")


def to_dot(output, names=None, direction="LR"):
    """Graphviz DOT text of the graph behind ``output`` (see ``graph``): inputs on the left
    (``direction="LR"``) or on top (``"TB"``, narrower for long graphs)."""
    _check_direction(direction, "to_dot")
    nodes, edges = graph(output, names)
    out = ["digraph minigrad {", f"  rankdir={direction};", '  node [fontname="Helvetica", fontsize=10];']
    for n in nodes:
        label = _quote(n["lines"])
        if n["kind"] == "op":
            out.append(f'  {n["id"]} [label={label}, shape=ellipse, style=filled, fillcolor="{_OP}"];')
        else:
            fill = _GRAD if n["requires_grad"] else _NO_GRAD
            width = ", penwidth=2" if n["requires_grad"] and n["leaf"] else ""
            out.append(f'  {n["id"]} [label={label}, shape=box, style=filled, fillcolor="{fill}"{width}];')
    out += [f"  {a} -> {b};" for a, b in edges]
    out.append("}")
    return "\n".join(out) + "\n"


def _layers(nodes, edges):
    """Column of each node, placed as late as it can be: the output in the last column and
    everything else one column left of the first node that uses it. Every edge points
    right, and an input (a weight used late, say) sits beside its op instead of crossing
    the picture from column 0."""
    parents = {n["id"]: [] for n in nodes}
    children = {n["id"]: [] for n in nodes}
    for a, b in edges:
        parents[b].append(a)
        children[a].append(b)
    column = {}
    for n in reversed(nodes):  # reverse topological order: users come first
        column[n["id"]] = min((column[c] for c in children[n["id"]]), default=1) - 1
    first = min(column.values())
    return {k: c - first for k, c in column.items()}, parents


def _draw_matplotlib(nodes, edges, path, dpi, direction):
    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    column, parents = _layers(nodes, edges)
    by_column = {}
    for n in nodes:
        by_column.setdefault(column[n["id"]], []).append(n)
    row = {}
    for c in sorted(by_column):
        # barycentre heuristic: sit each node near the mean row of its parents, which
        # removes most crossings in graphs this size
        members = by_column[c]
        members.sort(key=lambda n: np.mean([row[p] for p in parents[n["id"]]]) if parents[n["id"]] else 0.0)
        for i, n in enumerate(members):
            row[n["id"]] = i - (len(members) - 1) / 2
    columns, rows = max(column.values()) + 1, max(len(m) for m in by_column.values())
    if direction == "LR":  # columns run left to right, rows top to bottom
        size = (max(4.0, 2.3 * columns), max(2.0, 1.3 * rows))
        where = {n["id"]: (column[n["id"]] * 2.3, -row[n["id"]] * 1.3) for n in nodes}
    else:  # columns run top to bottom, rows left to right
        size = (max(4.0, 2.6 * rows), max(2.0, 1.0 * columns))
        where = {n["id"]: (row[n["id"]] * 2.6, -column[n["id"]] * 1.0) for n in nodes}
    figure, ax = plt.subplots(figsize=size)
    for n in nodes:
        if n["kind"] == "op":
            box = dict(boxstyle="round,pad=0.4,rounding_size=0.8", facecolor=_OP, edgecolor="black")
        else:
            box = dict(boxstyle="square,pad=0.4", facecolor=_GRAD if n["requires_grad"] else _NO_GRAD,
                       edgecolor="black", linewidth=2 if n["requires_grad"] and n["leaf"] else 1)
        ax.text(*where[n["id"]], "\n".join(n["lines"]), ha="center", va="center", fontsize=8, bbox=box, zorder=2)
    # stop the arrows short of the boxes' centres: about half a box wide (LR) or tall (TB), in points
    shrink = 28 if direction == "LR" else 13
    for a, b in edges:
        ax.annotate("", xy=where[b], xytext=where[a], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color="0.3", shrinkA=shrink, shrinkB=shrink))
    xs, ys = zip(*where.values())
    ax.set_xlim(min(xs) - 1.3, max(xs) + 1.3)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    save_figure(figure, path, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(figure)


def draw(output, path, names=None, engine="auto", dpi=100, direction="LR"):
    """Write a PNG of the graph behind ``output`` to ``path`` and return the path.

    ``engine``: ``"dot"`` (Graphviz; an error naming the missing program if it is not
    installed), ``"matplotlib"`` (a layered layout drawn by minigrad), or ``"auto"``: dot
    when it is on PATH, matplotlib otherwise. ``direction`` as for ``to_dot``. The file
    is written atomically.
    """
    _check_direction(direction, "draw")
    if engine not in ("auto", "dot", "matplotlib"):
        raise ValueError(f"viz.draw: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    dot = shutil.which("dot")
    if engine == "dot" and dot is None:
        raise RuntimeError("viz.draw(engine='dot'): Graphviz's dot is not on PATH (apt-get install graphviz); "
                           "engine='matplotlib' or 'auto' draws without it")
    path = Path(path)
    if dot is not None and engine != "matplotlib":
        run = subprocess.run([dot, "-Tpng", f"-Gdpi={dpi}"], input=to_dot(output, names, direction).encode(),
                             capture_output=True, timeout=60)
        if run.returncode != 0:
            raise RuntimeError(f"viz.draw: {dot} exited with {run.returncode}: {run.stderr.decode().strip()}")
        write_atomically(path, run.stdout)
    else:
        _draw_matplotlib(*graph(output, names), path, dpi, direction)  # save_figure: atomic too
    return path
