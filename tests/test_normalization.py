"""nn.GroupNorm and nn.InstanceNorm2d against torch (values, gradients, running statistics,
state_dict names), gradchecked in float64."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn


def _torch():
    return pytest.importorskip("torch")


def _same(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def _compare(torch, ours, theirs, x, steps=1):
    """Run both layers forward and backward on x (with a random upstream gradient) ``steps``
    times; compare outputs, input and parameter gradients and every buffer."""
    rng = np.random.default_rng(0)
    for _ in range(steps):
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ym, yt = ours(xm), theirs(xt)
        _same(ym, yt)
        g = rng.standard_normal(yt.shape)
        (ym * mg.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        _same(xm.grad, xt.grad)
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        _same(p.grad, q.grad)
    theirs_state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        np.testing.assert_allclose(np.asarray(value), theirs_state[key].numpy(), rtol=1e-10)


@pytest.mark.parametrize("groups, channels, affine, shape", [
    (2, 4, True, (3, 4, 5, 5)), (1, 3, False, (2, 3, 4)), (6, 6, True, (2, 6, 3, 2)), (3, 6, True, (2, 6))])
def test_group_norm_matches_torch(groups, channels, affine, shape):
    torch = _torch()
    ours = nn.GroupNorm(groups, channels, affine=affine, dtype=np.float64)
    theirs = torch.nn.GroupNorm(groups, channels, affine=affine).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    if affine:  # non-trivial γ, β
        rng = np.random.default_rng(1)
        state = {k: rng.standard_normal(v.shape) for k, v in ours.state_dict().items()}
        ours.load_state_dict(state)
        theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    _compare(torch, ours, theirs, np.random.default_rng(2).standard_normal(shape) * 3 + 1)


@pytest.mark.parametrize("affine, track, momentum", [(False, False, 0.1), (True, False, 0.1), (True, True, 0.3),
                                                     (False, True, None)])
def test_instance_norm_2d_matches_torch(affine, track, momentum):
    torch = _torch()
    ours = nn.InstanceNorm2d(3, affine=affine, track_running_stats=track, momentum=momentum, dtype=np.float64)
    theirs = torch.nn.InstanceNorm2d(3, affine=affine, track_running_stats=track, momentum=momentum).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(3).standard_normal((4, 3, 5, 6)) * 2 - 1
    _compare(torch, ours, theirs, x, steps=2)  # running statistics moved twice
    ours.eval(), theirs.eval()
    _compare(torch, ours, theirs, x + 0.5)  # eval: the running statistics, when tracked
    _same(ours(mg.tensor(x[0])), theirs(torch.tensor(x[0])))  # one unbatched image


def test_instance_norm_defaults_are_torch_defaults():
    layer = nn.InstanceNorm2d(8)
    assert not layer.affine and not layer.track_running_stats and layer.momentum == 0.1
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []
    with pytest.raises(ValueError, match="expects \\(N, 8, H, W\\)"):
        layer(mg.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups \\(got 6 and 4\\)"):
        nn.GroupNorm(4, 6)


@settings(max_examples=10, deadline=None)
@given(groups=st.integers(1, 3), per_group=st.integers(1, 2), n=st.integers(1, 2),
       spatial=st.lists(st.integers(2, 3), min_size=1, max_size=2), seed=st.integers(0, 2**16))
def test_group_and_instance_norm_gradcheck(groups, per_group, n, spatial, seed):
    rng = np.random.default_rng(seed)
    channels = groups * per_group
    x = mg.tensor(rng.standard_normal((n, channels, *spatial)), requires_grad=True)
    w, b = (mg.tensor(rng.standard_normal(channels), requires_grad=True) for _ in range(2))
    assert mg.gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), [x, w, b])
    assert mg.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [x, w, b])
