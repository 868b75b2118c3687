"""The command line: ``python -m admm SUBCOMMAND`` or ``minigrad-admm SUBCOMMAND``.

    minigrad-admm demo [--quick] [--mode admm|report|decoupled] [--transport inproc|mpi] ...
    mpiexec -n 2 python -m mpi4py -m admm demo --transport mpi
    mpiexec -n 4 python -m mpi4py -m admm demo --transport mpi --replicas 2   (split × data parallelism)
    minigrad-admm collapse | batch | lr      (the experiments; see admm/experiments/)
"""
import argparse
import contextlib
import json
import sys

from minigrad.distributed import launched_rank_and_size
from minigrad.host_memory import keep_freed_memory
from minigrad.runs import EXPECTED, OneLineParser, RunFolderError, describe, new_run_folder
from admm.session import DEFAULTS, configure
from admm.trainer import printer
from admm.transport import ConfigurationError, TransportError


def _common(parser):
    d = DEFAULTS
    parser.add_argument("--data", default=d["data"],
                        help="mnist | fashion-mnist[:DIR] | mnist:DIR | cifar10:DIR (default: the embedded "
                             "Fashion-MNIST)")
    parser.add_argument("--arch", default=d["arch"], choices=["caffenet", "mlp"],
                        help="caffenet: the report's CNN (default); mlp: a small stand-in that runs in seconds")
    parser.add_argument("--at", default=None, help="the layer to split after (default: pool2, relu2 for mlp)")
    parser.add_argument("--device", default="auto", choices=["cpu", "cuda", "auto"],
                        help="auto (default): the GPU when minigrad.cuda.is_available(), else the CPU")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"passes over the training set (default {d['epochs']})")
    parser.add_argument("--iters", type=int, default=None, help="iterations (overrides --epochs)")
    parser.add_argument("--batch", type=int, default=None, help=f"batch size (default {d['batch']})")
    parser.add_argument("--lr", type=float, default=None,
                        help=f"SGD's peak learning rate, both halves (default {d['lr']})")
    parser.add_argument("--momentum", type=float, default=d["momentum"], help="default %(default)s")
    parser.add_argument("--nesterov", default=d["nesterov"], action=argparse.BooleanOptionalAction,
                        help="Nesterov momentum (default: on)")
    parser.add_argument("--lr-schedule", default=d["lr_schedule"], choices=["cosine", "constant"],
                        help="after the warm-up: cosine down to 0 at the last iteration, or constant "
                             "(default %(default)s)")
    parser.add_argument("--warmup", type=float, default=None,
                        help=f"linear warm-up from lr/10, as a fraction of the iterations (default {d['warmup']})")
    parser.add_argument("--schedule", default=d["schedule"], choices=["sequential", "pipelined"],
                        help="the order of a split iteration's micro-batches: sequential (the report's) or "
                             "pipelined (net1 runs one micro-batch ahead of net2; see docs/admm.md)")
    parser.add_argument("--micro-batches", type=int, default=None,
                        help=f"micro-batches per mini-batch; each half still updates once per mini-batch "
                             f"(default {d['micro_batches']}, 4 with --schedule pipelined)")
    parser.add_argument("--seed", type=int, default=d["seed"],
                        help="initial weights and data order (default %(default)s)")
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--test-limit", type=int, default=None, help="use only the first N test images")
    parser.add_argument("--eval-every", type=int, default=None, help="iterations between test evaluations")
    parser.add_argument("--quick", action="store_true",
                        help="a small run for CI and a first look (see admm/demo.py's QUICK)")
    parser.add_argument("--out", default=None, help="output folder, new or empty (default: a new runs/<command>-<timestamp>-…/)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def _admm_options(parser):
    d = DEFAULTS
    parser.add_argument("--report-loss", default=d["report_loss"], choices=["10.2", "10.3"],
                        help="report mode's consensus loss: eq. 10.2 (Euclidean) or 10.3 (normalised)")
    parser.add_argument("--beta", type=float, default=d["beta"], help="ADMM penalty β (default %(default)s)")
    parser.add_argument("--eta", type=float, default=d["eta"],
                        help="step η of net2's z-step (default %(default)s; only βη reaches net1)")
    parser.add_argument("--multiplier", default=d["multiplier"], choices=["none", "sample", "feature"],
                        help="the Lagrange multiplier λ: none (λ = 0), per sample, or per feature")
    parser.add_argument("--beta-growth", type=float, default=d["beta_growth"], help="default %(default)s")
    parser.add_argument("--beta-every", type=int, default=d["beta_every"],
                        help="multiply β by --beta-growth every N iterations (default 0: never)")
    parser.add_argument("--beta-max", type=float, default=d["beta_max"],
                        help="cap of the schedule (default %(default)s)")


def parser():
    top = OneLineParser(prog="minigrad-admm", description="The dual-net ADMM trainer of minigrad.")
    commands = top.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="single vs split vs frozen-net1 control; summary.json and plots")
    _common(demo)
    _admm_options(demo)
    demo.add_argument("--mode", default=DEFAULTS["mode"], choices=["admm", "report", "decoupled"])
    demo.add_argument("--transport", default="inproc", choices=["inproc", "mpi"])
    demo.add_argument("--replicas", type=int, default=None,
                      help="mpi: copies of the split, 2 ranks each (net1 on the even rank, net2 on the odd), "
                           "each on 1/R of every batch, gradients averaged across copies (default 1)")
    demo.add_argument("--deadline", type=float, default=120.0,
                      help="mpi: seconds a rank waits for the other before aborting (default %(default)s)")
    from admm.experiments import EXPERIMENTS
    for name, (module, text) in EXPERIMENTS.items():
        sub = commands.add_parser(name, help=text)
        _common(sub)
        _admm_options(sub)
        module.add_arguments(sub)
    return top


def config_from(args):
    """The run's settings: the options given, else --quick's sizes (with --quick), else DEFAULTS."""
    from admm.demo import PIPELINED_MICRO_BATCHES, QUICK
    given = {k: getattr(args, k) for k in set(DEFAULTS) & set(vars(args)) if getattr(args, k) is not None}
    if args.quick:
        given = dict({k: v for k, v in QUICK.items() if not (k == "epochs" and args.iters is not None)}, **given)
    if given.get("schedule") == "pipelined" and "micro_batches" not in given:
        given["micro_batches"] = PIPELINED_MICRO_BATCHES
    return configure(**given)


def _claim(args):
    """The run's folder, claimed for this run alone (``minigrad.runs``): ``--out`` must be
    new or empty; the default ``runs/<command>-<timestamp>-<pid>-<random>`` is new."""
    return new_run_folder(args.out, prefix=args.command)


def _print_summary(summary, out):
    print(f"single (backprop)        test accuracy {100 * summary['single_test_acc']:.2f}%")
    print(f"{summary['mode']:<24} test accuracy {100 * summary['dual_test_acc']:.2f}%   "
          f"({summary['transport']} transport)")
    print(f"control (net1 frozen)    test accuracy {100 * summary['frozen_net1_test_acc']:.2f}%")
    recovered = summary["recovered_fraction_of_single_lead"]
    print(f"conv3 norm ratio {summary['conv3_norm_ratio']:.3g}, consensus error {summary['consensus_rel_error']:.3g}, "
          f"recovered {'n/a' if recovered is None else f'{100 * recovered:.0f}%'} of single's lead over the control, "
          f"{summary['seconds']:.0f} s ({summary['cpu_seconds']:.0f} s of CPU)")
    print(f"wrote {out}/summary.json, history.csv, losses.png, accuracy.png, consensus.png")


def _demo(args, config):
    from admm.demo import run_demo
    log = printer(not args.quiet)
    if args.transport == "mpi":
        return _demo_mpi(args, config, log)
    rank, size = launched_rank_and_size()
    if size > 1:  # e.g. an MPMD line that gave this rank another transport: refuse, never train alone
        print(f"minigrad-admm: this process is rank {rank} of {size} started by mpiexec, but --transport "
              f"inproc trains alone; give every rank --transport mpi", file=sys.stderr)
        return 2
    with _claim(args) as run:
        summary = run_demo(config, "inproc", str(run.path), log=log)
    _print_summary(summary, run.path)
    return 0


def _demo_mpi(args, config, log):
    """On any error, one rank prints it and aborts both, so neither waits for ever."""
    from admm.demo import run_demo
    from minigrad import distributed as dist
    try:  # MPI start-up bounded too: a rank that never joins ends the job with a message
        dist.init_process_group("mpi", timeout=args.deadline, startup_timeout=max(args.deadline, 60.0))
    except ImportError as error:
        print(f"minigrad-admm: --transport mpi: {error}", file=sys.stderr)
        return 2
    rank = dist.get_rank()
    claimed = []  # rank 0 claims the folder, after the handshake; the others write only where its messages say

    def claim():
        claimed.append(_claim(args))
        return str(claimed[0].path)
    try:
        try:
            summary = run_demo(config, "mpi", claim if rank == 0 else None, deadline=args.deadline,
                               log=log if rank == 0 else None)
        finally:
            for run in claimed:
                run.close()
        out = claimed[0].path if claimed else None
    except ConfigurationError as error:  # every rank saw it: stop cleanly, so no output is lost
        if rank == 0:
            print(f"minigrad-admm: {error}", file=sys.stderr, flush=True)
        # `python -m mpi4py` turns a non-zero exit into MPI_Abort, which could kill rank 0
        # before its message is out: every rank waits here until rank 0 has printed
        with contextlib.suppress(dist.DistributedError):
            dist.barrier()
        return 2
    except BaseException as error:  # noqa: BLE001 - report, then take the other rank down with us
        interrupted = isinstance(error, KeyboardInterrupt)
        told = ("interrupted" if interrupted else describe(error) if isinstance(error, (*EXPECTED, RunFolderError))
                else f"{type(error).__name__}: {error}")
        print(f"minigrad-admm [rank {rank}]: {told}", file=sys.stderr, flush=True)
        code = 130 if interrupted else 2 if isinstance(error, RunFolderError) else 1  # 2: a usage error, as inproc
        dist.abort(code)
        # seen with Ctrl-C to mpiexec: both ranks abort at once and one MPI_Abort returns
        return code
    if summary is not None:
        _print_summary(summary, out)
    return 0


def main(argv=None):
    args = parser().parse_args(argv)
    keep_freed_memory()  # a training program: reuse its steps' pages (minigrad/host_memory.py)
    import minigrad.cuda
    try:
        args.device = str(minigrad.cuda.choose_device(args.device))
    except RuntimeError as error:
        print(f"minigrad-admm {args.command}: {error}; run with --device cpu", file=sys.stderr)
        return 1
    if launched_rank_and_size()[0] == 0:  # one line for the job, not one per rank
        print(minigrad.cuda.describe_device(args.device), flush=True)
    config = config_from(args)
    try:
        if args.command == "demo":
            return _demo(args, config)
        from admm.experiments import EXPERIMENTS
        with _claim(args) as run:
            result = EXPERIMENTS[args.command][0].run(args, config, str(run.path), printer(not args.quiet))
        print(json.dumps(result, indent=1))
        return 0
    except KeyboardInterrupt:
        print(f"\nminigrad-admm {args.command}: interrupted", file=sys.stderr)
        return 130
    except RunFolderError as error:  # a usage error: the folder given cannot be this run's
        print(f"minigrad-admm {args.command}: {error}", file=sys.stderr)
        return 2
    except (*EXPECTED, TransportError) as error:
        print(f"minigrad-admm {args.command}: {describe(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
