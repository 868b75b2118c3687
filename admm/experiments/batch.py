"""``batch``: how big a batch fits under a memory cap (default 6 GiB, the report's GTX
Titan) for the single net and for the dual net, whose two halves each have a device of
their own. Memory is accounted on the CPU (``memory.py``) at two small batches and is
linear in the batch; with ``--device cuda`` the largest batch is also found by running
real steps under CuPy's memory-pool limit. The dual net fits the largest batch that
*both* halves fit. Writes batch.json and batch.png; the JSON also gives the ratio for
every other place the network could be cut, since it depends on where the cut falls.

With ``--micro-batches M`` (M > 1) it also gives the largest batches when each half holds
only some of the M micro-batches at a time (``admm/pipeline.py``): one in the sequential
order, and in the pipelined 1F1B order two for net1 (it runs one micro-batch ahead) and
one for net2. The single net is given the same chance (gradient accumulation over M
micro-batches, one held), so the ratio compares like with like.
"""
import numpy as np

import minigrad.functional as F
from minigrad import backend
from minigrad.tensor import Tensor
from admm.experiments.common import save
from admm.experiments.memory import largest_batch, largest_batch_on_gpu, linear_fit, step_bytes
from admm.losses import augmented_lagrangian
from admm.models import build
from admm.session import fresh_model
from admm.split import split

GIB = 2 ** 30


def add_arguments(parser):
    parser.add_argument("--cap-gib", type=float, default=6.0, help="memory per device, GiB (default 6)")


def _random(shape, device, seed=0):
    data = np.random.default_rng(seed).random(shape, dtype=np.float32)
    return Tensor(backend.to_device(data, device))


def step_losses(config, image_shape, cut):
    """{part: function(batch) → (loss, modules)} for "single", "net1" and "net2": the
    forward pass of one training step of each, on random data."""
    model, _ = fresh_model(config, image_shape)
    parts = split(model, cut)
    device = config["device"]
    labels = lambda b: np.arange(b) % 10  # noqa: E731

    def single(b):
        return F.cross_entropy(model(_random((b,) + tuple(image_shape), device)), labels(b)), [model]

    def net1(b):  # admm mode: the x-step's augmented Lagrangian against a received target
        x3 = parts.dual(parts.trunk(_random((b,) + tuple(image_shape), device)))
        return augmented_lagrangian(x3, _random(x3.shape, device, 1), None, config["beta"]), [parts.trunk, parts.dual]

    def net2(b):
        with_input = _random((b,) + tuple(cut_shape), device)
        with_input.requires_grad_(False)
        return F.cross_entropy(parts.head(with_input), labels(b)), [parts.head]

    cut_shape = parts.trunk(_random((1,) + tuple(image_shape), device)).shape[1:]
    return {"single": single, "net1": net1, "net2": net2}


def held_micro_batches(schedule, micro_batches):
    """{part: micro-batches whose activations a part holds at once} for M micro-batches."""
    if micro_batches == 1:
        return {"single": 1, "net1": 1, "net2": 1}
    return {"single": 1, "net1": 2 if schedule == "pipelined" else 1, "net2": 1}


def micro_batched(parts, cap, micro_batches, held):
    """The largest batch of each part when it holds ``held[part]`` of ``micro_batches``
    micro-batches at once (activations scale with the micro-batch, the fixed bytes do not)."""
    return {part: largest_batch(numbers["bytes_per_sample"] * held[part] / micro_batches,
                                numbers["fixed_bytes"], cap) for part, numbers in parts.items()}


def account(losses, cap, batches=(4, 8)):
    """Per part: bytes per sample, fixed bytes, largest batch under ``cap``."""
    result = {}
    for part, forward in losses.items():
        measured = {}
        for b in batches:
            loss, modules = forward(b)
            measured[b] = step_bytes(loss, modules)
        per_sample, fixed = linear_fit(measured)
        result[part] = {"bytes_per_sample": per_sample, "fixed_bytes": fixed,
                        "largest_batch": largest_batch(per_sample, fixed, cap)}
    single = result["single"]["largest_batch"]
    dual = min(result["net1"]["largest_batch"], result["net2"]["largest_batch"])
    return result, single, dual


def _gpu_largest(losses, cap):
    def trainer(forward):
        def step(b):
            loss, _ = forward(b)
            loss.backward()
        return step
    return {part: largest_batch_on_gpu(trainer(forward), cap) for part, forward in losses.items()}


def run(args, config, out, log=None):
    import matplotlib.pyplot as plt
    cap = args.cap_gib * GIB
    image_shape = (3, 32, 32) if config["data"].startswith("cifar10") else (1, 28, 28)
    cut = config["at"] or build(config["arch"], image_shape)[1]
    parts, single, dual = account(step_losses(config, image_shape, cut), cap)
    result = {"config": config, "cap_gib": args.cap_gib, "cut": cut, "parts": parts,
              "single_largest_batch": single, "dual_largest_batch": dual,
              "dual_over_single": dual / single if single else None, "method": "accounted live arrays (CPU)"}
    by_cut = {}
    for name in build(config["arch"], image_shape)[0].names():
        try:
            _, s, d = account(step_losses(config, image_shape, name), cap)
        except ValueError:
            continue  # not a place the network can be cut
        by_cut[name] = {"dual_largest_batch": d, "dual_over_single": d / s if s else None}
    result["by_cut"] = by_cut
    m = config["micro_batches"]
    if m > 1:
        result["micro_batches"] = m
        for schedule in ("sequential", "pipelined"):
            fits = micro_batched(parts, cap, m, held_micro_batches(schedule, m))
            dual_fits = min(fits["net1"], fits["net2"])
            result[schedule] = {"largest_batch": fits, "dual_over_single": dual_fits / max(fits["single"], 1)}
            if log:
                log(f"  {schedule}, {m} micro-batches: single fits {fits['single']}, dual fits {dual_fits} "
                    f"(×{dual_fits / max(fits['single'], 1):.2f})")
    if config["device"] == "cuda":
        measured = _gpu_largest(step_losses(config, image_shape, cut), cap)
        result["gpu_largest_batch"] = measured
        result["gpu_dual_over_single"] = min(measured["net1"], measured["net2"]) / max(measured["single"], 1)
    if log:
        log(f"  single fits {single}, dual fits {dual} (×{result['dual_over_single']:.2f}) under {args.cap_gib:g} GiB")
    figure, ax = plt.subplots(figsize=(6.5, 4))
    top = 2 * max(single, dual, 1)
    batches = np.linspace(1, top, 50)
    for i, (part, numbers) in enumerate(parts.items()):
        ax.plot(batches, (numbers["fixed_bytes"] + numbers["bytes_per_sample"] * batches) / GIB,
                color=f"C{i}", label=f"{part}: fits {numbers['largest_batch']}")
    ax.axhline(args.cap_gib, color="k", linestyle="--", label=f"cap {args.cap_gib:g} GiB")
    ax.set_xlabel("batch size")
    ax.set_ylabel("GiB held by one training step")
    ax.set_title(f"split at {cut}: dual fits {dual}, single {single}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return save(out, "batch", result, figure)
