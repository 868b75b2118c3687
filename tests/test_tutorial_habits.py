"""Habits of PyTorch's own tutorial and example programs that minigrad must share: device
questions (torch.backends.mps, torch.xpu, torch.backends.cudnn, torch.cuda.manual_seed),
layer constructors called with torch's positional (device, dtype), Dropout2d on (N, C),
a one-hot target by scatter_ with a 0-d index, the schedules StepLR's siblings
(ExponentialLR, MultiStepLR, LambdaLR) and torch's constants — compared with torch where
it is installed (those tests skip without it)."""
import inspect
import json
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def _torch():
    return pytest.importorskip("torch")


# ---- device questions asked before choosing a device ------------------------------------

def test_device_questions_answer_as_torch_does_without_those_devices():
    torch = _torch()
    import minigrad.backends.cudnn as cudnn  # the import form scripts use
    assert mg.backends.mps.is_available() is False and mg.backends.mps.is_built() is False
    assert mg.xpu.is_available() is False and mg.xpu.device_count() == 0
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.benchmark, cudnn.deterministic = True, True  # scripts set them; accepted
    # on a machine where torch has none of these devices, both say the same
    if not torch.backends.mps.is_available():
        assert mg.backends.mps.is_available() == torch.backends.mps.is_available()
    if not torch.xpu.is_available():
        assert mg.xpu.is_available() == torch.xpu.is_available()


def test_cuda_manual_seed_checks_as_torch_and_leaves_the_default_stream_alone():
    torch = _torch()
    mg.manual_seed(5)
    first = mg.randn(3).numpy()
    mg.manual_seed(5)
    mg.cuda.manual_seed(123)  # no separate GPU generator: the default stream goes on unchanged
    mg.cuda.manual_seed_all(7)
    np.testing.assert_array_equal(mg.randn(3).numpy(), first)
    for bad in ("a", None):
        with pytest.raises(type(_raised(lambda: torch.cuda.manual_seed(bad)))):
            mg.cuda.manual_seed(bad)
    mg.cuda.empty_cache()


def _raised(fn):
    try:
        fn()
    except Exception as error:  # the exception torch raises, to compare classes
        return error
    raise AssertionError("torch accepted it")


def test_constants_and_numel_as_torch():
    torch = _torch()
    for name in ("pi", "e", "inf"):
        assert getattr(mg, name) == getattr(torch, name)
    assert math.isnan(mg.nan) and math.isnan(torch.nan)
    assert mg.numel(mg.ones(2, 3)) == torch.numel(torch.ones(2, 3)) == 6
    assert "pi" not in mg.__all__ and "e" not in mg.__all__


# ---- layers: torch's positional (device, dtype) ------------------------------------------

_LAYERS = ["Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d",
           "RNNCell", "LSTMCell", "GRUCell"]


@pytest.mark.parametrize("name", _LAYERS)
def test_layer_positional_arguments_are_torchs(name):
    """Every argument minigrad's constructor takes by position sits where torch's does, up to
    torch's device and dtype (a shifted one is a silent wrong answer: PyTorch's forward-forward
    example subclasses Linear and calls super().__init__(in, out, bias, device, dtype))."""
    torch = _torch()
    theirs = list(inspect.signature(getattr(torch.nn, name).__init__).parameters)[1:]
    ours = [p.name for p in list(inspect.signature(getattr(nn, name).__init__).parameters.values())[1:]
            if p.kind is p.POSITIONAL_OR_KEYWORD]
    end = theirs.index("dtype") + 1
    assert ours[:end] == theirs[:end]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "Embedding"])
def test_recurrent_and_embedding_device_dtype_by_keyword(name):
    torch = _torch()
    args = (3, 4)
    ours = getattr(nn, name)(*args, device="cpu", dtype=mg.float64)
    theirs = getattr(torch.nn, name)(*args, device="cpu", dtype=torch.float64)
    assert [(k, str(v.dtype).split(".")[-1]) for k, v in ours.state_dict().items()] == \
        [(k, str(v.dtype).split(".")[-1]) for k, v in theirs.state_dict().items()]


def test_linear_subclass_forwarding_device_and_dtype_stays_float32():
    torch = _torch()

    def layer_class(base):
        class Layer(base.Linear):  # the forward-forward example's pattern
            def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
                super().__init__(in_features, out_features, bias, device, dtype)
        return Layer

    ours, theirs = layer_class(nn)(4, 2), layer_class(torch.nn)(4, 2)
    assert str(ours.weight.dtype).split(".")[-1] == str(theirs.weight.dtype).split(".")[-1] == "float32"
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    out = ours(mg.tensor(x))
    assert out.dtype == mg.float32
    np.testing.assert_allclose(out.detach().numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    placed = nn.Linear(2, 2, True, "cpu", mg.float64)
    assert placed.weight.dtype == mg.float64 and placed.weight.device == "cpu"


def test_layer_dtype_follows_set_default_dtype_as_torch():
    torch = _torch()
    try:
        mg.set_default_dtype(mg.float64)
        torch.set_default_dtype(torch.float64)
        for name in ("Linear", "LSTMCell"):
            assert str(getattr(nn, name)(2, 3).weight_ih.dtype if name == "LSTMCell" else
                       getattr(nn, name)(2, 3).weight.dtype).endswith("float64")
        assert torch.nn.Linear(2, 3).weight.dtype == torch.float64
    finally:
        mg.set_default_dtype(mg.float32)
        torch.set_default_dtype(torch.float32)
    assert nn.Linear(2, 3).weight.dtype == mg.float32


# ---- Dropout2d on other ranks: torch's feature_dropout ------------------------------------

@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")  # counted inside, on both sides
@pytest.mark.parametrize("shape, mask_shape", [((400, 6), (400, 6)), ((40, 6, 5), (40, 6, 1)),
                                               ((20, 6, 3, 3), (20, 6, 1, 1))])
def test_dropout2d_drops_what_torch_drops_on_each_rank(shape, mask_shape):
    torch = _torch()
    x = np.ones(shape)
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = F.dropout2d(mg.tensor(x), 0.5, True).numpy()
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        theirs = torch.nn.functional.dropout2d(torch.tensor(x), 0.5, True).numpy()
    assert len(ours_warned) == len(theirs_warned)  # torch warns for 2-D and 3-D, not 4-D
    for out in (ours, theirs):
        assert set(np.unique(out)) <= {0.0, 2.0}
        blocks = out.reshape(mask_shape + (-1,))  # constant over what one mask entry covers
        assert np.all(blocks.min(-1) == blocks.max(-1))
        assert 0.3 < np.mean(out == 0) < 0.7
    assert F.dropout2d(mg.tensor(x), 0.5, False).numpy().tolist() == x.tolist()


@pytest.mark.filterwarnings("ignore:dropout2d. Received a 1-D:UserWarning")  # torch's, before it raises
def test_dropout2d_layer_on_rnn_features_trains_and_refuses_1d():
    torch = _torch()
    layer = nn.Dropout2d(0.25)  # PyTorch's mnist_rnn example: after BatchNorm1d on (N, 64)
    x = mg.tensor(np.ones((8, 64)), requires_grad=True)
    with pytest.warns(UserWarning, match="2-D input"):
        layer(x).sum().backward()
    assert set(np.unique(x.grad.numpy())) <= {0.0, 1 / 0.75}
    with pytest.raises(type(_raised(lambda: torch.nn.functional.dropout2d(torch.ones(5), 0.5, True)))):
        F.dropout2d(mg.ones(5), 0.5, True)


# ---- scatter_ / gather with a 0-d index ----------------------------------------------------

def test_one_hot_by_scatter_with_a_0d_index_as_torch():
    torch = _torch()
    for y in (0, 3, 9):  # the basics transforms tutorial's target_transform
        ours = mg.zeros(10, dtype=mg.float).scatter_(0, mg.tensor(y), value=1)
        theirs = torch.zeros(10, dtype=torch.float).scatter_(0, torch.tensor(y), value=1)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(mg.zeros(4).scatter_add(0, mg.tensor(2), mg.tensor(5.0)).numpy(),
                                  torch.zeros(4).scatter_add(0, torch.tensor(2), torch.tensor(5.0)).numpy())
    x = mg.tensor(np.arange(5.0), requires_grad=True)
    picked = x.gather(0, mg.tensor(3))
    assert picked.shape == torch.arange(5.0).gather(0, torch.tensor(3)).shape == ()
    picked.backward()
    assert x.grad.numpy().tolist() == [0, 0, 0, 1, 0]
    with pytest.raises(RuntimeError):  # a 0-d index on a 2-d tensor stays refused, as torch
        mg.zeros(2, 3).scatter(0, mg.tensor(1), 2.0)
    with pytest.raises(RuntimeError):
        torch.zeros(2, 3).scatter(0, torch.tensor(1), 2.0)


# ---- the schedules beside StepLR -------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", [("ExponentialLR", {"gamma": 0.9}),
                                          ("MultiStepLR", {"milestones": [4, 1, 4], "gamma": 0.5}),
                                          ("LambdaLR", {"lr_lambda": lambda epoch: 0.95 ** epoch})])
def test_schedules_match_torch_step_by_step_and_resume(name, kwargs):
    torch = _torch()
    ours_opt = mg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    theirs_opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    ours = getattr(mg.optim.lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    for _ in range(7):
        ours_opt.step(), theirs_opt.step()
        ours.step(), theirs.step()
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        assert ours_opt.param_groups[0]["lr"] == ours.get_last_lr()[0]
    saved = json.loads(json.dumps(ours.state_dict()))
    resumed_opt = mg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    resumed = getattr(mg.optim.lr_scheduler, name)(resumed_opt, **kwargs)
    resumed.load_state_dict(saved)
    ours.step(), resumed.step()
    assert resumed.get_last_lr() == ours.get_last_lr()


def test_schedule_arguments_are_checked():
    opt = mg.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="milestones"):
        mg.optim.lr_scheduler.MultiStepLR(opt, [-1])
    with pytest.raises(ValueError, match="gamma"):
        mg.optim.lr_scheduler.ExponentialLR(opt, gamma=0)
    with pytest.raises(ValueError, match="one function or a list of 1"):
        mg.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, lambda e: 2.0])
