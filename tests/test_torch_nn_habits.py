"""PyTorch's nn habits give PyTorch's answer: losses, F.pad/one_hot, pooling modes,
conv2d padding strings, layers, containers, mg.save/mg.load, data — values and
gradients side by side with torch (those tests skip without it), gradchecks in float64."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.checkpoint import CheckpointError, save_checkpoint


def _torch():
    return pytest.importorskip("torch")


def _pair(array, requires_grad=True):
    """The same float64 data as a minigrad and a torch tensor, both leaves."""
    torch = _torch()
    return (mg.tensor(np.array(array), requires_grad=requires_grad),
            torch.tensor(np.array(array), requires_grad=requires_grad))


def _same(ours, theirs, atol=1e-10):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, mg.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=1e-7, equal_nan=True)


def _same_with_grads(fn_ours, fn_theirs, arrays, atol=1e-10):
    """Values of fn on both sides, then gradients of sum(out · fixed random weights)."""
    pairs = [_pair(a) for a in arrays]
    out, ref = fn_ours(*[p[0] for p in pairs]), fn_theirs(*[p[1] for p in pairs])
    _same(out, ref, atol)
    direction = np.random.default_rng(0).normal(size=ref.shape)
    (out * mg.tensor(direction)).sum().backward()
    (ref * _torch().tensor(direction)).sum().backward()
    for ours, theirs in pairs:
        _same(ours.grad, theirs.grad, atol)


RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 4))
LABELS = np.array([0, 3, -100, 1, 2, 3])
WEIGHT = RNG.random(4) + 0.1


# ---- losses ------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("labels", [LABELS, np.abs(LABELS) % 4], ids=["one ignored", "all count"])
def test_cross_entropy_matches_torch(reduction, label_smoothing, weighted, labels):
    torch = _torch()
    weight = WEIGHT if weighted else None
    _same_with_grads(
        lambda x: F.cross_entropy(x, mg.tensor(labels), weight=weight, reduction=reduction,
                                  label_smoothing=label_smoothing),
        lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(labels), reduction=reduction,
                                                    weight=None if weight is None else torch.tensor(weight),
                                                    label_smoothing=label_smoothing),
        [LOGITS])


def test_cross_entropy_shapes_and_probabilities_match_torch():
    torch = _torch()
    tf = torch.nn.functional
    images = RNG.normal(size=(2, 4, 3, 2))
    labels = RNG.integers(0, 4, size=(2, 3, 2))
    _same_with_grads(lambda x: F.cross_entropy(x, labels, reduction="none"),
                     lambda x: tf.cross_entropy(x, torch.tensor(labels), reduction="none"), [images])
    _same_with_grads(lambda x: F.cross_entropy(x, np.array(2), label_smoothing=0.1),
                     lambda x: tf.cross_entropy(x, torch.tensor(2), label_smoothing=0.1), [LOGITS[0]])
    probabilities = RNG.random((6, 4))
    probabilities /= probabilities.sum(1, keepdims=True)
    _same_with_grads(lambda x: F.cross_entropy(x, probabilities, weight=WEIGHT, label_smoothing=0.3),
                     lambda x: tf.cross_entropy(x, torch.tensor(probabilities), weight=torch.tensor(WEIGHT),
                                                label_smoothing=0.3), [LOGITS])


def test_cross_entropy_takes_an_int64_label_tensor_and_refuses_bad_labels():
    x = mg.tensor(LOGITS)
    labels = mg.tensor(np.array([0, 1, 2, 3, 0, 1]))
    assert labels.dtype == np.int64 and np.isfinite(F.cross_entropy(x, labels).item())
    with pytest.raises(IndexError, match=r"target 4 is out of bounds.*\[0, 4\)"):
        F.cross_entropy(x, np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match=r"labels of shape minigrad.Size\(\[6\]\)"):
        F.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="one entry per class"):
        F.cross_entropy(x, labels, weight=np.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, labels, label_smoothing=1.5)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("labels", [LABELS, np.abs(LABELS) % 4], ids=["one ignored", "all count"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, labels, weighted):
    torch = _torch()
    weight = WEIGHT if weighted else None
    _same_with_grads(lambda x: F.nll_loss(F.log_softmax(x, dim=1), labels, weight=weight, reduction=reduction),
                     lambda x: torch.nn.functional.nll_loss(torch.log_softmax(x, 1), torch.tensor(labels),
                                                            weight=None if weight is None else torch.tensor(weight),
                                                            reduction=reduction),
                     [LOGITS])


def test_every_label_ignored_gives_nan_as_torch():
    torch = _torch()
    labels = np.full(6, -100)
    with np.errstate(invalid="ignore"):
        ours = F.cross_entropy(mg.tensor(LOGITS), labels)
    _same(ours, torch.nn.functional.cross_entropy(torch.tensor(LOGITS), torch.tensor(labels)))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_losses_match_torch(name, reduction):
    torch = _torch()
    rng = np.random.default_rng(1)
    x = rng.random((3, 5)) if name == "binary_cross_entropy" else rng.normal(size=(3, 5)) * 4
    x[0, 0] = 0.5 if name == "binary_cross_entropy" else 0.0  # BCE-with-logits at 0: gradient σ(0) − y
    target = rng.random((3, 5))
    weight = rng.random(5) if name.startswith("binary") else rng.random((3, 5))  # torch: mse/l1 weights are elementwise
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    _same_with_grads(lambda a: ours(a, target, weight=weight, reduction=reduction),
                     lambda a: theirs(a, torch.tensor(target), weight=torch.tensor(weight), reduction=reduction),
                     [x])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's note on its kl_div 'mean'
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_robust_and_divergence_losses_match_torch(reduction):
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(12)
    x, target = rng.normal(size=(4, 5)) * 2, rng.normal(size=(4, 5))
    x[0, 0] = target[0, 0]  # d = 0
    x[0, 1] = target[0, 1] + 0.5  # |d| = β: the seam
    for beta in (0.5, 1.0, 0.0):
        _same_with_grads(lambda a: F.smooth_l1_loss(a, target, reduction=reduction, beta=beta),
                         lambda a: tf.smooth_l1_loss(a, torch.tensor(target), reduction=reduction, beta=beta), [x])
    weight = rng.random((4, 5))
    _same_with_grads(lambda a: F.huber_loss(a, target, reduction=reduction, delta=0.5, weight=weight),
                     lambda a: tf.huber_loss(a, torch.tensor(target), reduction=reduction, delta=0.5,
                                             weight=torch.tensor(weight)), [x])
    p = rng.random((4, 5))
    p[1, 2] = 0.0  # 0 · log 0 = 0
    p /= p.sum(1, keepdims=True)
    logq = np.log(rng.dirichlet(np.ones(5), size=4))
    for red in (reduction, "batchmean"):
        # the target is a constant here: at t = 0 the derivative of t·log t is −∞ (torch says nan)
        _same_with_grads(lambda a: F.kl_div(a, p, reduction=red),
                         lambda a: tf.kl_div(a, torch.tensor(p), reduction=red), [logq])
        _same_with_grads(lambda a, t: F.kl_div(a, t, reduction=red, log_target=True),
                         lambda a, t: tf.kl_div(a, t, reduction=red, log_target=True), [logq, logq[::-1].copy()])
    _same_with_grads(F.logsigmoid, tf.logsigmoid, [x * 30])
    for module, args in [("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 2.0}),
                         ("KLDivLoss", {"reduction": "batchmean"})]:
        ours, theirs = getattr(nn, module)(**args), getattr(torch.nn, module)(**args)
        _same_with_grads(lambda a: ours(a, mg.tensor(p)), lambda a: theirs(a, torch.tensor(p)), [logq])


def test_bce_with_logits_pos_weight_and_huge_logits():
    torch = _torch()
    x = np.array([[-1e4, 0.0, 3.0], [1e4, -2.0, 40.0]])
    target = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]])
    pos_weight = np.array([2.0, 0.5, 3.0])
    _same_with_grads(lambda a: F.binary_cross_entropy_with_logits(a, target, pos_weight=pos_weight),
                     lambda a: torch.nn.functional.binary_cross_entropy_with_logits(
                         a, torch.tensor(target), pos_weight=torch.tensor(pos_weight)), [x])


def test_legacy_size_average_and_reduce_map_as_torch():
    torch = _torch()
    x, y = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2))
    with pytest.warns(UserWarning, match="deprecated"):
        ours = F.mse_loss(mg.tensor(x), y, size_average=False)
    with pytest.warns(UserWarning):
        _same(ours, torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y), size_average=False))
    with pytest.warns(UserWarning):
        assert F.l1_loss(mg.tensor(x), y, reduce=False).shape == (3, 2)


@pytest.mark.parametrize("module, args", [("CrossEntropyLoss", {"label_smoothing": 0.1}),
                                          ("CrossEntropyLoss", {"weight": WEIGHT, "ignore_index": 3}),
                                          ("NLLLoss", {"reduction": "sum"}), ("MSELoss", {}), ("L1Loss", {}),
                                          ("BCELoss", {}), ("BCEWithLogitsLoss", {"pos_weight": np.ones(4) * 2})])
def test_loss_modules_match_torch(module, args):
    torch = _torch()
    rng = np.random.default_rng(2)
    classes = module in ("CrossEntropyLoss", "NLLLoss")
    x = rng.random((5, 4)) if module == "BCELoss" else rng.normal(size=(5, 4))
    target = rng.integers(0, 4, size=5) if classes else rng.random((5, 4))
    torch_args = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in args.items()}
    ours, theirs = getattr(nn, module)(**args), getattr(torch.nn, module)(**torch_args)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight/pos_weight are buffers, as in torch
    assert repr(ours) == repr(theirs)
    _same_with_grads(lambda a: ours(a, mg.tensor(target)), lambda a: theirs(a, torch.tensor(target)), [x])


# ---- pad, one_hot ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, pad", [("constant", (1, -2, 0, 3, 2, 1)), ("constant", (2, 2)),
                                       ("reflect", (1, 2, 3, 0)), ("replicate", (2, 1, 0, 4)),
                                       ("circular", (1, 3, 2, 2))])
def test_pad_matches_torch(mode, pad):
    torch = _torch()
    _same_with_grads(lambda x: F.pad(x, pad, mode=mode), lambda x: torch.nn.functional.pad(x, pad, mode=mode),
                     [RNG.normal(size=(2, 3, 4, 5))])
    if mode == "constant":
        _same(F.pad(mg.tensor(np.ones((2, 3))), pad[:2], value=-7.5),
              torch.nn.functional.pad(torch.ones(2, 3), pad[:2], value=-7.5))


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       amounts=st.lists(st.integers(0, 2), min_size=2, max_size=6))
def test_pad_gradchecks(shape, amounts):
    pad = amounts[:2 * min(len(shape), len(amounts) // 2)]
    x = mg.tensor(np.random.default_rng(len(shape)).normal(size=shape), requires_grad=True)
    assert mg.gradcheck(lambda t: F.pad(t, pad, value=0.5) ** 2, [x])


@given(rows=st.integers(1, 4), classes=st.integers(2, 5), smoothing=st.sampled_from([0.0, 0.3]),
       weighted=st.booleans(), seed=st.integers(0, 2**16))
def test_classification_losses_gradcheck(rows, classes, smoothing, weighted, seed):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.normal(size=(rows, classes)), requires_grad=True)
    labels = rng.integers(0, classes, size=rows)
    labels[0] = -100  # one ignored label
    weight = mg.tensor(rng.random(classes) + 0.5) if weighted else None
    targets = rng.random((rows, classes))
    assert mg.gradcheck(lambda t: F.cross_entropy(t, labels, weight=weight, label_smoothing=smoothing,
                                                  reduction="sum"), [x])
    assert mg.gradcheck(lambda t: F.binary_cross_entropy_with_logits(t * 3, targets, pos_weight=targets[0] + 1), [x])
    assert mg.gradcheck(lambda t: F.leaky_relu(t, 0.1) + F.softplus(t, beta=2.0) + F.elu(t) + F.silu(t), [x])


@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3), seed=st.integers(0, 2**16))
def test_gelu_gradchecks_to_second_order(shape, seed):
    x = mg.tensor(np.random.default_rng(seed).normal(size=shape) * 2, requires_grad=True)
    for approximate in ("none", "tanh"):
        assert mg.gradcheck(lambda t: F.gelu(t, approximate), [x])
        assert mg.gradgradcheck(lambda t: F.gelu(t, approximate), [x])


@given(size=st.tuples(st.integers(3, 7), st.integers(3, 7)), kernel=st.integers(2, 3), stride=st.integers(1, 3),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_pooling_modes_gradcheck(size, kernel, stride, ceil_mode, count_include_pad, seed):
    padding = kernel // 2
    x = mg.tensor(np.random.default_rng(seed).permutation(2 * size[0] * size[1]).reshape((1, 2) + size) / 10.0,
                  requires_grad=True)  # distinct values: max pooling's gradient is defined
    assert mg.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x])
    assert mg.gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode), [x])


def test_pad_refuses_what_torch_refuses():
    x = mg.tensor(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="even-length"):  # torch: "Padding length must be divisible by 2"
        F.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="at most 2"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="mode 'reflect' with 4 padding values"):
        F.pad(x, (1, 1, 1, 1), mode="reflect")


def test_one_hot_matches_torch():
    torch = _torch()
    labels = RNG.integers(0, 5, size=(3, 2))
    _same(F.one_hot(mg.tensor(labels)), torch.nn.functional.one_hot(torch.tensor(labels)))
    _same(F.one_hot(mg.tensor(labels), 7), torch.nn.functional.one_hot(torch.tensor(labels), 7))
    assert F.one_hot(mg.tensor(labels)).dtype == np.int64
    with pytest.raises(ValueError, match="smaller than num_classes=3"):
        F.one_hot(mg.tensor(labels + 3), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(mg.tensor([0.0, 1.0]))


# ---- pooling modes, conv padding strings -----------------------------------------------------------------
@pytest.mark.parametrize("size, kernel, stride, padding", [((7, 8), 3, 2, 1), ((8, 9), 3, 3, 1),
                                                           ((5, 6), 2, 2, 0), ((6, 7), 3, 2, 0)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pooling_modes_match_torch(size, kernel, stride, padding, ceil_mode):
    torch = _torch()
    tf = torch.nn.functional
    x = np.random.default_rng(3).normal(size=(2, 2) + size)
    _same_with_grads(lambda t: F.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode),
                     lambda t: tf.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode), [x])
    for count_include_pad in (True, False):
        _same_with_grads(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad),
                         lambda t: tf.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x])
    _same_with_grads(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, divisor_override=5),
                     lambda t: tf.avg_pool2d(t, kernel, stride, padding, ceil_mode, divisor_override=5), [x])
    module = nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)
    _same(module(mg.tensor(x)), torch.nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)(torch.tensor(x)))
    module = nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=False)
    _same(module(mg.tensor(x)), torch.nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode,
                                                   count_include_pad=False)(torch.tensor(x)))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's note on its own speed
@pytest.mark.parametrize("padding, kernel", [("same", (2, 3)), ("same", (3, 3)), ("valid", (2, 2))])
def test_conv2d_padding_strings_match_torch(padding, kernel):
    torch = _torch()
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 3, 6, 7)), rng.normal(size=(4, 3) + kernel)
    _same_with_grads(lambda a, b: F.conv2d(a, b, padding=padding),
                     lambda a, b: torch.nn.functional.conv2d(a, b, padding=padding), [x, w], atol=1e-9)


def test_conv_and_pooling_take_one_unbatched_image_as_torch():
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(14)
    image, w = rng.normal(size=(2, 5, 6)), rng.normal(size=(3, 2, 3, 3))
    _same_with_grads(lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: tf.conv2d(a, b, padding=1), [image, w],
                     atol=1e-9)
    _same_with_grads(lambda a: F.max_pool2d(a, 2, ceil_mode=True), lambda a: tf.max_pool2d(a, 2, ceil_mode=True),
                     [image])
    _same_with_grads(lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False),
                     lambda a: tf.avg_pool2d(a, 3, 2, 1, count_include_pad=False), [image])
    with pytest.raises(RuntimeError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        F.max_pool2d(mg.tensor(np.ones((4, 4))), 2)


def test_unsupported_arguments_are_refused_by_name():
    x, w = mg.tensor(np.ones((1, 2, 5, 5))), mg.tensor(np.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(x, w, stride=2, padding="same")


# ---- activations ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, args", [("ReLU", {"inplace": True}), ("LeakyReLU", {"negative_slope": 0.2}),
                                        ("Softmax", {"dim": 1}), ("LogSoftmax", {"dim": 0}), ("Tanh", {}),
                                        ("Sigmoid", {}), ("Identity", {}), ("Softplus", {"beta": 2.0}),
                                        ("ELU", {"alpha": 0.5}), ("SiLU", {}), ("GELU", {}),
                                        ("GELU", {"approximate": "tanh"})])
def test_activation_modules_match_torch(name, args):
    torch = _torch()
    x = np.random.default_rng(5).normal(size=(3, 4))
    x[0, 0] = 0.0  # each library's subgradient at the kink
    ours, theirs = getattr(nn, name)(**args), getattr(torch.nn, name)(**args)
    assert repr(ours) == repr(theirs)
    _same_with_grads(lambda t: ours(t * 1), lambda t: theirs(t * 1), [x])  # t * 1: in place needs a non-leaf


@pytest.mark.parametrize("name, args", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}),
                                        ("silu", {})])
def test_inplace_activations_change_their_input_as_torch(name, args):
    torch = _torch()
    x = np.random.default_rng(13).normal(size=(3, 4))
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)

    def run(fn, t):
        hidden = t * 2
        out = fn(hidden, inplace=True, **args)
        assert out is hidden  # the same tensor, changed
        return out * 3
    _same_with_grads(lambda t: run(ours, t), lambda t: run(theirs, t), [x])
    leaf = mg.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        ours(leaf, inplace=True, **args)
    hidden = leaf * 2
    used = hidden * hidden  # mul keeps hidden for its backward
    ours(hidden, inplace=True, **args)
    with pytest.raises(RuntimeError, match="modified"):
        used.sum().backward()
    data = mg.tensor(x)
    assert ours(data, inplace=True, **args) is data and not np.array_equal(data.numpy(), x)


def test_activations_stay_finite_for_huge_inputs():
    torch = _torch()
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    for ours, theirs in [(F.elu, torch.nn.functional.elu), (F.silu, torch.nn.functional.silu),
                         (F.gelu, torch.nn.functional.gelu),
                         (F.softplus, torch.nn.functional.softplus), (F.leaky_relu, torch.nn.functional.leaky_relu)]:
        _same_with_grads(ours, theirs, [x])


def test_softmax_without_dim_picks_torchs_dim_and_warns():
    torch = _torch()
    x = np.random.default_rng(6).normal(size=(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = F.softmax(mg.tensor(x))
    with pytest.warns(UserWarning):
        _same(ours, torch.nn.functional.softmax(torch.tensor(x)))


# ---- containers, apply, reset_parameters -------------------------------------------------------------------
class _Ours(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.BatchNorm1d(4)})

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](self.heads["b"](x))


def test_containers_register_with_torchs_keys_and_carry_torchs_weights():
    torch = _torch()

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4)])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(4, 2), "b": torch.nn.BatchNorm1d(4)})

        forward = _Ours.forward

    ours, theirs = _Ours(), Theirs().double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(7).normal(size=(5, 3))
    _same(ours(mg.tensor(x)), theirs(torch.tensor(x)))
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == ["blocks", "heads"]


def test_module_list_and_dict_behave_as_lists_and_dicts():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Tanh())
    layers.insert(0, nn.Identity())
    del layers[1]
    assert [type(m).__name__ for m in layers] == ["Identity", "ReLU", "Tanh"]
    assert list(layers._modules) == ["0", "1", "2"] and isinstance(layers[-1], nn.Tanh)
    assert len(layers[1:]) == 2 and len(layers) == 3
    with pytest.raises(IndexError, match="index 3 is out of range for 3"):
        layers[3]
    with pytest.raises(TypeError, match="not a Module"):
        layers.append(lambda x: x)
    heads = nn.ModuleDict([("x", nn.Linear(2, 1))])
    heads["y"] = nn.Linear(2, 3)
    assert list(heads) == ["x", "y"] and "y" in heads and len(heads) == 2
    assert [k for k, _ in heads.named_parameters()] == ["x.weight", "x.bias", "y.weight", "y.bias"]
    heads.pop("x")
    assert list(heads.keys()) == ["y"]


def test_apply_visits_children_before_parents_as_torch():
    torch = _torch()
    seen, their_seen = [], []
    _Ours().apply(lambda m: seen.append(type(m).__name__))
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Tanh()))
    model.apply(lambda m: their_seen.append(type(m).__name__))
    ours = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Tanh()))
    mine = []
    assert ours.apply(lambda m: mine.append(type(m).__name__)) is ours
    assert mine == their_seen == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]
    assert seen[-1] == "_Ours" and seen[:4] == ["Linear", "ReLU", "Linear", "ModuleList"]


@pytest.mark.parametrize("make", [lambda: nn.Linear(5, 3), lambda: nn.Conv2d(2, 3, 3), lambda: nn.BatchNorm2d(3),
                                  lambda: nn.BatchNorm1d(4), lambda: nn.LayerNorm((2, 3)),
                                  lambda: nn.Embedding(4, 3, padding_idx=1)])
def test_reset_parameters_redraws_as_at_construction(make):
    mg.manual_seed(11)
    fresh = make()
    mg.manual_seed(11)
    layer = make()
    for t in list(layer.parameters()) + list(layer.buffers()):
        t.array[...] = 7
    mg.manual_seed(11)
    layer.reset_parameters()
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(layer.state_dict()[name], value, err_msg=name)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_layer_padding_modes_match_torch(padding_mode):
    torch = _torch()
    ours = nn.Conv2d(2, 3, 3, stride=2, padding=(1, 2), padding_mode=padding_mode, dtype=np.float64)
    theirs = torch.nn.Conv2d(2, 3, 3, stride=2, padding=(1, 2), padding_mode=padding_mode).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    _same_with_grads(ours, theirs, [np.random.default_rng(8).normal(size=(2, 2, 6, 7))], atol=1e-9)


# ---- mg.save / mg.load ---------------------------------------------------------------------------------------
def test_save_and_load_a_state_dict_under_any_name(tmp_path):
    model = _Ours()
    path = tmp_path / "model.pt"
    mg.save(model.state_dict(), path)
    loaded = mg.load(path)
    assert list(loaded) == list(model.state_dict())
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype
    fresh = _Ours()
    fresh.load_state_dict(mg.load(str(path)))
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(fresh.eval()(x).numpy(), model.eval()(x).numpy())
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary left behind


def test_save_keeps_tensors_tuples_numbers_and_nesting(tmp_path):
    import io
    w = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    obj = {"epoch": 3, "lr": 0.5, "name": "run", "none": None, "flags": (True, False),
           "weights": [w, mg.tensor(np.array([1, 2]))], 7: {"array": np.eye(2, dtype=np.float32)}}
    buffer = io.BytesIO()
    mg.save(obj, buffer)
    buffer.seek(0)
    back = mg.load(buffer)
    assert back["epoch"] == 3 and back["lr"] == 0.5 and back["name"] == "run" and back["none"] is None
    assert back["flags"] == (True, False)
    assert isinstance(back["weights"][0], mg.Tensor) and back["weights"][0].requires_grad
    np.testing.assert_array_equal(back["weights"][0].numpy(), w.numpy())
    assert back["weights"][1].dtype == np.int64 and not back["weights"][1].requires_grad
    assert isinstance(back[7]["array"], np.ndarray) and back[7]["array"].dtype == np.float32


def test_save_refuses_what_would_need_pickle_and_load_names_foreign_files(tmp_path):
    with pytest.raises(TypeError, match="save: cannot store a Linear.*state_dict"):
        mg.save(nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(TypeError, match="save: cannot store a set"):
        mg.save({"x": {1, 2}}, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="dtype object"):
        mg.save({"x": np.array([None])}, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()
    with pytest.raises(CheckpointError, match="no such file"):
        mg.load(tmp_path / "absent.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="text.pt: truncated or corrupt"):
        mg.load(tmp_path / "text.pt")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(CheckpointError, match="not a minigrad file saved by minigrad.save"):
        mg.load(tmp_path / "plain.npz")
    save_checkpoint(tmp_path / "ckpt.npz", {"w": np.ones(2)})
    with pytest.raises(CheckpointError, match="format 'minigrad-checkpoint'"):
        mg.load(tmp_path / "ckpt.npz")


def test_load_names_a_torch_file(tmp_path):
    torch = _torch()
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="looks like a PyTorch file"):
        mg.load(tmp_path / "model.pt")


# ---- data -----------------------------------------------------------------------------------------------------
def _theirs_batches(loader):
    return [[np.asarray(field) for field in batch] for batch in loader]


def test_map_style_dataset_and_tensor_dataset_batch_as_torch():
    torch = _torch()
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import Dataset as TorchDataset
    from torch.utils.data import TensorDataset as TorchTensorDataset

    from minigrad.data import DataLoader, Dataset, TensorDataset
    images = np.random.default_rng(9).random((7, 1, 3, 3), dtype=np.float32)
    labels = np.arange(7) % 3

    def squares(base):
        class Squares(base):  # example i is (image i, its label, i² as a Python float)
            def __len__(self):
                return len(images)

            def __getitem__(self, i):
                return images[i], int(labels[i]), float(i * i)
        return Squares()

    for ours, theirs in [(DataLoader(squares(Dataset), batch_size=3), TorchLoader(squares(TorchDataset), batch_size=3)),
                         (DataLoader(TensorDataset(mg.tensor(images), mg.tensor(labels)), batch_size=3),
                          TorchLoader(TorchTensorDataset(torch.tensor(images), torch.tensor(labels)), batch_size=3))]:
        mine = [[field.numpy() for field in batch] for batch in ours]
        reference = _theirs_batches(theirs)
        assert len(mine) == len(reference) == len(ours) == len(theirs) == 3
        for batch, expected in zip(mine, reference):
            for field, want in zip(batch, expected):
                assert field.dtype == want.dtype and field.shape == want.shape
                np.testing.assert_array_equal(field, want)


def test_collate_follows_torch_and_loader_takes_torchs_arguments():
    _torch()
    from torch.utils.data import default_collate as torch_collate

    from minigrad.data import DataLoader, TensorDataset, default_collate
    examples = [{"x": np.ones(2) * i, "n": i, "f": 0.5 * i, "name": str(i)} for i in range(3)]
    ours, theirs = default_collate(examples), torch_collate(examples)
    assert ours["name"] == theirs["name"] == ["0", "1", "2"]
    for key in ("x", "n", "f"):
        assert ours[key].dtype == np.dtype(str(theirs[key].dtype).replace("torch.", ""))
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([np.ones(2), np.ones(3)])
    dataset = TensorDataset(np.arange(10.0), np.arange(10))
    with pytest.warns(UserWarning, match="num_workers=2.*loaded in this process"):
        loader = DataLoader(dataset, batch_size=4, shuffle=True, seed=0, num_workers=2, pin_memory=True)
    assert sorted(np.concatenate([x.numpy() for x, _ in loader]).tolist()) == list(range(10))
    assert isinstance(next(iter(loader)), list)  # as PyTorch's batches
    mine = DataLoader(dataset, batch_size=4, collate_fn=lambda examples: len(examples))
    assert list(mine) == [4, 4, 2]
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(dataset, num_workers=-1)


def test_to_tensor_and_normalize_have_torchvisions_meaning():
    from minigrad.data import transforms
    picture = np.random.default_rng(10).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    image = transforms.ToTensor()(picture)
    assert isinstance(image, mg.Tensor) and image.shape == (3, 4, 5) and image.dtype == np.float32
    np.testing.assert_allclose(image.numpy(), picture.transpose(2, 0, 1) / 255, rtol=1e-6)
    assert transforms.ToTensor()(picture[:, :, 0]).shape == (1, 4, 5)
    assert transforms.ToTensor()(np.ones((2, 2, 1))).numpy().max() == 1.0  # not uint8: no scaling
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.25, 0.0), (0.5, 0.5, 2.0)),
                                   lambda t: t * 1])  # a transform without a generator argument
    normalised = pipeline(picture)
    expected = (picture.transpose(2, 0, 1) / 255 - np.array([0.5, 0.25, 0.0])[:, None, None]) \
        / np.array([0.5, 0.5, 2.0])[:, None, None]
    np.testing.assert_allclose(normalised.numpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="channels at dim -3"):
        transforms.Normalize((0.5, 0.5), (1, 1))(image)
    with pytest.raises(ValueError, match=r"\(H, W, C\)"):
        transforms.ToTensor()(np.ones(3))


def test_module_habits_of_torch():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    assert repr(ours.load_state_dict(state)) == repr(theirs.load_state_dict(theirs.state_dict())) \
        == "<All keys matched successfully>"
    del state["0.bias"]
    state["extra"] = np.ones(1)
    result = ours.load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    missing, unexpected = result
    assert (missing, unexpected) == (["0.bias"], ["extra"])
    with pytest.raises(RuntimeError, match=r"missing keys \['0.bias'\]"):
        ours.load_state_dict(state)
    with pytest.raises(KeyError):  # also a KeyError, which minigrad's resume catches
        ours.load_state_dict(state)
    assert ours.to(mg.float64) is ours and ours[0].weight.dtype == np.float64
    assert ours[1].num_batches_tracked.dtype == np.int64  # a dtype moves floating-point state only
    assert ours.to(mg.tensor(np.ones(1, dtype=np.float32))).cpu()[0].weight.dtype == np.float32
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    ours.add_module("head", nn.Linear(2, 1))
    assert ours.get_submodule("head") is ours[2] and ours.get_submodule("") is ours
    with pytest.raises(AttributeError, match="no sub-module 'tail'"):
        ours.get_submodule("tail")


def test_random_split_and_subset_as_torch():
    _torch()
    from torch.utils.data import random_split as torch_split

    from minigrad.data import ArrayDataset, DataLoader, Dataset, Subset, random_split
    dataset = ArrayDataset(np.arange(10.0)[:, None], np.arange(10))
    for lengths in ([7, 3], [0.5, 0.3, 0.2], [0.34, 0.33, 0.33]):
        parts = random_split(dataset, lengths, generator=np.random.default_rng(0))
        assert [len(p) for p in parts] == [len(p) for p in torch_split(range(10), lengths)]
        served = np.concatenate([p.indices for p in parts])
        assert sorted(served.tolist()) == list(range(10))  # a partition
    first = parts[0]
    x, y = next(iter(DataLoader(first, batch_size=len(first))))  # through ArrayDataset's one-step batches
    np.testing.assert_array_equal(y.numpy(), first.indices)

    class Plain(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return i * 10
    subset = Subset(Plain(), [4, 0])
    assert not hasattr(subset, "get_batch") and subset[0] == 40
    assert next(iter(DataLoader(subset, batch_size=2))).tolist() == [40, 0]
    with pytest.raises(ValueError, match="adding up"):
        random_split(dataset, [5, 4])
    with pytest.raises(IndexError, match="positions in a dataset of 5"):
        Subset(Plain(), [5])


def test_random_transforms_on_tensor_images_draw_once_per_image():
    from minigrad.data import transforms
    picture = np.random.default_rng(11).integers(0, 256, size=(6, 5, 3), dtype=np.uint8)
    image = transforms.ToTensor()(picture)
    flipped = transforms.RandomHorizontalFlip(p=1.0)(image)
    assert isinstance(flipped, mg.Tensor) and flipped.dtype == np.float32
    np.testing.assert_array_equal(flipped.numpy(), image.numpy()[:, :, ::-1])
    cropped = transforms.RandomCrop((4, 3), padding=1)(image, np.random.default_rng(0))
    assert cropped.shape == (3, 4, 3)
    padded = np.pad(image.numpy(), ((0, 0), (1, 1), (1, 1)))
    windows = [padded[:, i:i + 4, j:j + 3] for i in range(5) for j in range(5)]
    assert any(np.array_equal(cropped.numpy(), w) for w in windows)  # one window, the same for every channel
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.RandomCrop(5, padding=2),
                                   transforms.RandomHorizontalFlip(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)])
    assert pipeline(picture, np.random.default_rng(1)).shape == (3, 5, 5)


def test_nn_utils_clips_as_torch():
    torch = _torch()
    grads = [np.array([3.0, 4.0]), np.array([[12.0]])]
    ours = [mg.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = mg.tensor(g), torch.tensor(g)
    _same(nn.utils.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0))
    for p, q in zip(ours, theirs):
        _same(p.grad, q.grad)


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4, 5), (4, 5)), ((3, 5), [5])])
def test_layer_norm_matches_torch(shape, normalized):
    torch = _torch()
    rng = np.random.default_rng(15)
    ours = nn.LayerNorm(normalized, eps=1e-3, dtype=np.float64)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-3).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = {k: rng.normal(size=v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    _same_with_grads(ours, theirs, [rng.normal(size=shape)], atol=1e-9)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-9)
    x = mg.tensor(rng.normal(size=shape), requires_grad=True)
    assert mg.gradgradcheck(lambda t: F.layer_norm(t, ours.normalized_shape), [x])
    with pytest.raises(ValueError, match="last dims"):
        F.layer_norm(x, (7,))


def test_forward_hooks_as_torch():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(16).normal(size=(5, 3))
    kept, outputs = {}, {}
    for model, name, make in ((ours, "ours", mg.tensor), (theirs, "theirs", torch.tensor)):
        handle = model[1].register_forward_hook(lambda m, inputs, out, name=name: kept.__setitem__(name, out))
        model[2].register_forward_hook(lambda m, inputs, out: out * 2)  # a hook that replaces the output
        model[0].register_forward_pre_hook(lambda m, inputs: (inputs[0] + 1,))  # … and one the input
        outputs[name] = model(make(x))
        handle.remove()
        kept[name + " before"] = kept[name]
        model(make(x) * 0)  # the removed hook keeps nothing from this call
        assert kept[name] is kept[name + " before"]
    _same(kept["ours"], kept["theirs"])
    _same(outputs["ours"], outputs["theirs"])
    assert len(ours[1]._forward_hooks) == 0 and len(ours[2]._forward_hooks) == 1


def test_dropout2d_drops_whole_channels():
    torch = _torch()
    x = mg.tensor(np.ones((50, 8, 3, 3)), requires_grad=True)
    layer = nn.Dropout2d(0.25, generator=np.random.default_rng(0))
    assert repr(layer) == repr(torch.nn.Dropout2d(0.25)) and repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))
    y = layer(x).numpy()
    per_map = y.reshape(400, 9)
    assert np.all((per_map == 0) | (per_map == 1 / 0.75))  # dropped or scaled …
    assert np.all(per_map.min(1) == per_map.max(1))  # … a whole map at a time
    assert 0.15 < np.mean(per_map[:, 0] == 0) < 0.35
    assert layer.eval()(x) is x
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):  # torch's 3-D reading
        assert F.dropout2d(mg.tensor(np.ones((2, 3, 3))), 0.5).shape == (2, 3, 3)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    torch = _torch()
    ours = nn.Embedding(5, 3, padding_idx=padding_idx, dtype=np.float64)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    if padding_idx is not None:
        assert not ours.weight.numpy()[padding_idx].any()  # the padding row starts at zero
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    indices = np.array([[0, 2, 4], [4, 4, 1]])
    ours(mg.tensor(indices)).sum().backward()
    theirs(torch.tensor(indices)).sum().backward()
    _same(ours.weight.grad, theirs.weight.grad)  # repeated rows add up; the padding row gets nothing
    _same(ours(mg.tensor(indices)), theirs(torch.tensor(indices)))
    with pytest.raises(IndexError, match="index 5 is out of range for 5"):
        ours(mg.tensor(np.array([5])))
    with pytest.raises(NotImplementedError, match="max_norm=1.0"):
        nn.Embedding(5, 3, max_norm=1.0)


# ---- random cases against torch ------------------------------------------------------------------------------
@given(n=st.integers(1, 4), classes=st.integers(1, 5), extra=st.lists(st.integers(1, 3), max_size=2),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]), weighted=st.booleans(), ignored=st.booleans(),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_cross_entropy_random_cases_match_torch(n, classes, extra, smoothing, weighted, ignored, reduction, seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes, *extra)) * 3
    labels = rng.integers(0, classes, size=(n, *extra))
    if ignored:
        labels.flat[0] = -100
    weight = rng.random(classes) + 0.1 if weighted else None
    with np.errstate(invalid="ignore"):  # every label ignored: 0/0, nan as in torch
        _same_with_grads(
            lambda x: F.cross_entropy(x, labels, weight=weight, reduction=reduction, label_smoothing=smoothing),
            lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(labels), reduction=reduction,
                                                        weight=None if weight is None else torch.tensor(weight),
                                                        label_smoothing=smoothing),
            [logits], atol=1e-9)


@given(size=st.tuples(st.integers(1, 9), st.integers(1, 9)), kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       stride=st.tuples(st.integers(1, 4), st.integers(1, 4)), padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(), seed=st.integers(0, 2**16))
def test_pooling_random_cases_match_torch(size, kernel, stride, padding, ceil_mode, count_include_pad, seed):
    torch = _torch()
    tf = torch.nn.functional
    padding = tuple(min(p, k // 2) for p, k in zip(padding, kernel))  # both libraries refuse more
    if any(k > n + 2 * p for k, n, p in zip(kernel, size, padding)):
        return  # the kernel does not fit: both refuse (tested elsewhere)
    x = np.random.default_rng(seed).permutation(2 * size[0] * size[1]).reshape((1, 2) + size) / 7.0  # distinct
    _same_with_grads(lambda t: F.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode),
                     lambda t: tf.max_pool2d(t, kernel, stride, padding, ceil_mode=ceil_mode), [x])
    _same_with_grads(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad),
                     lambda t: tf.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x])


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), mode=st.sampled_from(
           ["constant", "reflect", "replicate", "circular"]), data=st.data())
def test_pad_random_cases_match_torch(shape, mode, data):
    torch = _torch()
    if mode == "constant":
        dims = data.draw(st.integers(1, len(shape)))
        pad = [data.draw(st.integers(-(shape[-1 - i // 2] // 2), 3)) for i in range(2 * dims)]  # crops ≤ size
    else:
        dims = data.draw(st.integers(1, min(3, len(shape) - 1))) if len(shape) > 1 else 0
        if not dims or len(shape) > dims + 2:
            return  # PyTorch pads 1–3 dims of a (batched) input only; both refuse the rest
        most = [shape[-1 - i // 2] - (mode == "reflect") for i in range(2 * dims)]
        pad = [data.draw(st.integers(0, min(m, 3))) for m in most]
    x = np.random.default_rng(len(pad)).normal(size=shape)
    _same_with_grads(lambda t: F.pad(t, pad, mode=mode), lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x])


@given(size=st.tuples(st.integers(1, 6), st.integers(1, 6)), kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       batched=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_same_random_cases_match_torch(size, kernel, batched, seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=((2,) if batched else ()) + (3,) + size), rng.normal(size=(2, 3) + kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on even kernels' speed
        _same_with_grads(lambda a, b: F.conv2d(a, b, padding="same"),
                         lambda a, b: torch.nn.functional.conv2d(a, b, padding="same"), [x, w], atol=1e-9)


@given(n=st.integers(1, 12), batch_size=st.integers(1, 5), drop_last=st.booleans(), one_step=st.booleans())
def test_loader_batches_random_cases_match_torch(n, batch_size, drop_last, one_step):
    torch = _torch()
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensorDataset

    from minigrad.data import DataLoader, TensorDataset
    x, y = np.arange(n * 2.0).reshape(n, 2), np.arange(n) % 3
    ours = TensorDataset(x, y) if one_step else _ExampleByExample(TensorDataset(x, y))
    mine = [[f.numpy() for f in batch] for batch in DataLoader(ours, batch_size=batch_size, drop_last=drop_last)]
    theirs = _theirs_batches(TorchLoader(TorchTensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=batch_size,
                                         drop_last=drop_last))
    assert len(mine) == len(theirs)
    for batch, expected in zip(mine, theirs):
        for field, want in zip(batch, expected):
            assert field.dtype == want.dtype
            np.testing.assert_array_equal(field, want)


class _ExampleByExample:
    """A dataset with only __len__ and __getitem__(int), wrapping another."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]


def test_a_submodule_assigned_over_a_plain_attribute_is_the_one_read_back():
    # ``self.head = None`` then ``self.head = nn.Linear(...)`` used to leave ``head``
    # reading None (the plain attribute shadowed the registered module): silently wrong
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = None
            self.head = nn.Linear(2, 3)
            self.scale = None
            self.scale = nn.Parameter(mg.ones(3))

    net = Net()
    assert isinstance(net.head, nn.Linear) and isinstance(net.scale, nn.Parameter)
    assert [name for name, _ in net.named_parameters()] == ["scale", "head.weight", "head.bias"]


def test_state_dict_order_is_torchs_module_by_module():
    torch = _torch()
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Linear(2, 2), nn.BatchNorm1d(2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Linear(2, 2),
                                 torch.nn.BatchNorm1d(2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
