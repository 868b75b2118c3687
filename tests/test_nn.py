"""Modules: registration, names, modes, state dicts (also to and from PyTorch), moves."""
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def mlp():
    mg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def test_parameter_names_follow_pytorch():
    assert [n for n, _ in mlp().named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    named = nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc1.weight", "fc1.bias"]
    assert named.names() == ["fc1", "act"] and isinstance(named["act"], nn.Tanh)
    assert named[:1].names() == ["fc1"]


def test_linear_shapes_and_default_init_bound():
    layer = nn.Linear(100, 7)
    assert layer.weight.shape == (7, 100) and layer.bias.shape == (7,)
    assert np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(100)  # U(−1/√fan_in, 1/√fan_in)
    assert layer(mg.tensor(np.ones((5, 100), dtype=np.float32))).shape == (5, 7)


def test_manual_seed_makes_init_repeatable():
    a, b = mlp().state_dict(), mlp().state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_train_eval_switches_dropout():
    model = mlp()
    x = mg.tensor(np.ones((2, 4), dtype=np.float32))
    model.eval()
    assert not model[2].training
    assert np.array_equal(model(x).numpy(), model(x).numpy())


def test_state_dict_round_trip_and_errors():
    a, b = mlp(), nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    b.load_state_dict(a.state_dict())
    assert all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.parameters(), b.parameters()))
    state = a.state_dict()
    state["extra"] = np.zeros(1)
    del state["0.bias"]
    state["3.weight"] = np.zeros((2, 2))
    with pytest.raises(RuntimeError) as info:  # PyTorch's exception
        b.load_state_dict(state)
    message = str(info.value)
    assert "missing keys ['0.bias']" in message and "unexpected keys ['extra']" in message
    assert "3.weight: expected (3, 8), got (2, 2)" in message


def test_zero_grad_double_and_repr():
    model = mlp()
    model(mg.tensor(np.ones((2, 4), dtype=np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    weight = model[0].weight
    model.double()
    assert model[0].weight is weight and weight.dtype == np.float64  # same Parameter, new dtype
    assert "(0): Linear(in_features=4, out_features=8, bias=True)" in repr(model)


def test_buffers_are_saved_but_not_trained():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
            self.register_buffer("seen", mg.tensor(np.zeros(1, dtype=np.int64)))
    m = Counter()
    m.seen = mg.tensor(np.array([5]))
    assert list(m.state_dict()) == ["scale", "seen"] and m.state_dict()["seen"][0] == 5
    assert [n for n, _ in m.named_parameters()] == ["scale"]


def test_weights_move_to_and_from_pytorch():
    torch = pytest.importorskip("torch")
    ours = mlp()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    assert np.allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), atol=1e-6)
    ours2 = mlp().eval()
    ours2.load_state_dict(theirs.state_dict())
    assert np.allclose(ours2(mg.tensor(x)).numpy(), ours(mg.tensor(x)).numpy())


def test_mlp_learns_xor():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    x = mg.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([0, 1, 1, 0])
    for _ in range(300):
        model.zero_grad()
        loss = mg.functional.cross_entropy(model(x), y)
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.array -= 0.5 * p.grad.array
    assert loss.item() < 0.05
    assert (model(x).numpy().argmax(1) == y).all()
