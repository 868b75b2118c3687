"""``minigrad.cuda``: the names of ``torch.cuda`` that a training script asks first."""
from minigrad import backend


def is_available():
    """True when CuPy is installed and sees a GPU (``device="cuda"`` will work)."""
    return backend.cuda_available()


def manual_seed(seed):
    """torch.cuda.manual_seed: minigrad has no separate GPU generator — random numbers for GPU
    tensors are drawn on the CPU by the default generator and moved, so ``minigrad.manual_seed``
    already makes them reproducible. This only checks ``seed`` as torch does (``int(seed)``)
    and changes nothing (torch too ignores it where CUDA is not available)."""
    int(seed)


def manual_seed_all(seed):
    """torch.cuda.manual_seed_all: as ``manual_seed`` (minigrad drives one GPU)."""
    int(seed)


def empty_cache():
    """Give the GPU memory CuPy's pool holds but no array uses back to the driver, as
    torch.cuda.empty_cache does for its caching allocator; nothing to do without a GPU."""
    if backend.cuda_available():
        backend.cupy.get_default_memory_pool().free_all_blocks()


def device_count():
    """How many GPUs minigrad can use: 1 or 0 (it drives one GPU)."""
    return int(backend.cuda_available())


DEVICE_CHOICES = ("cpu", "cuda", "auto")


def choose_device(name="auto"):
    """The device a command-line job runs on: ``"cpu"``, ``"cuda"`` (a RuntimeError saying
    why when there is no GPU) or ``"auto"``: the GPU when ``is_available()``, else the CPU."""
    if name == "auto":
        return backend.device("cuda" if is_available() else "cpu")
    return backend.check_device(name)


def describe_device(device):
    """One line naming the device a job chose, for its first line of output."""
    if device != "cuda":
        return "device: cpu"
    props = backend.cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return f"device: cuda ({name})"
