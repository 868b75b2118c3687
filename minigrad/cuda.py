"""``minigrad.cuda``: the names of ``torch.cuda`` that a training script asks first."""
from minigrad import backend


def is_available():
    """True when CuPy is installed and sees a GPU (``device="cuda"`` will work)."""
    return backend.cuda_available()


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
