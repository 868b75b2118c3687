"""The demo's figures: losses.png, accuracy.png, consensus.png (matplotlib, Agg)."""
import math
import os

from minigrad.history import ema, save_figure


def _pyplot():
    import matplotlib
    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _curve(ax, history, key, label, table="steps", smooth=None, **style):
    rows = [r for r in getattr(history, table) if r.get(key) is not None and math.isfinite(r[key])]
    if not rows:
        return
    steps, values = [r["step"] for r in rows], [r[key] for r in rows]
    if smooth:
        ax.plot(steps, values, alpha=0.2, **style)
        values = ema(values, smooth)
    ax.plot(steps, values, label=label, **style)


def _finish(figure, axes, path):
    for ax in axes:
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    _pyplot().close(figure)
    return path


def losses(histories, path):
    """Left: the cross-entropy net2 (and the single net) minimise; right: net1's own loss."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, history) in enumerate(histories.items()):
        _curve(axes[0], history, "loss_net2", name, smooth=0.9, color=f"C{i}")
        _curve(axes[1], history, "loss_net1", name, smooth=0.9, color=f"C{i}")
    axes[0].set_title("net2 (or the single net): training cross-entropy")
    axes[1].set_title("net1: its consensus objective")
    axes[0].set_ylabel("cross-entropy (smoothed)")
    axes[1].set_ylabel("net1's loss (smoothed, log scale)")
    axes[1].set_yscale("log")
    return _finish(figure, axes, path)


def accuracy(histories, path):
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(6.5, 4))
    for i, (name, history) in enumerate(histories.items()):
        _curve(ax, history, "test_acc", name, table="epochs", color=f"C{i}", marker="o")
    ax.set_title("test accuracy")
    ax.set_ylabel("fraction of test images right")
    return _finish(figure, [ax], path)


def consensus(histories, path):
    """Left: ‖conv3 − conv3′‖/‖conv3‖ on the test set; right: activation norms relative to the start."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, history) in enumerate(histories.items()):
        if name != "frozen":  # the control's dual layer never trains: its "consensus" means nothing
            _curve(axes[0], history, "consensus_rel_error", f"{name}: test conv3 vs conv3′", table="epochs",
                   color=f"C{i}", marker="o")
            _curve(axes[0], history, "residual", f"{name}: batch ‖x − target‖/‖x‖", color=f"C{i}",
                   linestyle=":")
        for key, style in (("conv3_norm", "-"), ("test_pool2_norm", "--")):
            rows = [r for r in history.epochs if r.get(key) is not None]
            if rows and rows[0][key] > 0:
                axes[1].plot([r["step"] for r in rows], [r[key] / rows[0][key] for r in rows], style,
                             color=f"C{i}", marker="o", label=f"{name}: {key.replace('test_', '')} / start")
    axes[0].set_title("consensus of the dual layers")
    axes[0].set_ylabel("relative error ‖conv3 − conv3′‖ / ‖conv3‖")
    axes[0].set_yscale("log")
    axes[1].set_title("mean activation norm on the test set, relative to the start")
    axes[1].set_ylabel("norm / norm at the start")
    axes[1].set_yscale("log")
    return _finish(figure, axes, path)
