"""Losses and functional layers against their formulas (and PyTorch where installed)."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def test_cross_entropy_matches_formula_and_gradchecks():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    expected = -np.log(p[np.arange(5), labels])
    x = mg.tensor(logits, requires_grad=True)
    assert np.isclose(F.cross_entropy(x, labels).item(), expected.mean())
    assert np.isclose(F.cross_entropy(x, labels, reduction="sum").item(), expected.sum())
    assert np.allclose(F.cross_entropy(x, labels, reduction="none").numpy(), expected)
    F.cross_entropy(x, labels).backward()
    onehot = np.eye(4)[labels]
    assert np.allclose(x.grad.numpy(), (p - onehot) / 5)  # the softmax-CE gradient (p − y)/N
    assert mg.gradcheck(lambda t: F.cross_entropy(t, labels), [x])


def test_cross_entropy_is_stable_for_huge_logits():
    x = mg.tensor(np.array([[1e4, 0.0], [0.0, 1e4]]))
    assert F.cross_entropy(x, np.array([0, 0])).item() == pytest.approx(5e3)


def test_cross_entropy_errors():
    x = mg.tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"labels of shape minigrad.Size\(\[3\]\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        F.cross_entropy(x, np.array([0, 1, 4]))
    with pytest.raises(RuntimeError, match="integers"):  # torch: "expected target dtype to be Long"
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="needs labels of shape"):  # (N, 1): torch's multi-target error
        F.cross_entropy(x, np.zeros((3, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, np.array([0, 1, 2]), reduction="avg")


def test_regression_losses():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x = mg.tensor(a, requires_grad=True)
    assert np.isclose(F.mse_loss(x, b).item(), ((a - b) ** 2).mean())
    assert np.isclose(F.euclidean_loss(x, b).item(), ((a - b) ** 2).sum() / (2 * 4))
    assert mg.gradcheck(lambda t: F.euclidean_loss(t, b), [x])
    with pytest.raises(ValueError, match=r"mse_loss: input of shape minigrad.Size\(\[4, 3\]\) and target of shape minigrad.Size\(\[3\]\)"):
        F.mse_loss(x, b[0])


def test_binary_cross_entropy():
    p = np.array([0.2, 0.9, 0.5])
    y = np.array([0.0, 1.0, 1.0])
    x = mg.tensor(p, requires_grad=True)
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert np.isclose(F.binary_cross_entropy(x, y).item(), expected)
    assert mg.gradcheck(lambda t: F.binary_cross_entropy(t, y), [x])
    assert F.binary_cross_entropy(mg.tensor([0.0]), mg.tensor([1.0])).item() == pytest.approx(100.0)
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))


def test_linear_and_dropout():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    y = F.linear(mg.tensor(x), mg.tensor(w), mg.tensor(b))
    assert np.allclose(y.numpy(), x @ w.T + b)
    with pytest.raises(ValueError, match="linear"):
        F.linear(mg.tensor(x), mg.tensor(w.T))
    ones = mg.tensor(np.ones((200, 50)))
    dropped = F.dropout(ones, 0.3, training=True, generator=np.random.default_rng(0)).numpy()
    assert set(np.unique(dropped)) <= {0.0, 1 / 0.7}
    assert abs((dropped == 0).mean() - 0.3) < 0.02      # drop rate p
    assert abs(dropped.mean() - 1.0) < 0.03             # expectation kept by the 1/(1−p) scale
    assert F.dropout(ones, 0.3, training=False) is ones


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(6, 5)), rng.integers(0, 5, 6)
    x = mg.tensor(logits, requires_grad=True)
    F.cross_entropy(x, labels).backward()
    tx = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(labels)).backward()
    assert np.allclose(x.grad.numpy(), tx.grad.numpy())
    p, y = rng.uniform(0.05, 0.95, 7), rng.integers(0, 2, 7).astype(float)
    assert np.isclose(F.binary_cross_entropy(mg.tensor(p), y).item(),
                      torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item())
