"""minigrad.models and the adaptive average pool it needs.

``F.adaptive_avg_pool2d``: gradcheck in float64 on hypothesis-drawn shapes and sizes,
values and gradients against torch. ResNet-18: the state_dict keys and shapes against
torchvision's (written out below, since torchvision itself cannot be installed beside
torch 2.13), and a torch.nn copy of torchvision's architecture whose weights load into
ours and give its outputs and gradients, in eval and in train mode. The other models:
sizes, weight counts against the published ones, errors, and that a small ResNet learns.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import models, nn, optim

# ---- adaptive average pooling ------------------------------------------------------------


@st.composite
def adaptive_cases(draw):
    """(input shape, output_size): 3-D or 4-D input, sizes that divide, do not divide,
    are larger than the input, or None (keep that size)."""
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    if draw(st.booleans()):
        shape = shape[1:]
    size = draw(st.one_of(st.integers(1, 8), st.tuples(st.one_of(st.none(), st.integers(1, 8)),
                                                       st.one_of(st.none(), st.integers(1, 8)))))
    return shape, size


@given(case=adaptive_cases(), seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_gradcheck(case, seed):
    shape, size = case
    x = mg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    assert mg.gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])


@given(case=adaptive_cases(), seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_matches_torch(case, seed):
    torch = pytest.importorskip("torch")
    shape, size = case
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(shape)
    x = mg.tensor(x_np, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, size)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.adaptive_avg_pool2d(xt, size)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(y.shape)
    y.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_adaptive_avg_pool2d_one_by_one_is_the_global_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    y = nn.AdaptiveAvgPool2d((1, 1))(mg.tensor(x))
    np.testing.assert_allclose(y.numpy(), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)


def test_adaptive_avg_pool2d_refuses_bad_sizes_and_inputs():
    x = mg.tensor(np.zeros((1, 1, 4, 4)))
    for size in (0, -1, (2,), (2, 2, 2), (2, 0), 1.5, True):
        with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size"):
            F.adaptive_avg_pool2d(x, size)
        with pytest.raises(ValueError, match="adaptive_avg_pool2d: output_size"):
            nn.AdaptiveAvgPool2d(size)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expects .* got shape minigrad.Size\(\[4, 4\]\)"):
        F.adaptive_avg_pool2d(mg.tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match="empty image"):
        F.adaptive_avg_pool2d(mg.tensor(np.zeros((1, 1, 0, 3))), 2)


# ---- ResNet-18 against torchvision ------------------------------------------------------------

# torchvision.models.resnet18().state_dict(): every convolution and linear weight with its
# shape, and every batch norm with its channel count (each holds weight, bias, running_mean,
# running_var of that size and a 0-d num_batches_tracked).
TORCHVISION_RESNET18 = """
conv1.weight 64 3 7 7 | bn1 64
layer1.0.conv1.weight 64 64 3 3 | layer1.0.bn1 64 | layer1.0.conv2.weight 64 64 3 3 | layer1.0.bn2 64
layer1.1.conv1.weight 64 64 3 3 | layer1.1.bn1 64 | layer1.1.conv2.weight 64 64 3 3 | layer1.1.bn2 64
layer2.0.conv1.weight 128 64 3 3 | layer2.0.bn1 128 | layer2.0.conv2.weight 128 128 3 3 | layer2.0.bn2 128
layer2.0.downsample.0.weight 128 64 1 1 | layer2.0.downsample.1 128
layer2.1.conv1.weight 128 128 3 3 | layer2.1.bn1 128 | layer2.1.conv2.weight 128 128 3 3 | layer2.1.bn2 128
layer3.0.conv1.weight 256 128 3 3 | layer3.0.bn1 256 | layer3.0.conv2.weight 256 256 3 3 | layer3.0.bn2 256
layer3.0.downsample.0.weight 256 128 1 1 | layer3.0.downsample.1 256
layer3.1.conv1.weight 256 256 3 3 | layer3.1.bn1 256 | layer3.1.conv2.weight 256 256 3 3 | layer3.1.bn2 256
layer4.0.conv1.weight 512 256 3 3 | layer4.0.bn1 512 | layer4.0.conv2.weight 512 512 3 3 | layer4.0.bn2 512
layer4.0.downsample.0.weight 512 256 1 1 | layer4.0.downsample.1 512
layer4.1.conv1.weight 512 512 3 3 | layer4.1.bn1 512 | layer4.1.conv2.weight 512 512 3 3 | layer4.1.bn2 512
fc.weight 1000 512 | fc.bias 1000
"""


def torchvision_keys():
    shapes = {}
    for entry in TORCHVISION_RESNET18.replace("\n", "|").split("|"):
        if not entry.strip():
            continue
        name, *sizes = entry.split()
        sizes = tuple(int(s) for s in sizes)
        if name.endswith((".weight", ".bias")):
            shapes[name] = sizes
        else:
            for field in ("weight", "bias", "running_mean", "running_var"):
                shapes[f"{name}.{field}"] = sizes
            shapes[f"{name}.num_batches_tracked"] = ()
    return shapes


def test_resnet18_has_torchvisions_state_dict_keys_and_shapes():
    expected = torchvision_keys()
    assert len(expected) == 122
    ours = {k: v.shape for k, v in models.resnet18().state_dict().items()}
    assert ours == expected
    assert sum(p.array.size for p in models.resnet18().parameters()) == 11_689_512  # torchvision's num_params


def test_resnet34_stages_and_weight_count():
    model = models.resnet34()
    keys = model.state_dict()
    assert len(keys) == 218
    assert "layer3.5.conv2.weight" in keys and "layer3.6.conv1.weight" not in keys
    assert keys["fc.weight"].shape == (1000, 512)
    assert sum(p.array.size for p in model.parameters()) == 21_797_672  # torchvision's num_params


def torch_resnet(torch, layers, num_classes):
    """torchvision's ResNet with BasicBlock, written with torch.nn (torchvision/models/resnet.py)."""
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, inplanes, planes, stride, downsample):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            inplanes = 64
            for i, (blocks, planes) in enumerate(zip(layers, (64, 128, 256, 512))):
                stride = 1 if i == 0 else 2
                downsample = None
                if stride != 1 or inplanes != planes:
                    downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                tnn.BatchNorm2d(planes))
                stage = [Block(inplanes, planes, stride, downsample)]
                stage += [Block(planes, planes, 1, None) for _ in range(1, blocks)]
                inplanes = planes
                setattr(self, f"layer{i + 1}", tnn.Sequential(*stage))
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_resnet18_loads_a_torch_state_dict_and_gives_its_outputs_and_gradients(mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = torch_resnet(torch, (2, 2, 2, 2), 10).double()
    assert {k: tuple(v.shape) for k, v in reference.state_dict().items()} == {
        **torchvision_keys(), "fc.weight": (10, 512), "fc.bias": (10,)}
    # batch norm's own state away from its start (γ = 1, β = 0, μ = 0, σ² = 1), so eval mode tests it
    with torch.no_grad():
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    ours = models.resnet18(num_classes=10).double()
    ours.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    getattr(reference, mode)()
    getattr(ours, mode)()
    # 40×40: odd map sizes on the way down (20, 10, 5, 3, 2), so the padding and strides matter
    x = np.random.default_rng(1).standard_normal((2, 3, 40, 40))
    xt = torch.tensor(x, requires_grad=True)
    yt = reference(xt)
    xm = mg.tensor(x, requires_grad=True)
    y = ours(xm)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = np.random.default_rng(2).standard_normal(y.shape)
    yt.backward(torch.tensor(g))
    y.backward(mg.tensor(g))
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    torch_params = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), rtol=1e-7, atol=1e-9,
                                   err_msg=name)
    # train mode moves the running statistics; they must move as torch's did
    after = reference.state_dict()
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, after[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_resnet_init_is_torchvisions():
    mg.manual_seed(0)
    model = models.resnet18()
    w = model.layer3[1].conv2.weight.numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std() / np.sqrt(2 / fan_out) - 1) < 0.02  # kaiming_normal_, mode fan_out, gain √2
    assert abs(w.mean()) < 0.01 * w.std()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.numpy() == 1).all() and (m.bias.numpy() == 0).all()
    assert (model.layer2[0].bn2.weight.numpy() == 1).all()
    zero = models.resnet18(zero_init_residual=True)
    assert all(block.bn2.weight.numpy().max() == 0
               for stage in (zero.layer1, zero.layer2, zero.layer3, zero.layer4) for block in stage)


def test_resnet_refuses_pretrained_weights_and_bad_shapes():
    with pytest.raises(ValueError, match="resnet18: minigrad downloads no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="same, non-zero length"):
        models.ResNet((2, 2), widths=(16, 32, 64))
    for depth in (7, 10, 2, 20.0):
        with pytest.raises(ValueError, match="resnet_cifar: depth must be 6n"):
            models.resnet_cifar(depth)


# ---- the small models -------------------------------------------------------------------------


@pytest.mark.parametrize("depth, weights", [(8, 78_042), (20, 272_474)])
def test_resnet_cifar_sizes(depth, weights):
    # He et al. table 6: 0.27 M for depth 20 on 3-channel images
    assert sum(p.array.size for p in models.resnet_cifar(depth).parameters()) == weights
    model = models.resnet_cifar(depth, num_classes=10, in_channels=1)
    convs = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and "downsample" not in name]
    assert len(convs) + 1 == depth  # 6n + 2: the stem, 2 per block, and fc
    assert model.conv1.weight.shape == (16, 1, 3, 3)
    assert model(mg.tensor(np.zeros((2, 1, 32, 32), np.float32))).shape == (2, 10)


def test_resnet_cifar_learns_a_small_batch():
    mg.manual_seed(0)
    model = models.resnet_cifar(8, num_classes=4)
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((16, 3, 12, 12)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 4, 16))
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses


@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_shapes_and_weights(size):
    model = models.lenet5(image_size=size)
    assert sum(p.array.size for p in model.parameters()) == 61_706  # LeNet-5 with a full C3 table
    x = mg.tensor(np.zeros((3, 1, size, size), np.float32))
    assert model[:3](x).shape == (3, 6, 14, 14)  # after S2
    assert model[:8](x).shape == (3, 120, 1, 1)  # C5: 120 maps of 1×1
    assert model(x).shape == (3, 10)
    with pytest.raises(ValueError, match="lenet5: image_size must be 28"):
        models.lenet5(image_size=30)


@pytest.mark.parametrize("channels, size, side", [(1, 28, 3), (3, 32, 4)])
def test_caffenet_is_the_one_admm_splits(channels, size, side):
    import admm.models
    assert admm.models.caffenet is models.caffenet  # one copy, in minigrad.models
    model, cut = admm.models.build("caffenet", (channels, size, size), 10)
    assert cut == "pool2" and model.fc.weight.shape == (10, 64 * side * side)
    assert model(mg.tensor(np.zeros((2, channels, size, size), np.float32))).shape == (2, 10)
