"""``pieces``: what each ADMM piece does, measured. admm mode with λ = 0 (the default),
a per-sample λ, a per-feature λ, and the β ← growth·β schedule, beside the frozen-net1
control, on the same data, budget and seed. A per-sample λₙ is only read when image n
comes round again, so give this at least two epochs. Writes pieces.json and pieces.png.
"""
from admm.demo import prepare
from admm.experiments.common import norm_ratio, save, split_history


def add_arguments(parser):
    parser.add_argument("--schedule-every", type=int, default=None,
                        help="iterations between β ×growth in the schedule variant (default: a fifth of the run)")


def variants(config, every):
    return [("λ = 0 (default)", "admm", {"multiplier": "none", "beta_every": 0}),
            ("λ per sample", "admm", {"multiplier": "sample", "beta_every": 0}),
            ("λ per feature", "admm", {"multiplier": "feature", "beta_every": 0}),
            (f"β ×{config['beta_growth']:g} every {every}", "admm", {"multiplier": "none", "beta_every": every}),
            ("control: net1 frozen", "frozen", {})]


def run(args, config, out, log=None):
    import matplotlib.pyplot as plt
    prep = prepare(config)
    every = args.schedule_every or max(1, prep["iterations"] // 5)
    figure, ax = plt.subplots(figsize=(6.5, 4))
    result = {"config": config, "runs": {}}
    for i, (label, mode, change) in enumerate(variants(config, every)):
        history, diverged = split_history(dict(config, mode=mode, **change), mode, prep, log)
        evaluations = history.epochs
        ax.plot([r["step"] for r in evaluations], [r["test_acc"] for r in evaluations], "o-", color=f"C{i}",
                label=label)
        last = evaluations[-1]
        result["runs"][label] = {"final_test_acc": last["test_acc"], "consensus_rel_error": last["consensus_rel_error"],
                                 "pool2_norm_ratio": norm_ratio(history), "diverged_at_iteration": diverged}
    ax.set_xlabel("iteration")
    ax.set_title("test accuracy: the ADMM pieces")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return save(out, "pieces", result, figure)
