"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step ``*Cell``s, as PyTorch's.

Every layer is made of existing ops (``linear``, ``sigmoid``, ``tanh``, ``chunk``,
``stack``), so backward is backpropagation through time with nothing new to derive.
The equations are PyTorch's documented ones, gates in PyTorch's order so that a torch
``state_dict`` loads as it is (W_ih: (gates·H, input), W_hh: (gates·H, H)):

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)                (or relu)
    LSTM  i, f, g, o = σ, σ, tanh, σ of the four blocks of W_ih x + b_ih + W_hh h + b_hh
          c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')               (Hochreiter & Schmidhuber 1997,
                                                                  with the forget gate of Gers et al. 2000)
    GRU   r, z = σ of the first two blocks of W_ih x + b_ih + W_hh h + b_hh
          n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
          h' = (1 − z) ⊙ n + z ⊙ h                               (Cho et al. 2014)

The input projection W_ih x + b_ih of a whole sequence is one matrix product before the
time loop; only the W_hh h part has to wait for the previous step.
Every weight and bias starts U(−1/√H, 1/√H), as in PyTorch.
"""
import math
import warnings

import numpy as np

from minigrad import functional as F
from minigrad import ops
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter, factory_dtype
from minigrad.tensor import Tensor

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _step(mode, x_proj, h, c, w_hh, b_hh, nonlinearity="tanh"):
    """One time step from ``x_proj`` = W_ih x + b_ih (N, gates·H) and the state (h, c);
    returns the new (h, c) (c is None except for the LSTM)."""
    h_proj = F.linear(h, w_hh, b_hh)
    if mode == "RNN":
        pre = x_proj + h_proj
        return (ops.tanh(pre) if nonlinearity == "tanh" else ops.relu(pre)), None
    if mode == "LSTM":
        i, f, g, o = (x_proj + h_proj).chunk(4, -1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        return ops.sigmoid(o) * ops.tanh(c), c
    x_r, x_z, x_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = h_proj.chunk(3, -1)
    r, z = ops.sigmoid(x_r + h_r), ops.sigmoid(x_z + h_z)
    n = ops.tanh(x_n + r * h_n)  # the reset gate scales W_hn h + b_hn, as PyTorch (and cuDNN) do
    return (1 - z) * n + z * h, None


def _check_sizes(name, input_size, hidden_size, nonlinearity):
    for what, n in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"{name}: {what} must be a positive int, got {n!r}")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{name}: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")


def _uniform_init(module):
    """PyTorch's init for recurrent layers: every parameter U(−1/√H, 1/√H)."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound, module.generator)


class _RNNBase(Module):
    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, nonlinearity="tanh", proj_size=0, device=None, dtype=None, generator=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size, nonlinearity)
        if not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        F._refuse(name, "proj_size", proj_size, 0)
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} applies between layers, so it does nothing with "
                          f"num_layers=1", UserWarning, stacklevel=2)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.nonlinearity, self.proj_size = bidirectional, nonlinearity, proj_size
        self.generator = generator
        rows = GATES[self.mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:  # torch's names and registration order
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(np.empty((rows, fan_in), dtype=dtype)))
                setattr(self, f"weight_hh_l{layer}{suffix}", Parameter(np.empty((rows, hidden_size), dtype=dtype)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(np.empty(rows, dtype=dtype)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(np.empty(rows, dtype=dtype)))
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        _uniform_init(self)

    def flatten_parameters(self):
        """Kept for torch programs that call it (it packs weights for cuDNN); nothing to do here."""

    def _weights(self, layer, direction):
        """(W_ih, W_hh, b_ih, b_hh) of one layer and direction (biases None without ``bias``)."""
        suffix = "_reverse" if direction else ""
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}") if self.bias or kind.startswith("weight") else None
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def forward(self, input, hx=None):
        """input: (L, N, input_size), or (N, L, input_size) with ``batch_first``, or (L, input_size)
        unbatched. hx: (D·num_layers, N, H) (for the LSTM a pair (h_0, c_0)), zeros if None.
        Returns output (L, N, D·H) (batch first if asked) and h_n (for the LSTM (h_n, c_n)),
        D = 2 if bidirectional else 1."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__} "
                            f"(packed sequences are not supported)")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of 2 (unbatched) or 3 dimensions, got shape {input.shape}")
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:  # torch refuses to mix them (its ValueError), rather than promote
            raise ValueError(f"{name} input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                             f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        batched = input.ndim == 3
        x = input if not batched else input.transpose(0, 1) if self.batch_first else input
        x = x if batched else x.unsqueeze(1)  # time first from here on: (L, N, features)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        directions = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * directions, x.shape[1], self.hidden_size)
        h0, c0 = self._initial_state(hx, x, state_shape, batched)
        final_h, final_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, direction)
                x_proj = F.linear(x, w_ih, b_ih)  # the whole sequence in one product
                k = layer * directions + direction
                h, c = h0[k], None if c0 is None else c0[k]
                steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
                seen = [None] * x.shape[0]
                for t in steps:
                    h, c = _step(self.mode, x_proj[t], h, c, w_hh, b_hh, self.nonlinearity)
                    seen[t] = h
                outputs.append(ops.stack(seen))
                final_h.append(h)
                final_c.append(c)
            x = outputs[0] if directions == 1 else ops.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True, generator=self.generator)
        h_n = ops.stack(final_h)
        c_n = ops.stack(final_c) if self.mode == "LSTM" else None
        if not batched:
            x, h_n, c_n = x.squeeze(1), h_n.squeeze(1), None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _initial_state(self, hx, x, shape, batched):
        """(h_0, c_0) as (D·num_layers, N, H) tensors (c_0 None but for the LSTM)."""
        name = type(self).__name__
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, (zeros if self.mode == "LSTM" else None)
        states = hx if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError(f"{name}: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
        checked = []
        for what, s in zip(("h_0", "c_0"), states):
            s = s if batched else s.unsqueeze(1)
            _same_dtype(name, what, s, x)
            if s.shape != shape:
                raise RuntimeError(f"{name}: expected {what} of shape {shape if batched else shape[::2]}, "
                                   f"got {tuple(s.shape) if batched else tuple(s.shape[::2])}")
            checked.append(s)
        return checked[0], (checked[1] if self.mode == "LSTM" else None)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"  # torch's RNN does not show its nonlinearity
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0),
                             ("bidirectional", False)):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text


class RNN(_RNNBase):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh) (``nonlinearity='relu'``: relu),
    stacked ``num_layers`` deep, optionally bidirectional; see ``_RNNBase.forward`` for shapes."""
    mode = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         nonlinearity=nonlinearity, device=device, dtype=dtype, generator=generator)


class LSTM(_RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's gate order i, f, g, o;
    returns output, (h_n, c_n)."""
    mode = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size=proj_size, device=device, dtype=dtype, generator=generator)


class GRU(_RNNBase):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's gate order r, z, n."""
    mode = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype, generator=generator)


class _CellBase(Module):
    mode = None

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None,
                 generator=None):
        super().__init__()
        dtype = factory_dtype(dtype)
        _check_sizes(type(self).__name__, input_size, hidden_size, nonlinearity)
        self.input_size, self.hidden_size, self.bias, self.nonlinearity = input_size, hidden_size, bias, nonlinearity
        self.generator = generator
        rows = GATES[self.mode] * hidden_size
        self.weight_ih = Parameter(np.empty((rows, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, hidden_size), dtype=dtype))
        self.bias_ih = Parameter(np.empty(rows, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(np.empty(rows, dtype=dtype)) if bias else None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self):
        _uniform_init(self)

    def forward(self, input, hx=None):
        """input: (N, input_size) or (input_size,); hx: (N, H) or (H,) (for the LSTMCell a pair
        (h, c)), zeros if None. Returns h' (for the LSTMCell (h', c')), shaped as hx."""
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {input.shape}")
        _same_dtype(name, "input", input, self.weight_ih)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            h = c = x.new_zeros(shape)
        else:
            h, c = hx if self.mode == "LSTM" else (hx, None)
            h, c = (h, c) if batched else (h.unsqueeze(0), None if c is None else c.unsqueeze(0))
            for what, s in (("hx", h), ("cx", c)):
                if s is not None:
                    _same_dtype(name, what, s, self.weight_ih)
                if s is not None and s.shape != shape:
                    raise RuntimeError(f"{name}: expected {what} of shape {shape if batched else shape[1:]}, "
                                       f"got {s.shape if batched else s.shape[1:]}")
        h, c = _step(self.mode, F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh,
                     self.nonlinearity)
        if not batched:
            h, c = h.squeeze(0), None if c is None else c.squeeze(0)
        return (h, c) if self.mode == "LSTM" else h

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(_CellBase):
    """One step of ``RNN``: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""
    mode = "RNN"


class LSTMCell(_CellBase):
    """One step of ``LSTM``: (h', c') from x and (h, c)."""
    mode = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype, generator=generator)


class GRUCell(_CellBase):
    """One step of ``GRU``: h' from x and h."""
    mode = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype, generator=generator)


def _same_dtype(name, what, tensor, like):
    """torch multiplies a state by the weights without promoting: a float64 state with
    float32 weights is its RuntimeError, not a silent float64 result."""
    if tensor.dtype != like.dtype:
        raise RuntimeError(f"{name}: {what} has dtype {tensor.dtype} but the weights are {like.dtype}; "
                           f"convert one of them (tensor.to(dtype) or module.to(dtype))")
