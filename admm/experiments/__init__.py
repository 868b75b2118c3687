"""The experiments, one module each, each a ``minigrad-admm`` subcommand writing a plot
and a JSON: ``collapse`` (the report's failure and its fix), ``batch`` (memory per half
and the largest batch under a cap), ``lr`` (what a 100× learning rate does), ``pieces``
(λ and the β schedule, measured), ``cost`` (each layer's time and bytes; every cut's
shares, traffic and speedup bound)."""
from admm.experiments import batch, collapse, cost, lr, pieces

EXPERIMENTS = {
    "collapse": (collapse, "report mode (eq. 10.2, 10.3) vs admm: activation norms and accuracy"),
    "batch": (batch, "peak memory of the single net and of each half; largest batch under a cap"),
    "lr": (lr, "the report's algorithm at lr and 100·lr: the curves stretch"),
    "pieces": (pieces, "admm with λ = 0, λ per sample, λ per feature, a β schedule, and the control"),
    "cost": (cost, "each layer's time and bytes; for every cut: compute and memory shares, traffic, speedup bound"),
}
