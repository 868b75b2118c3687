"""How a Tensor prints: PyTorch's format, character for character where we can.

``repr(t)`` is ``tensor([...])`` followed by what PyTorch adds: ``dtype=`` when the dtype
is not the default float, int64 or bool; ``device=`` off the CPU; ``size=`` for an empty
tensor that is not 1-D; ``grad_fn=<...>`` for a tensor an op made under autograd, else
``requires_grad=True`` for a leaf that wants a gradient. The numbers follow
``torch/_tensor_str.py`` (``_Formatter``, ``_vector_str``, ``get_summarized_data``):

- one width for all elements; floats with ``precision`` decimals (4), or as whole numbers
  with a dot (``1.``) when every value is whole, or in scientific notation when the
  nonzero finite magnitudes span more than 1000x, exceed 1e8 or go below 1e-4;
- above ``threshold`` elements (1000) each dim shows its first and last ``edgeitems``
  (3) entries around ``...``; rows wrap at ``linewidth`` (80) characters.

``set_printoptions`` changes these as ``torch.set_printoptions`` does.
"""
import dataclasses
import math

import numpy as np

from minigrad import backend, dtypes


@dataclasses.dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None  # None: chosen from the values; True/False forces it


PRINT_OPTS = PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """torch.set_printoptions: ``profile`` is "default", "short" (2 decimals, 2 edge items)
    or "full" (never summarise); the other arguments override one option each."""
    if profile is not None:
        if profile not in ("default", "short", "full"):
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
        PRINT_OPTS.precision = 2 if profile == "short" else 4
        PRINT_OPTS.threshold = math.inf if profile == "full" else 1000
        PRINT_OPTS.edgeitems = 2 if profile == "short" else 3
        PRINT_OPTS.linewidth = 80
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    return dataclasses.asdict(PRINT_OPTS)


class _Formatter:
    """One width and one style (fixed, whole, scientific) for every element shown."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            self.max_width = max([len(str(v)) for v in flat.tolist()], default=1)
            return
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitude = np.abs(finite).astype(np.float64)
        low, high = magnitude.min(), magnitude.max()
        self.int_mode = bool((finite == np.ceil(finite)).all())
        self.sci_mode = (high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        p = PRINT_OPTS.precision
        if self.sci_mode:
            widths = [len(f"{v:.{p}e}") for v in finite.tolist()]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in finite.tolist()]
        else:
            widths = [len(f"{v:.{p}f}") for v in finite.tolist()]
        self.max_width = max(self.max_width, *widths)

    def format(self, value):
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return " " * (self.max_width - len(text)) + text


def _summarized(a):
    """Only the elements that will be shown: the edge items of every dim."""
    k = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:k], a[-k:]]) if a.shape[0] > 2 * k else a
    if not k:
        return a[(slice(0, 0),) * a.ndim]
    rows = list(range(k)) + list(range(len(a) - k, len(a))) if a.shape[0] > 2 * k else range(len(a))
    return np.stack([_summarized(a[i]) for i in rows])


def _vector(a, indent, summarize, formatter):
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (formatter.max_width + 2)))
    k = PRINT_OPTS.edgeitems
    if summarize and not k:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * k:
        data = ([formatter.format(v) for v in a[:k].tolist()] + [" ..."]
                + [formatter.format(v) for v in a[-k:].tolist()])
    else:
        data = [formatter.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, formatter):
    if a.ndim == 0:
        return formatter.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, formatter)
    k = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * k:
        rows = ([_nested(a[i], indent + 1, summarize, formatter) for i in range(k)] + ["..."]
                + [_nested(a[i], indent + 1, summarize, formatter) for i in range(len(a) - k, len(a))])
    else:
        rows = [_nested(a[i], indent + 1, summarize, formatter) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent):
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t):
    """``repr(t)`` as PyTorch writes it (see the module's docstring)."""
    prefix = "tensor("
    indent = len(prefix)
    a = backend.to_numpy(t.array)
    suffixes = [] if t.device == "cpu" else [f"device='{t.device}'"]
    dtype, default = t.dtype, dtypes.get_default_dtype()
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype != default:
            suffixes.append(f"dtype={dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype not in (default, dtypes.int64, dtypes.bool):
            suffixes.append(f"dtype={dtype}")
        summarize = a.size > PRINT_OPTS.threshold
        formatter = _Formatter(_summarized(a) if summarize else a)
        body = _nested(a, indent, summarize, formatter)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
