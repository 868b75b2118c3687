"""``lr``: the report observed that multiplying the learning rate by 100 mostly stretches
the curves. Runs the report's algorithm (eq. 10.2) and admm at lr/100 and at lr, and
plots the pool2 norm against the iteration and against lr × iteration (the "time" of
gradient flow): when the curves fall on top of each other in the second panel, a
100× learning rate only ran the same story 100× faster. Writes lr.json and lr.png.
"""
from admm.demo import prepare
from admm.experiments.common import norm_ratio, save, split_history


def add_arguments(parser):
    parser.add_argument("--factor", type=float, default=100.0, help="the learning-rate ratio compared")


def _half_life(history):
    """The first iteration at which the batch pool2 norm is below half its start (None: never)."""
    rows = history.steps
    for row in rows:
        if row["pool2_norm"] < rows[0]["pool2_norm"] / 2:
            return row["step"]
    return None


def run(args, config, out, log=None):
    import matplotlib.pyplot as plt
    prep = prepare(config)
    figure, (by_step, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    result = {"config": config, "factor": args.factor, "runs": {}}
    for i, mode in enumerate(["report", "admm"]):
        for lr, style in ((config["lr"] / args.factor, ":"), (config["lr"], "-")):
            history, diverged = split_history(dict(config, mode=mode, lr=lr), mode, prep, log)
            steps = [r["step"] for r in history.steps]
            norms = [r["pool2_norm"] / history.steps[0]["pool2_norm"] for r in history.steps]
            label = f"{mode}, lr {lr:g}"
            by_step.plot(steps, norms, style, color=f"C{i}", label=label)
            by_time.plot([lr * s for s in steps], norms, style, color=f"C{i}", label=label)
            result["runs"][label] = {"final_test_acc": history.epochs[-1]["test_acc"],
                                     "pool2_norm_ratio": norm_ratio(history),
                                     "pool2_half_life_iterations": _half_life(history),
                                     "diverged_at_iteration": diverged}
    for ax, xlabel in ((by_step, "iteration"), (by_time, "lr × iteration")):
        ax.set_xlabel(xlabel)
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_title("mean ‖pool2‖ / at the start")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return save(out, "lr", result, figure)
