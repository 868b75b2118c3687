"""torchvision.utils' ``make_grid`` and ``save_image``: a batch of images tiled into one
picture, and that picture written to a file.

    grid = make_grid(images, nrow=8, padding=2, normalize=True)   # (3, H', W')
    save_image(images, "samples.png", nrow=8)

The algorithm is torchvision's (``torchvision/utils.py``), step for step: greyscale
becomes three equal channels, ``normalize`` clamps to ``value_range`` (default: the
tensor's own min and max, per image with ``scale_each``) and maps it to [0, 1], then the
images go row by row into a grid ``nrow`` wide, each in a frame of ``padding`` pixels
of ``pad_value``. ``save_image`` scales [0, 1] to bytes as torchvision does
(``x · 255 + 0.5``, clamped, truncated) and writes the image with matplotlib (no PIL
import of ours), atomically for a path. The grid is computed on the host and carries
no gradient.
"""
import io
import math
import os

import numpy as np

from minigrad import backend
from minigrad.checkpoint import write_atomically
from minigrad.tensor import Tensor


def _as_batch(tensor):
    """A Tensor, array, or list of (C, H, W) images → a float NumPy batch (N, C, H, W) and its device."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
        device = tensor[0].device if isinstance(tensor[0], Tensor) else "cpu"
        array = np.stack([backend.to_numpy(t.array if isinstance(t, Tensor) else t) for t in tensor])
    elif isinstance(tensor, Tensor):
        device, array = tensor.device, backend.to_numpy(tensor.array)
    else:
        raise TypeError(f"make_grid: expected a Tensor or a list of Tensors, got {type(tensor).__name__}")
    if array.ndim == 2:  # one (H, W) image
        array = array[None]
    if array.ndim == 3:  # one (C, H, W) image
        array = np.concatenate([array] * 3) if array.shape[0] == 1 else array
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images (N, C, H, W), (C, H, W) or (H, W), got shape {array.shape}")
    if array.shape[1] == 1:  # greyscale → three equal channels
        array = np.concatenate([array] * 3, axis=1)
    return array, device


def _normalized(array, value_range):
    """Clamp to [low, high] and map it to [0, 1]; (low, high) from the data when not given."""
    low, high = (float(array.min()), float(array.max())) if value_range is None else value_range
    return (np.clip(array, low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile images into one: (N, C, H, W) (or a list of (C, H, W)) → (C', rows·(H + p) + p,
    min(nrow, N)·(W + p) + p) with p = ``padding`` and rows = ⌈N / nrow⌉; C' is 3 for
    greyscale input. A single image comes back alone, without padding (as torchvision).

    normalize: map ``value_range`` (low, high) — by default the min and max of the whole
        batch, or of each image with ``scale_each`` — to [0, 1], clamping outside it.
    pad_value: the value of the frame between and around the images."""
    if value_range is not None and not (isinstance(value_range, tuple) and len(value_range) == 2):
        raise TypeError(f"make_grid: value_range has to be a tuple (min, max) if specified, got {value_range!r}")
    array, device = _as_batch(tensor)
    if normalize:
        array = np.stack([_normalized(image, value_range) for image in array]) if scale_each \
            else _normalized(array, value_range)
    if array.shape[0] == 1:
        return Tensor(array[0], device=device)
    count, channels, h, w = array.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value, dtype=array.dtype)
    for k in range(count):
        top, left = (k // columns) * cell_h + padding, (k % columns) * cell_w + padding
        grid[:, top:top + h, left:left + w] = array[k]
    return Tensor(grid, device=device)


def save_image(tensor, fp, format=None, **kwargs):
    """Write ``make_grid(tensor, **kwargs)`` as an image: values in [0, 1] become bytes
    (``x · 255 + 0.5``, clamped to [0, 255]). fp: a path (written atomically; the format
    from its extension, png by default) or a binary file object (``format`` then names
    it, png by default)."""
    import matplotlib.image  # imported here: only saving images needs matplotlib

    grid = backend.to_numpy(make_grid(tensor, **kwargs).array)
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    if format is None:
        extension = os.path.splitext(os.fspath(fp))[1].lstrip(".").lower() if isinstance(fp, (str, os.PathLike)) \
            else ""
        format = extension or "png"
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, pixels, format=format)
    if isinstance(fp, (str, os.PathLike)):
        write_atomically(fp, buffer.getvalue())
    else:
        fp.write(buffer.getvalue())
