"""``admm demo``: train the single net, the split net in one mode (admm by default) and
the frozen-net1 control on the same data, budget and seed; write summary.json,
history.csv and the three plots into the output folder.

The split runs go through the chosen transport; with ``mpi`` rank 0 holds net1 and
drives, rank 1 holds net2 and answers, and rank 0 alone then trains the single net
and writes the files. With ``replicas`` R > 1 (the hybrid, ``admm.replicas``) ranks
2k and 2k+1 are replica k, each on 1/R of every batch; replica 0 reports.
"""
import datetime
import json
import os
import platform
import time

import minigrad
from minigrad.checkpoint import write_atomically
from minigrad.data import DataLoader
from minigrad.distributed import checksum
from minigrad.history import History
from admm import plots
from admm import replicas
from admm.pipeline import Schedule
from admm.session import net1_side, net2_side, single_run, weights_checksum, fresh_model
from admm.trainer import budget, load_data, merged_rows, train
from admm.transport import NET2, InProc, MPILink

# --quick: small enough for CI on a loaded machine, long enough to learn (docs/admm.md)
QUICK = {"train_limit": 2048, "test_limit": 500, "batch": 32, "epochs": 2, "lr": 0.03, "warmup": 0.1}
PIPELINED_MICRO_BATCHES = 4   # --schedule pipelined without --micro-batches (docs/admm.md, "Speed")
EVALUATIONS = 10              # test evaluations per run besides the one at the start, by default


def prepare(config):
    """Data, loaders and the iteration budget for ``config`` (its schedule checked first,
    so that every MPI rank refuses a bad one before any work)."""
    Schedule(config["schedule"], config["micro_batches"])
    train_set, test_set, labels = load_data(config["data"], config["train_limit"], config["test_limit"])
    replicas.check(config, len(train_set))
    device = config["device"]

    def loader():  # a fresh one per run: a DataLoader moves on to the next epoch's order
        return DataLoader(train_set, batch_size=config["batch"], shuffle=True, seed=config["seed"], device=device)

    test_loader = DataLoader(test_set, batch_size=500, device=device)
    iterations = budget(config["iters"], config["epochs"], len(loader()))
    eval_every = config["eval_every"] or max(1, iterations // EVALUATIONS)
    return dict(train=train_set, labels=labels, loader=loader, test_loader=test_loader,
                iterations=iterations, eval_every=eval_every, image_shape=train_set.x.shape[1:])


def split_runs(config):
    """The split runs of a demo: the chosen mode, then the frozen-net1 control."""
    return [config["mode"], "frozen"]


def run_split(config, name, prep, link, out, log):
    run = net1_side(config, name, prep, link)
    return train(run, prep["loader"](), prep["test_loader"], prep["iterations"], prep["eval_every"],
                 checkpoint=os.path.join(out, name) if out else None, log=log)


def serve_split(config, name, prep, link):
    """net2's rank: answer one split run."""
    side = net2_side(config, name, prep, link.replicas)
    link.serve(side.handle)


def summarize(config, histories, transport, seconds, cpu_seconds):
    final = {name: h.epochs[-1] for name, h in histories.items()}
    dual, frozen, single = final[config["mode"]], final["frozen"], final["single"]
    start = histories[config["mode"]].epochs[0]
    lead = single["test_acc"] - frozen["test_acc"]
    seconds_per_iteration = {name: sum(h.column("step_seconds", "steps")) / len(h.steps)
                             for name, h in histories.items()}
    dual_steps = histories[config["mode"]].steps
    net1, net2 = (sum(row[f"{half}_seconds"] for row in dual_steps) / len(dual_steps) for half in ("net1", "net2"))
    single_cpu = sum(histories["single"].column("step_cpu_seconds", "steps")) / len(histories["single"].steps)
    return {
        "single_test_acc": single["test_acc"], "dual_test_acc": dual["test_acc"],
        "frozen_net1_test_acc": frozen["test_acc"],
        "consensus_rel_error": dual["consensus_rel_error"],
        "conv3_norm_ratio": dual["conv3_norm"] / start["conv3_norm"],
        "pool2_norm_ratio": dual["test_pool2_norm"] / start["test_pool2_norm"],
        "dual_minus_single_points": 100 * (dual["test_acc"] - single["test_acc"]),
        "recovered_fraction_of_single_lead": (dual["test_acc"] - frozen["test_acc"]) / lead if lead > 0 else None,
        "mode": config["mode"], "transport": transport, "device": config["device"], "seconds": seconds,
        # this process's CPU seconds (all its threads): what the run costs whatever else the machine runs
        "cpu_seconds": cpu_seconds,
        "schedule": config["schedule"], "micro_batches": config["micro_batches"],
        # each half's CPU seconds per iteration over the single net's: the speedup bound of running
        # the halves at once is 1 / max(share); they may sum to over 1 (the dual layer runs twice)
        "stage_shares": [net1 / single_cpu, net2 / single_cpu],
        "seconds_per_iteration": seconds_per_iteration,
        "iterations": len(histories["single"].steps), "config": config,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} · {platform.machine()} · {os.cpu_count()} CPUs · {platform.platform()}",
        "minigrad_version": minigrad.__version__,
    }


def write_outputs(out, summary, histories):
    write_atomically(os.path.join(out, "summary.json"), json.dumps(summary, indent=1))
    rows = [row for name, h in histories.items() for row in merged_rows(name, h)]
    History(steps=rows).to_csv(os.path.join(out, "history.csv"), table="steps")
    plots.losses(histories, os.path.join(out, "losses.png"))
    plots.accuracy(histories, os.path.join(out, "accuracy.png"))
    plots.consensus(histories, os.path.join(out, "consensus.png"))


def run_demo(config, transport="inproc", out=None, deadline=120.0, log=None):
    """Train and compare; returns the summary dict (None on every MPI rank but 0).

    out: the output folder (None: write nothing), or a function that claims one and returns
    its path, called once the MPI ranks have agreed, so that a run refused at start-up
    leaves no folder behind."""
    started, cpu_started = time.perf_counter(), time.process_time()
    prep = prepare(config)
    histories = {}
    if transport == "mpi":
        link = MPILink(deadline=deadline, device=config["device"], replicas=config["replicas"])
        model, _ = fresh_model(config, prep["image_shape"])
        test = prep["test_loader"].dataset  # the same --data string can name different files on each rank
        data = checksum(prep["train"].x, prep["train"].y, test.x, test.y, *prep["labels"].values())
        link.handshake(dict(config, weights_checksum=weights_checksum(model), data_checksum=data,
                            minigrad=minigrad.__version__))
        out = out() if callable(out) else out
        if link.role == NET2:
            for name in split_runs(config):
                serve_split(config, name, prep, link)
            return None
        for name in split_runs(config):
            histories[name] = run_split(config, name, prep, link, out, log)
            link.close()
        if link.rank != 0:  # another replica's net1: its numbers are replica 0's
            return None
    elif transport == "inproc":
        if config["replicas"] != 1:
            raise ValueError(f"--replicas {config['replicas']} needs --transport mpi (2 ranks per replica)")
        for name in split_runs(config):
            side = net2_side(config, name, prep)
            histories[name] = run_split(config, name, prep, InProc(side.handle), out, log)
    else:
        raise ValueError(f"unknown transport {transport!r}; expected 'inproc' or 'mpi'")
    single = single_run(config, prep)
    histories["single"] = train(single, prep["loader"](), prep["test_loader"], prep["iterations"],
                                prep["eval_every"], checkpoint=os.path.join(out, "single") if out else None, log=log)
    summary = summarize(config, histories, transport, time.perf_counter() - started,
                        time.process_time() - cpu_started)
    if out:
        write_outputs(out, summary, histories)
    return summary
