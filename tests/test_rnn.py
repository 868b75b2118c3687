"""nn.RNN/LSTM/GRU and their cells: torch's state_dict loads, and outputs, final states and
every gradient equal torch's; the cells gradcheck in float64; init, dropout and errors as torch."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, name, *args, **kwargs):
    """The same layer in torch (float64) and in minigrad, minigrad holding torch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, dtype=np.float64, **kwargs)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def _flat(out):
    """The tensors in a layer's result (output, h_n or (h_n, c_n)), in order."""
    if isinstance(out, tuple):
        return [t for part in out for t in _flat(part)]
    return [out]


@pytest.mark.parametrize("name, config", [(name, config) for name in ["RNN", "LSTM", "GRU"] for config in [
    dict(),
    dict(num_layers=2, batch_first=True),
    dict(bidirectional=True, bias=False),
    dict(num_layers=2, bidirectional=True, batch_first=True, initial_state=True),
    dict(unbatched=True, num_layers=2, initial_state=True),
    dict(dropout=0.3, num_layers=2),  # eval mode below: no dropout, so the same as torch's eval
]] + [("RNN", dict(nonlinearity="relu", num_layers=2))])
def test_recurrent_layers_match_torch(name, config):
    torch = _torch()
    config = dict(config)
    unbatched, initial = config.pop("unbatched", False), config.pop("initial_state", False)
    ours, theirs = _pair(torch, name, 3, 4, **config)
    ours.eval(), theirs.eval()
    rng = np.random.default_rng(0)
    length, batch = 5, 2
    shape = (length, 3) if unbatched else (batch, length, 3) if config.get("batch_first") else (length, batch, 3)
    x = rng.standard_normal(shape)
    directions = 2 if config.get("bidirectional") else 1
    state_shape = (directions * config.get("num_layers", 1),) + (() if unbatched else (batch,)) + (4,)
    states = [rng.standard_normal(state_shape) for _ in range(2 if name == "LSTM" else 1)] if initial else []
    xs_m = [mg.tensor(a, requires_grad=True) for a in [x] + states]
    xs_t = [torch.tensor(a, requires_grad=True) for a in [x] + states]
    hx_m = None if not initial else tuple(xs_m[1:]) if name == "LSTM" else xs_m[1]
    hx_t = None if not initial else tuple(xs_t[1:]) if name == "LSTM" else xs_t[1]
    outs_m, outs_t = _flat(ours(xs_m[0], hx_m)), _flat(theirs(xs_t[0], hx_t))
    seeds = [rng.standard_normal(t.shape) for t in outs_t]
    for om, ot in zip(outs_m, outs_t):
        assert om.shape == tuple(ot.shape)
        _same(om, ot)
    sum((o * mg.tensor(s)).sum() for o, s in zip(outs_m, seeds)).backward()
    sum((o * torch.tensor(s)).sum() for o, s in zip(outs_t, seeds)).backward()
    for a, b in zip(xs_m, xs_t):
        _same(a.grad, b.grad)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _same(p.grad, q.grad)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch_step_by_step(name):
    torch = _torch()
    ours, theirs = _pair(torch, name, 3, 4)
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((6, 2, 3))
    h_m = h_t = None
    for x in xs:  # the state carried across steps, compared at every one
        h_m, h_t = ours(mg.tensor(x), h_m), theirs(torch.tensor(x), h_t)
        for a, b in zip(_flat(h_m), _flat(h_t)):
            _same(a, b)
    _flat(h_m)[0].sum().backward()
    _flat(h_t)[0].sum().backward()
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _same(p.grad, q.grad)
    unbatched = ours(mg.tensor(xs[0, 0]))  # one example, no batch dim
    for a, b in zip(_flat(unbatched), _flat(theirs(torch.tensor(xs[0, 0])))):
        assert a.shape == (4,)
        _same(a, b)


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]), batch=st.integers(1, 3),
       inputs=st.integers(1, 3), hidden=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_cells_gradcheck(name, batch, inputs, hidden, seed):
    mg.manual_seed(seed)
    cell = getattr(nn, name)(inputs, hidden, dtype=np.float64)
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((batch, inputs)), requires_grad=True)
    h = mg.tensor(rng.standard_normal((batch, hidden)), requires_grad=True)
    c = mg.tensor(rng.standard_normal((batch, hidden)), requires_grad=True)
    names = [k for k, _ in cell.named_parameters()]
    weights = [mg.tensor(p.numpy().copy(), requires_grad=True) for p in cell.parameters()]

    def run(x, h, c, *ws):
        cell._parameters.update(zip(names, ws))  # the cell reads gradcheck's float64 copies
        out = cell(x, (h, c)) if name == "LSTMCell" else cell(x, h)
        return mg.stack(out) if name == "LSTMCell" else out
    assert mg.gradcheck(run, [x, h, c] + weights)


def test_init_is_uniform_within_one_over_sqrt_hidden():
    mg.manual_seed(0)
    layer = nn.LSTM(10, 16, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.01 and abs(values.std() - bound / np.sqrt(3)) < 0.01  # U(−b, b)
    assert [k for k, _ in layer.named_parameters()][:5] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"]
    assert layer.weight_ih_l1.shape == (64, 32)  # the second layer reads both directions


def test_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    layer = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = mg.randn(4, 2, 3)
    first, second = layer(x)[0].numpy(), layer(x)[0].numpy()
    assert not np.allclose(first, second)  # a fresh mask each call
    layer.eval()
    assert np.array_equal(layer(x)[0].numpy(), layer(x)[0].numpy())
    with pytest.warns(UserWarning, match="dropout=0.5 applies between layers"):
        nn.LSTM(3, 4, dropout=0.5)


def test_recurrent_errors_name_the_problem():
    layer = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        layer(mg.randn(2, 1, 5))
    with pytest.raises(RuntimeError, match="expected h_0 of shape \\(2, 1, 4\\), got \\(1, 1, 4\\)"):
        layer(mg.randn(2, 1, 3), (mg.zeros(1, 1, 4), mg.zeros(2, 1, 4)))
    with pytest.raises(TypeError, match="hx must be a pair"):
        layer(mg.randn(2, 1, 3), mg.zeros(2, 1, 4))
    with pytest.raises(NotImplementedError, match="proj_size=2"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
