"""minigrad.viz: the DOT text of a known graph, line by line; the image with Graphviz's
dot and without it (PATH emptied, so the matplotlib layout draws it)."""
import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.viz as viz
from minigrad import nn

PNG = b"\x89PNG\r\n\x1a\n"


def small_graph():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor(3.0, requires_grad=True)
    y = (a * b + mg.tensor(1.0)).sum()
    return a, b, y


def expected_dot(grads):
    grad_a, grad_b = ("\\ngrad [3, 3]", "\\ngrad 3") if grads else ("", "")
    return f"""digraph minigrad {{
  rankdir=LR;
  node [fontname="Helvetica", fontsize=10];
  t0 [label="a\\n(2,) float32\\ndata [1, 2]{grad_a}", shape=box, style=filled, fillcolor="#cfe2f3", penwidth=2];
  t1 [label="b\\n() float32\\ndata 3{grad_b}", shape=box, style=filled, fillcolor="#cfe2f3", penwidth=2];
  op0 [label="mul", shape=ellipse, style=filled, fillcolor="#fff2cc"];
  t2 [label="(2,) float32\\ndata [3, 6]", shape=box, style=filled, fillcolor="#cfe2f3"];
  t3 [label="() float32\\ndata 1", shape=box, style=filled, fillcolor="#eeeeee"];
  op1 [label="add", shape=ellipse, style=filled, fillcolor="#fff2cc"];
  t4 [label="(2,) float32\\ndata [4, 7]", shape=box, style=filled, fillcolor="#cfe2f3"];
  op2 [label="sum", shape=ellipse, style=filled, fillcolor="#fff2cc"];
  t5 [label="output\\n() float32\\ndata 11", shape=box, style=filled, fillcolor="#cfe2f3"];
  t0 -> op0;
  t1 -> op0;
  op0 -> t2;
  t2 -> op1;
  t3 -> op1;
  op1 -> t4;
  t4 -> op2;
  op2 -> t5;
}}
"""


def test_dot_of_a_known_graph_before_and_after_backward():
    a, b, y = small_graph()
    assert viz.to_dot(y, names={"a": a, "b": b}) == expected_dot(grads=False)
    assert viz.to_dot(y, names={"a": a, "b": b}, direction="TB") == expected_dot(False).replace("=LR;", "=TB;")
    y.backward()  # dy/da = b = 3 per element, dy/db = Σa = 3
    assert viz.to_dot(y, names={"a": a, "b": b}) == expected_dot(grads=True)


def test_large_tensors_show_the_gradient_norm_and_names_are_escaped():
    w = mg.tensor(np.full((3, 4), 2.0), requires_grad=True)
    loss = (w * w).sum()
    loss.backward()  # grad = 2w = 4 everywhere: ‖g‖ = 4·√12
    dot = viz.to_dot(loss, names={'the "big" one': w})
    assert '"the \\"big\\" one\\n(3, 4) float64\\ngrad ‖g‖ = 13.86"' in dot
    assert "data" not in dot.split("\n")[3]  # twelve values are not printed


def test_an_mlp_graph_names_its_parameters():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = F.cross_entropy(model(mg.tensor(np.ones((5, 4), np.float32))), np.array([0, 1, 2, 0, 1]))
    loss.backward()
    nodes, edges = viz.graph(loss, names=dict(model.named_parameters()))
    labels = {n["lines"][0]: n for n in nodes if n["kind"] == "tensor"}
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert labels[name]["leaf"] and labels[name]["requires_grad"]
        assert labels[name]["lines"][-1].startswith("grad")
    assert {n["lines"][0] for n in nodes if n["kind"] == "op"} >= {"matmul", "relu", "add"}
    ids = {n["id"] for n in nodes}
    assert all(a in ids and b in ids for a, b in edges)


def test_a_deep_chain_is_walked_without_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = viz.graph(y)
    assert len(nodes) == 1 + 2 * 5000 + 5000  # x, each op and its output, each constant 1.0
    assert len(edges) == 3 * 5000


def test_layout_points_every_edge_right():
    _, _, y = small_graph()
    nodes, edges = viz.graph(y)
    column, _ = viz._layers(nodes, edges)
    assert all(column[a] < column[b] for a, b in edges)
    assert column["t5"] == max(column.values()) and min(column.values()) == 0


def test_not_a_tensor_is_refused():
    with pytest.raises(TypeError, match="viz.graph: expected the Tensor"):
        viz.to_dot(np.ones(3))
    _, _, y = small_graph()
    with pytest.raises(ValueError, match="engine must be"):
        viz.draw(y, "unused.png", engine="svg")
    with pytest.raises(ValueError, match="direction must be 'LR'"):
        viz.to_dot(y, direction="RL")


def check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 3000, f"{path}: {len(data)} bytes, starts {data[:8]!r}"
    assert path.stat().st_mode & 0o044 == 0o044, "the PNG should be readable by group and others, as savefig's are"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "a temporary file was left behind"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)")
def test_image_with_graphviz(tmp_path):
    a, b, y = small_graph()
    y.backward()
    check_png(viz.draw(y, tmp_path / "graph.png", names={"a": a, "b": b}, engine="dot"))


def test_image_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no dot anywhere
    a, b, y = small_graph()
    y.backward()
    out = tmp_path / "figures"
    check_png(viz.draw(y, out / "graph.png", names={"a": a, "b": b}))  # auto falls back to matplotlib
    tall = viz.draw(y, tmp_path / "tall" / "graph.png", direction="TB")
    check_png(tall)
    import matplotlib.image

    height, width = matplotlib.image.imread(tall).shape[:2]
    assert height > width, "top to bottom: a chain of 3 ops is taller than wide"
    with pytest.raises(RuntimeError, match="Graphviz's dot is not on PATH"):
        viz.draw(y, out / "other.png", engine="dot")
    assert not (out / "other.png").exists()
