"""The pooling, ReLU and batch-norm ops and layers: gradcheck in float64 on
hypothesis-drawn shapes, running statistics and eval mode against PyTorch,
state_dict names, construction errors, and the first-order refusal."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def leaf(shape, seed, scale=1.0):
    return mg.tensor(scale * np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@st.composite
def windows(draw):
    """(input shape, kernel, stride, padding) with every window valid."""
    k = draw(st.integers(1, 3))
    s = draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2))
    h, w = draw(st.integers(max(1, k - 2 * p), 6)), draw(st.integers(max(1, k - 2 * p), 6))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w), k, s, p


@given(window=windows(), seed=st.integers(0, 2**16))
def test_max_pool2d_gradcheck(window, seed):
    shape, k, s, p = window
    # distinct values, well apart, so a finite-difference step never changes a window's winner
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.01
    x = mg.tensor(values, requires_grad=True)
    assert mg.gradcheck(lambda t: F.max_pool2d(t, k, s, p), [x])


@given(window=windows(), seed=st.integers(0, 2**16))
def test_avg_pool2d_gradcheck(window, seed):
    shape, k, s, p = window
    assert mg.gradcheck(lambda t: F.avg_pool2d(t, k, s, p), [leaf(shape, seed)])


@given(window=windows(), dilation=st.integers(1, 2), seed=st.integers(0, 2**16), ceil_mode=st.booleans())
def test_dilated_max_pool2d_gradcheck_and_indices_against_torch(window, dilation, seed, ceil_mode):
    shape, k, s, p = window
    # one image (the element-wise gradcheck costs two pools per element), sized so the dilated window fits
    shape = (1, shape[1]) + tuple(n + (dilation - 1) * (k - 1) for n in shape[2:])
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.01
    x = mg.tensor(values, requires_grad=True)
    try:
        y, indices = F.max_pool2d(x, k, s, p, dilation, ceil_mode, return_indices=True)
    except RuntimeError as error:  # a window between the inputs: refused, never a wrong answer
        assert "reads only padding" in str(error)
        return
    assert indices.dtype == mg.int64 and indices.shape == y.shape and not indices.requires_grad
    assert mg.gradcheck(lambda t: F.max_pool2d(t, k, s, p, dilation, ceil_mode), [x])
    torch = pytest.importorskip("torch")
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(values), k, s, p, dilation, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(indices.numpy(), it.numpy())


@given(window=windows(), seed=st.integers(0, 2**16))
def test_max_unpool2d_gradcheck_and_against_torch(window, seed):
    shape, k, s, p = window
    shape = (1,) + shape[1:]  # one image: the element-wise gradcheck costs two unpools per element
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) * 0.01
    y, indices = F.max_pool2d(mg.tensor(values), k, s, p, return_indices=True)
    y = mg.tensor(y.numpy(), requires_grad=True)
    size = shape[2:]  # the pooled input's own size: always within a stride of the default
    try:
        out = F.max_unpool2d(y, indices, k, s, p, output_size=size)
    except ValueError as error:  # PyTorch's ValueError too, when the default is more than a stride off
        assert "invalid output_size" in str(error)
        return
    assert out.shape == shape
    planes = indices.numpy().reshape(shape[0] * shape[1], -1)
    if all(len(np.unique(plane)) == plane.size for plane in planes):
        # overlapping windows that picked one input write it twice, and the gradient (a
        # gather, as PyTorch's) then goes to both: finite differences see only one
        assert mg.gradcheck(lambda t: F.max_unpool2d(t, indices, k, s, p, output_size=size), [y])
    torch = pytest.importorskip("torch")
    yt = torch.tensor(y.numpy(), requires_grad=True)
    out_t = torch.nn.functional.max_unpool2d(yt, torch.tensor(indices.numpy()), k, s, p, output_size=size)
    np.testing.assert_array_equal(out.numpy(), out_t.detach().numpy())
    g = np.random.default_rng(seed).standard_normal(shape)
    (out * mg.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_unpool_layers_and_errors_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6)).astype(np.float32)
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    pool_t, unpool_t = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    assert repr(unpool) == repr(unpool_t) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxPool2d((2, 3), dilation=2)) == repr(torch.nn.MaxPool2d((2, 3), dilation=2))
    y, indices = pool(mg.tensor(x))
    yt, it = pool_t(torch.from_numpy(x))
    np.testing.assert_array_equal(unpool(y, indices).numpy(), unpool_t(yt, it).numpy())
    np.testing.assert_array_equal(unpool(y[0], indices[0]).numpy(), unpool_t(yt[0], it[0]).numpy())  # one image
    with pytest.raises(RuntimeError, match=r"max_unpool2d: found an invalid max index 71 \(output planes are of "
                                           r"size 6x6\)"):
        F.max_unpool2d(y, mg.tensor(indices.numpy() + 36), 2)
    with pytest.raises(RuntimeError, match=r"max_unpool2d: indices must be int64"):
        F.max_unpool2d(y, mg.tensor(indices.numpy().astype(np.float32)), 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: invalid output_size \(9, 6\) \(dim 0 must be between 4 "
                                         r"and 8"):
        F.max_unpool2d(y, indices, 2, output_size=(9, 6))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_max_pool2d_forward_only_as_torch(dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).integers(0, 200, (2, 2, 7, 5)).astype(dtype)
    for kwargs in [dict(kernel_size=2), dict(kernel_size=2, ceil_mode=True),  # ceil: padded with the dtype's min
                   dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)]:
        y, indices = F.max_pool2d(mg.tensor(x), return_indices=True, **kwargs)
        yt, it = torch.nn.functional.max_pool2d(torch.from_numpy(x), return_indices=True, **kwargs)
        assert y.numpy().dtype == dtype and not y.requires_grad
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(indices.numpy(), it.numpy())


def test_pool_with_rectangular_windows_gradcheck():
    x = mg.tensor(np.random.default_rng(0).permutation(2 * 3 * 7 * 8).reshape(2, 3, 7, 8) * 0.01, requires_grad=True)
    assert mg.gradcheck(lambda t: F.max_pool2d(t, (3, 2), (2, 3), (1, 0)), [x])
    assert mg.gradcheck(lambda t: F.avg_pool2d(t, (2, 3), (3, 1), (1, 1)), [x])


@given(shape=st.sampled_from([(4, 3), (2, 3, 5), (2, 2, 3, 3), (1, 2, 2, 1)]), seed=st.integers(0, 2**16),
       affine=st.booleans())
def test_batch_norm_training_gradcheck(shape, seed, affine):
    x = leaf(shape, seed, 2.0)
    params = [leaf(shape[1], seed + 1), leaf(shape[1], seed + 2)] if affine else []

    def fn(x, *wb):
        return F.batch_norm(x, None, None, *(wb or (None, None)), training=True)
    assert mg.gradcheck(fn, [x] + params)


@given(shape=st.sampled_from([(4, 3), (2, 3, 3, 2)]), seed=st.integers(0, 2**16))
def test_batch_norm_eval_gradcheck_and_second_order(shape, seed):
    c = shape[1]
    running_mean = mg.tensor(np.random.default_rng(seed).standard_normal(c))
    running_var = mg.tensor(np.random.default_rng(seed + 1).uniform(0.5, 2.0, c))
    x, w, b = leaf(shape, seed + 2), leaf(c, seed + 3), leaf(c, seed + 4)

    def fn(x, w, b):  # squared, so the second derivative is not trivially zero
        return F.batch_norm(x, running_mean, running_var, w, b, training=False) ** 2
    assert mg.gradcheck(fn, [x, w, b])
    assert mg.gradgradcheck(fn, [x, w, b])


def test_relu_runs_the_kernel_and_keeps_its_second_derivative(monkeypatch):
    import kernels.relu
    calls = []
    forward, backward = kernels.relu.forward, kernels.relu.backward
    monkeypatch.setattr(kernels.relu, "forward", lambda x: calls.append("forward") or forward(x))
    monkeypatch.setattr(kernels.relu, "backward", lambda g, y: calls.append("backward") or backward(g, y))
    x = mg.tensor([-1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    (F.relu(x) * x).sum().backward()
    assert calls == ["forward", "backward"]
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 4.0, 6.0])
    (g,) = mg.grad((F.relu(x) * x).sum(), [x], create_graph=True)  # composed VJP: differentiable
    (h,) = mg.grad(g.sum(), [x])
    np.testing.assert_array_equal(h.numpy(), [0.0, 2.0, 2.0])


FIRST_ORDER = {"max_pool2d": lambda t: F.max_pool2d(t, 2), "avg_pool2d": lambda t: F.avg_pool2d(t, 2),
               "batch_norm": lambda t: F.batch_norm(t, None, None, training=True)}


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_kernel_backed_ops_refuse_create_graph(name):
    x = leaf((2, 2, 4, 4), 0)
    with pytest.raises(RuntimeError, match=f"{name}: .*first-order only"):
        mg.grad((FIRST_ORDER[name](x) ** 2).sum(), [x], create_graph=True)


def test_running_statistics_follow_torch_over_several_steps():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm2d(3, momentum=0.3), torch.nn.BatchNorm2d(3, momentum=0.3)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.normal(step, 1 + step, (5, 3, 4, 2)).astype(np.float32)
        y = ours(mg.tensor(x, requires_grad=True))
        yt = theirs(torch.tensor(x))
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    state, torch_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(torch_state)
    for name in state:
        np.testing.assert_allclose(state[name], torch_state[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert state["num_batches_tracked"] == 4 and state["num_batches_tracked"].dtype == np.int64
    ours.eval(), theirs.eval()
    x = rng.normal(0, 1, (2, 3, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_running_variance_is_unbiased_by_hand():
    running_mean, running_var = mg.tensor(np.zeros(1)), mg.tensor(np.ones(1))
    x = mg.tensor(np.array([[1.0], [3.0]]))  # mean 2, biased var 1, unbiased var 2
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.25)
    np.testing.assert_allclose(running_mean.numpy(), [0.75 * 0 + 0.25 * 2])
    np.testing.assert_allclose(running_var.numpy(), [0.75 * 1 + 0.25 * 2])


@pytest.mark.parametrize("options", [dict(momentum=None), dict(affine=False), dict(track_running_stats=False)])
def test_batchnorm1d_options_follow_torch(options):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(4, **options).double(), torch.nn.BatchNorm1d(4, **options).double()
    rng = np.random.default_rng(1)
    for step in range(3):
        x = rng.normal(step, 2, (6, 4, 3) if step == 1 else (6, 4))
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    ours.eval(), theirs.eval()
    x = rng.normal(0, 1, (3, 4))
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    state, torch_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(torch_state)
    for name in state:
        np.testing.assert_allclose(state[name], torch_state[name].numpy(), rtol=1e-10, err_msg=name)


def test_layers_follow_torch_in_a_sequential():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1))
    theirs = torch.nn.Sequential(torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.AvgPool2d(3, 1, 1))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(2).standard_normal((3, 2, 6, 6)).astype(np.float32)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    (ym ** 2).sum().backward()
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), rtol=1e-3, atol=1e-4)
    assert repr(ours[2]) == repr(theirs[2]) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


def test_bad_construction_and_input_are_refused():
    with pytest.raises(RuntimeError, match="MaxPool2d: stride must be positive"):
        nn.MaxPool2d(2, stride=0)
    with pytest.raises(RuntimeError, match=r"MaxPool2d: dilation must be positive, got \(0, 0\)"):
        nn.MaxPool2d(2, dilation=0)
    with pytest.raises(RuntimeError, match=r"AvgPool2d: padding \(2, 2\) must be at most half the kernel"):
        nn.AvgPool2d(3, padding=2)
    with pytest.raises(ValueError, match="BatchNorm2d: num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="BatchNorm1d: momentum must be in"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="BatchNorm2d: eps must be positive"):
        nn.BatchNorm2d(3, eps=0)
    with pytest.raises(ValueError, match=r"BatchNorm2d: expects input with 4 dimensions, got shape minigrad.Size\(\[2, 3\]\)"):
        nn.BatchNorm2d(3)(mg.tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expects 3 channels \(axis 1\), got input of shape minigrad.Size\(\[2, 4\]\)"):
        nn.BatchNorm1d(3)(mg.tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="batch_norm: training needs more than 1 value per channel"):
        F.batch_norm(mg.tensor(np.zeros((1, 3))), None, None, training=True)
    with pytest.raises(ValueError, match="batch_norm: evaluation mode .* needs running_mean"):
        F.batch_norm(mg.tensor(np.zeros((2, 3))), None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: running_var must have shape \(3,\)"):
        F.batch_norm(mg.tensor(np.zeros((2, 3))), mg.tensor(np.zeros(3)), mg.tensor(np.ones(4)))
    with pytest.raises(RuntimeError, match=r"max_pool2d: kernel \(3, 3\) spanning \(3, 3\) is larger than the padded"):
        F.max_pool2d(mg.tensor(np.zeros((1, 1, 2, 2))), 3)
    with pytest.raises(RuntimeError, match=r"max_pool2d: padding must be an int or a pair of ints, got 3 values"):
        F.max_pool2d(mg.tensor(np.zeros((1, 1, 4, 4))), 2, padding=(1, 1, 1))


def test_torch_state_dict_loads_into_batchnorm2d():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm2d(3)
    rng = np.random.default_rng(3)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0), theirs.bias.uniform_(-1.0, 1.0)
    for _ in range(3):
        theirs(torch.tensor(rng.normal(1.0, 2.0, (4, 3, 5, 5)).astype(np.float32)))
    ours = nn.BatchNorm2d(3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert int(ours.num_batches_tracked.item()) == 3
    ours.eval(), theirs.eval()
    x = rng.normal(0, 1, (2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
