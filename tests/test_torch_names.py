"""torch's names and paths that scripts use, in minigrad: ``minigrad.utils.data``,
``minigrad.nn.functional``, ``minigrad.accelerator``, ``set_default_device``,
``set_num_threads``/``get_num_threads``, ``transforms.Lambda``, ``utils.make_grid`` /
``save_image`` (torchvision's algorithm, checked against a hand-built grid: torchvision
is not a dependency), and ``models.*(weights=None)``. Compared with torch where it is
installed."""
import importlib
import io

import numpy as np
import pytest
import threadpoolctl

import minigrad as mg
from kernels import cpu_threads
from minigrad import backend, creation, models
from minigrad.data import transforms


# ---- paths ----------------------------------------------------------------------------------------
def test_utils_data_holds_the_same_objects_as_data():
    from minigrad.utils.data import DataLoader, Dataset, TensorDataset, random_split
    from minigrad.utils.data.distributed import DistributedSampler
    assert DataLoader is mg.data.DataLoader and Dataset is mg.data.Dataset
    assert TensorDataset is mg.data.TensorDataset and random_split is mg.data.random_split
    assert DistributedSampler is mg.data.DistributedSampler
    assert mg.utils.data.DataLoader is DataLoader


def test_nn_functional_is_the_functional_module():
    import minigrad.nn.functional as F
    from minigrad.nn import functional
    assert F is functional is mg.functional is importlib.import_module("minigrad.nn.functional")
    assert mg.nn.functional is mg.functional
    x = mg.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy().sum(), 1.0, rtol=1e-6)


# ---- accelerator ---------------------------------------------------------------------------------
def test_accelerator_without_a_gpu_answers_as_torch_on_a_cpu_machine(monkeypatch):
    monkeypatch.setattr(backend, "_has_gpu", False)
    answers = (mg.accelerator.is_available(), mg.accelerator.current_accelerator(), mg.accelerator.device_count())
    assert answers == (False, None, 0)
    torch = pytest.importorskip("torch")
    if not torch.accelerator.is_available():
        assert answers == (torch.accelerator.is_available(), torch.accelerator.current_accelerator(),
                           torch.accelerator.device_count())
    # the tutorials' opening line
    device = mg.accelerator.current_accelerator().type if mg.accelerator.is_available() else "cpu"
    assert device == "cpu"


def test_accelerator_with_a_gpu_is_cuda(monkeypatch):
    monkeypatch.setattr(backend, "_has_gpu", True)
    current = mg.accelerator.current_accelerator()
    assert current == "cuda" and current.type == "cuda" and mg.accelerator.device_count() == 1
    assert mg.accelerator.is_available() and mg.accelerator.current_device_index() == 0
    with pytest.raises(RuntimeError, match="one GPU"):
        mg.accelerator.set_device_index(1)


# ---- default device ------------------------------------------------------------------------------------
def test_set_default_device_cpu_and_refusal_of_a_missing_gpu():
    mg.set_default_device("cpu")
    assert mg.get_default_device() == "cpu" and mg.zeros(2).device == "cpu"
    if not backend.cuda_available():
        with pytest.raises(RuntimeError, match="'cuda' is not available"):
            mg.set_default_device("cuda")
        assert mg.get_default_device() == "cpu"
    mg.set_default_device(None)
    assert mg.get_default_device() == "cpu"


def test_default_device_reaches_creation_tensor_and_layers(monkeypatch):
    """Without a GPU here, record where new tensors are sent instead of sending them."""
    sent = []

    def to_device(array, name):
        sent.append(str(name))
        return array
    monkeypatch.setattr(backend, "to_device", to_device)
    monkeypatch.setattr(creation, "_default_device", backend.device("cuda"))
    assert mg.get_default_device() == "cuda"
    mg.zeros(2), mg.randn(3), mg.arange(4), mg.full((2,), 1.0)
    mg.tensor([1, 2]), mg.Tensor([1.0]), mg.tensor(np.ones(2))
    assert sent == ["cuda"] * 7
    sent.clear()
    mg.nn.Linear(2, 3)
    assert sent and set(sent) == {"cuda"}
    sent.clear()
    mg.zeros(2, device="cpu")
    assert sent == ["cpu"]


# ---- threads ----------------------------------------------------------------------------------
def _blas_threads():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def test_set_num_threads_drives_the_kernel_ranges_and_blas():
    before, blas_before = mg.get_num_threads(), _blas_threads()
    try:
        mg.set_num_threads(1)
        assert mg.get_num_threads() == 1 == cpu_threads.THREADS
        assert set(_blas_threads()) == {1}
        assert len(cpu_threads.ranges(10, cpu_threads.THREADS)) == 1
        mg.set_num_threads(2)
        assert mg.get_num_threads() == 2 and set(_blas_threads()) == {2}
        with cpu_threads.one_blas_thread():  # inside a range BLAS is on one thread, and back after
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {2}
    finally:
        mg.set_num_threads(before)
        for lib in cpu_threads._blas_libraries():
            lib.set_num_threads(blas_before[0])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_set_num_threads_refuses_as_torch(bad):
    with pytest.raises(RuntimeError, match="set_num_threads expects"):
        mg.set_num_threads(bad)
    torch = pytest.importorskip("torch")
    if bad is not True:  # torch takes a bool as an int
        with pytest.raises(RuntimeError, match="set_num_threads expects"):
            torch.set_num_threads(bad)


def test_get_num_threads_matches_torch_after_setting_both():
    torch = pytest.importorskip("torch")
    before, torch_before = mg.get_num_threads(), torch.get_num_threads()
    try:
        mg.set_num_threads(1)
        torch.set_num_threads(1)
        assert mg.get_num_threads() == torch.get_num_threads() == 1
    finally:
        mg.set_num_threads(before)
        torch.set_num_threads(torch_before)


# ---- transforms.Lambda ----------------------------------------------------------------------------
def test_lambda_transform_in_compose_and_the_loader():
    double = transforms.Lambda(lambda x: x * 2)
    assert repr(double) == "Lambda()" and double(3) == 6
    pipeline = transforms.Compose([transforms.RandomHorizontalFlip(p=0.0), double])
    np.testing.assert_array_equal(pipeline(np.ones((1, 1, 2, 2))), np.full((1, 1, 2, 2), 2.0))
    dataset = mg.data.ArrayDataset(np.ones((4, 1, 2, 2), np.float32), np.arange(4))
    (x, y), = list(mg.data.DataLoader(dataset, batch_size=4, transform=double))
    np.testing.assert_array_equal(x.numpy(), 2.0)
    with pytest.raises(TypeError, match="lambd should be callable"):
        transforms.Lambda(3)


# ---- make_grid / save_image ------------------------------------------------------------------------
def _expected_grid(images, nrow, padding, pad_value):
    """torchvision's documented layout built by hand: ceil(N / nrow) rows of min(nrow, N)
    cells, each image at (padding + row·(H + padding), padding + column·(W + padding))."""
    n, c, h, w = images.shape
    columns = min(nrow, n)
    rows = -(-n // columns)
    grid = np.full((c, rows * (h + padding) + padding, columns * (w + padding) + padding), pad_value,
                   images.dtype)
    for k in range(n):
        row, column = divmod(k, columns)
        y, x = padding + row * (h + padding), padding + column * (w + padding)
        grid[:, y:y + h, x:x + w] = images[k]
    return grid


def test_make_grid_layout_as_torchvision():
    images = np.arange(5 * 3 * 4 * 6, dtype=np.float32).reshape(5, 3, 4, 6) / 360
    grid = mg.utils.make_grid(mg.tensor(images), nrow=2, padding=1, pad_value=0.5)
    assert grid.shape == (3, 3 * 5 + 1, 2 * 7 + 1)
    np.testing.assert_array_equal(grid.numpy(), _expected_grid(images, 2, 1, 0.5))
    # defaults: nrow 8, padding 2, pad 0; a list of (C, H, W) is stacked
    grid = mg.utils.make_grid([mg.tensor(image) for image in images])
    np.testing.assert_array_equal(grid.numpy(), _expected_grid(images, 8, 2, 0.0))


def test_make_grid_greyscale_normalize_value_range_scale_each():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(3, 1, 2, 2)).astype(np.float32) * 4
    grey = np.concatenate([images] * 3, axis=1)
    low, high = images.min(), images.max()
    grid = mg.utils.make_grid(mg.tensor(images), normalize=True, padding=0)
    np.testing.assert_allclose(grid.numpy(), _expected_grid((grey - low) / (high - low), 8, 0, 0.0), rtol=1e-6)
    grid = mg.utils.make_grid(mg.tensor(images), normalize=True, value_range=(-1.0, 1.0), padding=0)
    np.testing.assert_allclose(grid.numpy(), _expected_grid((np.clip(grey, -1, 1) + 1) / 2, 8, 0, 0.0))
    each = np.stack([(g - g.min()) / (g.max() - g.min()) for g in grey])
    grid = mg.utils.make_grid(mg.tensor(images), normalize=True, scale_each=True, padding=0)
    np.testing.assert_allclose(grid.numpy(), _expected_grid(each, 8, 0, 0.0), rtol=1e-6, atol=1e-7)
    # one image: no frame, three channels
    single = mg.utils.make_grid(mg.tensor(images[:1]))
    np.testing.assert_array_equal(single.numpy(), grey[0])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        mg.utils.make_grid(mg.tensor(images), normalize=True, value_range=[0, 1])


def test_save_image_writes_torchvisions_bytes_as_png(tmp_path):
    import matplotlib.image
    rng = np.random.default_rng(1)
    images = rng.random((4, 3, 5, 5)).astype(np.float32)
    path = tmp_path / "grid.png"
    mg.utils.save_image(mg.tensor(images), path, nrow=2, padding=1)
    expected = np.clip(_expected_grid(images, 2, 1, 0.0) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    written = matplotlib.image.imread(path)  # PNG comes back as floats k / 255
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(np.round(written[..., :3] * 255).astype(np.uint8), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]  # written atomically: no temporary left
    buffer = io.BytesIO()
    mg.utils.save_image(mg.tensor(images[0]), buffer)
    assert buffer.getvalue()[:4] == b"\x89PNG"


# ---- models: weights=None / pretrained=False ------------------------------------------------------------
@pytest.mark.parametrize("build", [models.resnet18, models.resnet34, models.lenet5, models.caffenet,
                                   models.resnet_cifar])
def test_models_accept_no_weights_and_refuse_pretrained(build):
    build(weights=None, pretrained=False)  # (a resnet34 takes seconds to build: once)
    if build in (models.resnet18, models.resnet34):
        with pytest.raises(TypeError):
            build(weights=None, nonsense=1)  # other keywords still go to the network, and are checked there
    for asked in ({"weights": "IMAGENET1K_V1"}, {"pretrained": True}, {"weights": "DEFAULT"}):
        with pytest.raises(ValueError, match="pretrained weights are not available"):
            build(**asked)
