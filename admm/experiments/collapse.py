"""``collapse``: the report's algorithm (eq. 10.2 and eq. 10.3) beside admm mode, on the
same data, budget and seed. Plots the mean pool2 activation norm per iteration and the
test accuracy; writes collapse.json and collapse.png.

What to expect: with eq. 10.2, net1's only objective — agree with conv3′ — is won by
pool2 → 0 (both dual layers then output their biases), and net2, seeing a constant,
predicts one class (chance accuracy). Eq. 10.3 divides by the activations' energy: the
loss stays bounded, its gradient does not, and it blows up. admm carries ∂loss/∂conv3′
down in its target, so pool2 keeps its scale and accuracy rises.
"""
from admm.demo import prepare
from admm.experiments.common import norm_ratio, save, split_history

RUNS = [("report, eq. 10.2", "report", "10.2"), ("report, eq. 10.3", "report", "10.3"), ("admm", "admm", None)]


def add_arguments(parser):
    pass


def run(args, config, out, log=None):
    import matplotlib.pyplot as plt
    prep = prepare(config)
    figure, (norm_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    result = {"config": config, "runs": {}}
    for i, (label, mode, loss) in enumerate(RUNS):
        run_config = dict(config, mode=mode, report_loss=loss or config["report_loss"])
        history, diverged = split_history(run_config, mode, prep, log)
        norms = [(r["step"], r["pool2_norm"]) for r in history.steps]
        accuracy = [(r["step"], r["test_acc"]) for r in history.epochs]
        if norms:
            norm_ax.plot(*zip(*[(s, v / norms[0][1]) for s, v in norms]), color=f"C{i}", label=label)
        acc_ax.plot(*zip(*accuracy), "o-", color=f"C{i}", label=label)
        result["runs"][label] = {"final_test_acc": accuracy[-1][1], "pool2_norm_ratio": norm_ratio(history),
                                 "diverged_at_iteration": diverged,
                                 "conv3_norm_ratio": history.epochs[-1]["conv3_norm"] / history.epochs[0]["conv3_norm"]}
    norm_ax.set_yscale("log")
    norm_ax.set_title("mean ‖pool2‖ per training batch / at the start")
    acc_ax.set_title("test accuracy (net1 up to pool2, then net2)")
    for ax in (norm_ax, acc_ax):
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return save(out, "collapse", result, figure)
