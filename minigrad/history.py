"""What happened during training: per-step and per-epoch metrics, saved as CSV or
JSON and drawn as loss and accuracy curves."""
import csv
import io
import json
import math
import os

from minigrad.checkpoint import write_atomically


class History:
    """Two tables of metrics: ``steps`` (one row per optimizer step) and ``epochs``
    (one row per epoch). Each row is a dict; ``log_step``/``log_epoch`` append."""

    def __init__(self, steps=None, epochs=None):
        self.steps = list(steps or [])
        self.epochs = list(epochs or [])

    def log_step(self, **metrics):
        self.steps.append(metrics)

    def log_epoch(self, **metrics):
        self.epochs.append(metrics)

    def column(self, name, table="epochs"):
        return [row.get(name) for row in getattr(self, table)]

    def state_dict(self):
        return {"steps": self.steps, "epochs": self.epochs}

    @classmethod
    def from_state_dict(cls, state):
        return cls(state["steps"], state["epochs"])

    # every file is written whole or not at all (write_atomically): a run killed while
    # saving leaves the previous file, never half of one
    def to_json(self, path):
        write_atomically(path, json.dumps(self.state_dict(), indent=1))

    def to_csv(self, path, table="epochs"):
        rows = getattr(self, table)
        names = list(dict.fromkeys(k for row in rows for k in row))
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
        write_atomically(path, text.getvalue())

    def plot(self, path, smoothing=0.9):
        """Loss (left) and accuracy (right): raw per-step values faint, an exponential
        moving average (weight ``smoothing``) bold, per-epoch validation as markers."""
        import matplotlib
        if "MPLBACKEND" not in os.environ:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for ax, name in zip(axes, ("loss", "accuracy")):
            steps = [row["step"] for row in self.steps if name in row]
            values = [row[name] for row in self.steps if name in row]
            if values:
                ax.plot(steps, values, alpha=0.25, color="C0")
                ax.plot(steps, ema(values, smoothing), color="C0", label=f"train {name} (smoothed)")
            val = [(row["step"], row[f"val_{name}"]) for row in self.epochs if row.get(f"val_{name}") is not None]
            if val:
                ax.plot(*zip(*val), "o-", color="C1", label=f"validation {name}")
            ax.set_xlabel("step")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            if values or val:
                ax.legend()
        figure.tight_layout()
        save_figure(figure, path)
        plt.close(figure)
        return path


def save_figure(figure, path, dpi=100, format=None, **savefig_kwargs):
    """``figure.savefig(path)``, written atomically (a reader never sees half an image);
    the format is ``format``, else the suffix's. Every figure minigrad and its lessons save
    goes here."""
    image = io.BytesIO()
    figure.savefig(image, dpi=dpi, format=format or os.path.splitext(str(path))[1][1:] or "png", **savefig_kwargs)
    write_atomically(path, image.getvalue())
    return path


def ema(values, weight):
    """Exponential moving average with bias correction (as Adam's moments): the first
    points are not dragged towards 0."""
    out, average = [], 0.0
    for t, v in enumerate(values, 1):
        average = weight * average + (1 - weight) * v
        out.append(average / (1 - weight ** t) if weight > 0 else v)
    return [v if math.isfinite(v) else float("nan") for v in out]
