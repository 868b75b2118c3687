"""``cost``: what each place to cut the network costs, measured on this machine.

Each layer's forward and backward time (the median of ``--repeats`` runs at the
configured batch, on random data; CPU seconds of this process, ``time.process_time``, so
that other programs on a shared machine do not inflate them — with one thread per rank,
as the speed measurements run, that is the work each layer costs) and the bytes of its output; then, for every layer
the network can be cut after, the two halves' shares of a training step's compute and
of its accounted memory (``memory.py``, as ``batch`` counts it: admm mode's halves, net1
with its dual layer and the received target, whatever ``--mode`` says), the bytes the link carries per iteration, and
the speedup bound of running the halves at the same time:

    bound = 1 / max(share₁, share₂)            (Amdahl's law for two stages)

With M micro-batches in the pipelined order, the two stages are both busy only between
the first and the last micro-batch: one mini-batch takes (M − 1)·max(a, b) + a + b with
a, b = the stages' times per micro-batch, so the bound for M is M(a + b) / that
(the pipeline "bubble" of GPipe, Huang et al., NeurIPS 2019) — 1/max(share) as M → ∞.

What each half computes depends on the mode: net1 always runs the layers up to the cut;
in ``admm`` (and ``report``) mode it also runs its dual copy of the next layer, forward
and backward; net2's first layer computes the gradient of its input only in
``decoupled`` mode, where it is sent back.
"""
import statistics
import time

import numpy as np

import minigrad.functional as F
from minigrad.tensor import Tensor
from admm.experiments.batch import account, step_losses
from admm.experiments.common import save
from admm.modes import MODES
from admm.session import fresh_model
from admm.split import split

GIB = 2 ** 30


def add_arguments(parser):
    parser.add_argument("--mode", default="admm", choices=["admm", "report", "decoupled", "frozen"],
                        help="what each half computes (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per layer; the median is kept (default 5)")
    parser.add_argument("--image-shape", default=None,
                        help="C,H,W of random input images (default: the data's, 1,28,28 or 3,32,32 for cifar10)")


def _median_seconds(action, repeats):
    action()  # the first call compiles kernels and sizes buffers: not timed
    times = []
    for _ in range(repeats):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return statistics.median(times)


def layer_costs(model, image_shape, batch, repeats, seed=0):
    """One row per layer: name, forward and backward seconds (backward with and without the
    gradient of its input), output shape and bytes. The input of each layer is the real
    activation of the previous one (a fresh leaf), so every layer is timed alone."""
    rng = np.random.default_rng(seed)
    x = Tensor(rng.random((batch,) + tuple(image_shape), dtype=np.float32))
    rows = []
    for index, (name, layer) in enumerate(model.named_children()):
        def forward():
            return layer(x)

        out = forward()
        g = Tensor(rng.standard_normal(out.shape).astype(out.dtype))

        def backward(input_grad):
            x.requires_grad_(input_grad)
            y = layer(x)
            started = time.process_time()
            y.backward(g)
            elapsed = time.process_time() - started
            x.grad = None
            for p in layer.parameters():
                p.grad = None
            return elapsed

        def timed_backward(input_grad):
            backward(input_grad)
            return statistics.median(backward(input_grad) for _ in range(repeats))

        has_weights = bool(list(layer.parameters()))
        with_input = timed_backward(True)
        # the first layer never needs the gradient of the images; a layer without weights has
        # no other work in its backward
        without_input = timed_backward(False) if has_weights else 0.0
        x.requires_grad_(False)
        rows.append({"layer": name, "forward_s": _median_seconds(forward, repeats),
                     "backward_s": without_input if index == 0 else with_input,
                     "backward_weights_only_s": without_input,
                     "output_shape": list(out.shape[1:]), "output_bytes": int(out.array.nbytes)})
        x = Tensor(out.array)
    loss_s = _median_seconds(lambda: F.cross_entropy(x, np.arange(batch) % x.shape[1]), repeats)
    rows.append({"layer": "loss", "forward_s": loss_s, "backward_s": 0.0, "backward_weights_only_s": 0.0,
                 "output_shape": [], "output_bytes": 4})
    return rows


def cuts(model):
    """The layers ``split`` can cut after (the next layer has weights), in order."""
    names = model.names()
    found = []
    for name in names[:-1]:
        try:
            split(model, name)
        except ValueError:
            continue
        found.append(name)
    return found


def stage_seconds(rows, cut, mode):
    """(net1, net2) seconds of one training step split after ``cut`` in ``mode``."""
    names = [r["layer"] for r in rows]
    k = names.index(cut) + 1
    total = lambda r: r["forward_s"] + r["backward_s"]  # noqa: E731
    first_after = rows[k]
    net1 = sum(total(r) for r in rows[:k])
    if MODES[mode].uses_dual:   # net1's copy of the next layer: forward, backward into the cut
        net1 += total(first_after)
    net2 = first_after["forward_s"] + (first_after["backward_s"] if MODES[mode].needs_pool2_grad
                                       else first_after["backward_weights_only_s"])
    net2 += sum(total(r) for r in rows[k + 1:])
    return net1, net2


def pipelined_bound(single, net1, net2, micro_batches):
    """Speedup over the single net (step time ``single``) of two stages taking ``net1`` and
    ``net2`` per mini-batch, pipelined over M micro-batches (see the module docstring)."""
    a, b = net1 / micro_batches, net2 / micro_batches
    return single / ((micro_batches - 1) * max(a, b) + a + b)


def bytes_sent(rows, cut, mode, batch):
    """Bytes on the link per iteration: the cut's activations and the sample indices to
    net2, and back what the mode replies (∂ℓ/∂cut, or a target shaped like the dual layer's output)."""
    names = [r["layer"] for r in rows]
    k = names.index(cut)
    forward = rows[k]["output_bytes"] + 8 * batch
    reply = {"decoupled": rows[k]["output_bytes"], "admm": rows[k + 1]["output_bytes"],
             "report": rows[k + 1]["output_bytes"], "frozen": 0}[mode]
    return forward + reply


def run(args, config, out, log=None):
    import matplotlib.pyplot as plt
    from kernels.cpu_threads import THREADS
    if args.image_shape:
        image_shape = tuple(int(v) for v in args.image_shape.split(","))
    else:
        image_shape = (3, 32, 32) if config["data"].startswith("cifar10") else (1, 28, 28)
    batch, mode = config["batch"], config["mode"]
    model, default_cut = fresh_model(config, image_shape)
    rows = layer_costs(model, image_shape, batch, args.repeats, config["seed"])
    step = sum(r["forward_s"] + r["backward_s"] for r in rows)
    result = {"config": config, "image_shape": list(image_shape), "batch": batch, "mode": mode,
              "cpu_threads": THREADS, "layers": rows, "single_step_s": step, "default_cut": default_cut,
              "cuts": {}}
    for cut in cuts(model):
        net1, net2 = stage_seconds(rows, cut, mode)
        parts, _, _ = account(step_losses(config, image_shape, cut), cap=GIB)
        memory = [parts[h]["bytes_per_sample"] * batch + parts[h]["fixed_bytes"] for h in ("net1", "net2")]
        shares = [net1 / step, net2 / step]
        result["cuts"][cut] = {
            "net1_s": net1, "net2_s": net2, "compute_shares": shares,
            "memory_bytes": memory, "memory_shares": [m / sum(memory) for m in memory],
            "bytes_sent_per_iteration": bytes_sent(rows, cut, mode, batch),
            "speedup_bound": 1 / max(shares),
            "pipelined_bound": {m: pipelined_bound(step, net1, net2, m) for m in (2, 4, 8)},
        }
    if log:
        log(f"  one training step at batch {batch}, {THREADS} CPU thread(s), mode {mode}, "
            f"images {image_shape}: {1000 * step:.1f} ms")
        log(f"  {'layer':10} {'forward ms':>10} {'backward ms':>11} {'output bytes':>13}")
        for r in rows:
            log(f"  {r['layer']:10} {1000 * r['forward_s']:10.2f} {1000 * r['backward_s']:11.2f} "
                f"{r['output_bytes']:13,}")
        log(f"  {'cut':8} {'compute net1/net2':>18} {'memory net1/net2':>17} {'sent/iter':>11} "
            f"{'bound':>6} {'M=2':>5} {'M=4':>5} {'M=8':>5}")
        for cut, c in result["cuts"].items():
            mark = " (default)" if cut == default_cut else ""
            log(f"  {cut:8} {100 * c['compute_shares'][0]:8.0f}% /{100 * c['compute_shares'][1]:4.0f}%"
                f"    {100 * c['memory_shares'][0]:7.0f}% /{100 * c['memory_shares'][1]:4.0f}%"
                f" {c['bytes_sent_per_iteration'] / 1e6:8.2f} MB {c['speedup_bound']:6.2f}"
                + "".join(f" {c['pipelined_bound'][m]:5.2f}" for m in (2, 4, 8)) + mark)
    figure, (time_ax, share_ax) = plt.subplots(1, 2, figsize=(11, 4))
    names = [r["layer"] for r in rows]
    time_ax.bar(names, [1000 * r["forward_s"] for r in rows], label="forward")
    time_ax.bar(names, [1000 * r["backward_s"] for r in rows], bottom=[1000 * r["forward_s"] for r in rows],
                label="backward")
    time_ax.set_ylabel("ms")
    time_ax.set_title(f"each layer at batch {batch}, {THREADS} thread(s)")
    time_ax.tick_params(axis="x", rotation=60)
    time_ax.legend(fontsize=8)
    cut_names = list(result["cuts"])
    share_ax.plot(cut_names, [result["cuts"][c]["compute_shares"][0] for c in cut_names], "o-",
                  label="net1's share of compute")
    share_ax.plot(cut_names, [result["cuts"][c]["memory_shares"][0] for c in cut_names], "s--",
                  label="net1's share of memory")
    share_ax.plot(cut_names, [result["cuts"][c]["speedup_bound"] - 1 for c in cut_names], "^:",
                  label="speedup bound − 1")
    share_ax.axhline(0.5, color="k", linewidth=0.5)
    share_ax.set_title(f"where to cut ({mode} mode)")
    share_ax.set_xlabel("cut after")
    for ax in (time_ax, share_ax):
        ax.grid(alpha=0.3)
    share_ax.legend(fontsize=8)
    figure.tight_layout()
    result["cuts"] = {cut: dict(c, pipelined_bound={str(m): v for m, v in c["pipelined_bound"].items()})
                      for cut, c in result["cuts"].items()}
    return save(out, "cost", result, figure)
