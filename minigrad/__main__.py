"""`python -m minigrad`: the main job — train an MLP on the MNIST digits shipped inside
minigrad (no download) and report its test accuracy.

    python -m minigrad                          # 15 epochs: ≥ 97 % test accuracy in well under a minute
    python -m minigrad --quick                  # seconds: a small subset, 3 epochs (what the tests run)
    python -m minigrad --resume runs/mlp-…/     # finish an interrupted run from its checkpoint
    python -m minigrad --data fashion-mnist     # the harder shipped set (no 97 % bar there)
    python -m minigrad --arch caffenet          # the report's CNN instead of the MLP (slower, more to share)
    mpiexec -n 2 python -m mpi4py -m minigrad   # data-parallel on two MPI ranks (minigrad.distributed)

Every piece is the training toolkit: ``minigrad.data.load`` and a seeded, shuffled
``DataLoader`` whose transform shifts each digit by up to 2 pixels (``RandomCrop`` with
padding) and standardises it with the training images' statistics (``Normalize``), a
784-256-256-10 ReLU MLP with dropout, ``optim.Adam`` with a cosine learning-rate
schedule, and ``minigrad.train.fit``. The validation split is carved out of the training
images; the test images are looked at once, at the end. The run folder (new or empty, and
claimed by this run alone: ``minigrad.runs``) gets

    settings.json   the settings of the run (read back by --resume)
    checkpoint.npz  model, optimizer, schedule, data order and random state, after every epoch
    history.json    per-step and per-epoch metrics;  history.csv: the per-epoch table
    history.png     loss and accuracy curves (training smoothed, validation per epoch)
    summary.json    test loss and accuracy, image counts, timings
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

import minigrad
import minigrad.functional as F
from minigrad import distributed as dist
from minigrad import models, nn, optim, runs
from minigrad.checkpoint import write_atomically
from minigrad.data import (ArrayDataset, Compose, DataLoader, Normalize, RandomCrop, channel_stats,
                           load, stratified_indices)
from minigrad.distributed.launch import Job
from minigrad.host_memory import keep_freed_memory
from minigrad.train import evaluate, fit

# The full run and the --quick one (sizes a test can afford); each command-line option
# given replaces its entry. On 2 CPU cores the full run takes 10-20 s and reaches 97.9-98.3 %
# test accuracy on the shipped MNIST (seeds 0-3).
FULL = dict(data="mnist", arch="mlp", epochs=15, hidden=256, lr=2e-3, batch_size=128, dropout=0.2, seed=0,
            validation_per_class=200, train_images=None, test_images=None)
QUICK = dict(FULL, epochs=3, hidden=128, validation_per_class=50, train_images=4000, test_images=1000)
OPTIONS = ("data", "arch", "epochs", "hidden", "lr", "batch_size", "dropout", "seed")
ARCHS = ("mlp", "caffenet")
FILES = ("settings.json", "checkpoint.npz", "history.json", "history.csv", "history.png", "summary.json")


def mlp(inputs, hidden, classes, dropout):
    """Flatten → [Linear → ReLU → Dropout] × 2 → Linear: logits ``(N, classes)``."""
    return nn.Sequential(nn.Flatten(),
                         nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, classes))


def network(settings, image_shape, classes):
    """The model a run trains: the MLP, or (``arch="caffenet"``) the report's CNN that
    ``admm`` splits, whose convolutions give data parallelism more work per byte shared."""
    if settings["arch"] == "caffenet":
        return models.caffenet(num_classes=classes, in_channels=image_shape[0], image_size=image_shape[1])
    return mlp(int(np.prod(image_shape)), settings["hidden"], classes, settings["dropout"])


def describe_network(settings, image_shape, classes):
    if settings["arch"] == "caffenet":
        return f"CaffeNet-style CNN ({'×'.join(map(str, image_shape))} → {classes})"
    hidden = settings["hidden"]
    return f"{int(np.prod(image_shape))}-{hidden}-{hidden}-{classes} MLP"


def subset(dataset, indices):
    return ArrayDataset(dataset.x[indices], dataset.y[indices], dataset.classes)


def split(settings):
    """(train, validation, test) datasets of images ``(N, C, H, W)`` in [0, 1].
    ``validation_per_class`` images of each class leave the training set for validation,
    chosen with the run's seed (so a resumed run gets the same split)."""
    train, test = load(settings["data"])
    generator = np.random.default_rng(settings["seed"])
    held_out = stratified_indices(train.y, settings["validation_per_class"], generator)
    kept = generator.permutation(np.setdiff1d(np.arange(len(train)), held_out))
    if settings["train_images"] is not None:
        kept = kept[:settings["train_images"]]
    if settings["test_images"] is not None:
        test = subset(test, np.arange(min(settings["test_images"], len(test))))
    return subset(train, kept), subset(train, held_out), test


def parse(argv):
    parser = runs.OneLineParser(prog="python -m minigrad", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="run folder, new or empty (default: a new runs/mlp-<timestamp>-<pid>-<random>/)")
    parser.add_argument("--resume", metavar="DIR",
                        help="finish the run in DIR (after Ctrl-C, say) from its last checkpoint, "
                             "with its own settings")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['train_images']} training images and {QUICK['epochs']} epochs, "
                             f"for tests (seconds)")
    parser.add_argument("--data", help="mnist (default), fashion-mnist, mnist:DIR, fashion-mnist:DIR, "
                                       "cifar10:DIR")
    parser.add_argument("--arch", choices=ARCHS, help="mlp (default) or caffenet (the report's CNN; "
                                                      "--hidden and --dropout apply to the MLP only)")
    parser.add_argument("--epochs", type=int, help=f"default {FULL['epochs']}")
    parser.add_argument("--hidden", type=int, help=f"units per hidden layer (default {FULL['hidden']})")
    parser.add_argument("--lr", type=float, help=f"Adam's learning rate (default {FULL['lr']})")
    parser.add_argument("--batch-size", type=int, help=f"default {FULL['batch_size']}")
    parser.add_argument("--dropout", type=float, help=f"default {FULL['dropout']}")
    parser.add_argument("--seed", type=int, help=f"default {FULL['seed']}")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--device", choices=minigrad.cuda.DEVICE_CHOICES, default="auto",
                        help="cpu, cuda, or auto (default): the GPU when minigrad.cuda.is_available(); "
                             "not a setting of the run, so --resume may continue on another device")
    return parser, parser.parse_args(argv)


def _integer(value, least):
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# each setting: (is the value valid, what is expected) — for the command line and for a
# settings.json read back by --resume, which a user may have edited
RULES = {"data": (lambda v: isinstance(v, str) and v != "", "a dataset name"),
         "arch": (lambda v: v in ARCHS, " or ".join(ARCHS)),
         "epochs": (lambda v: _integer(v, 1), "an integer >= 1"),
         "hidden": (lambda v: _integer(v, 1), "an integer >= 1"),
         "lr": (lambda v: _number(v) and v > 0, "a finite number > 0"),
         "batch_size": (lambda v: _integer(v, 1), "an integer >= 1"),
         "dropout": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
         "seed": (lambda v: _integer(v, 0), "an integer >= 0"),
         "validation_per_class": (lambda v: _integer(v, 1), "an integer >= 1"),
         "train_images": (lambda v: v is None or _integer(v, 1), "null or an integer >= 1"),
         "test_images": (lambda v: v is None or _integer(v, 1), "null or an integer >= 1")}


def _problems(settings):
    """(name, what is expected) for every setting that is missing or invalid."""
    return [(name, expected) for name, (valid, expected) in RULES.items()
            if name not in settings or not valid(settings[name])]


def settings_of(parser, args):
    """The run's folder (None: a new default one) and settings: read back from the folder
    for --resume, else the defaults with the command line's options. Changes nothing on
    disk; a problem is a usage error naming the option or the settings.json key."""
    given = [name for name in OPTIONS if getattr(args, name) is not None]
    if args.resume:
        extra = ["--out"] * bool(args.out) + ["--quick"] * args.quick + ["--" + n.replace("_", "-") for n in given]
        if extra:
            parser.error(f"--resume DIR continues the run in DIR with its own settings; drop {', '.join(extra)}")
        out = Path(args.resume)
        path = out / "settings.json"
        try:  # a folder no run claimed is the user's, whatever it holds
            runs.check_run_folder(out)
        except runs.RunFolderError as error:
            parser.error(f"--resume {error}")
        if not path.exists():
            parser.error(f"--resume {out}: its run stopped before it wrote settings.json, so there is "
                         f"nothing to resume; delete the folder or start a run in another")
        try:
            settings = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--resume {out}: cannot read its settings.json ({error})")
        if not isinstance(settings, dict):
            parser.error(f"--resume {out}: {path} holds a {type(settings).__name__}, not the settings of a run")
        settings.setdefault("arch", "mlp")  # runs started before --arch existed trained the MLP
        for name, expected in _problems(settings):
            parser.error(f"--resume {out}: {path} has {name}={settings.get(name, '(missing)')!r}; "
                         f"expected {expected} (was it edited?)")
        return out, settings
    out = Path(args.out) if args.out else None
    if out is not None and ((out / runs.MARKER).exists() or (out / "checkpoint.npz").exists()):
        parser.error(f"{out} already holds a run; finish it with --resume {out} or choose another --out")
    settings = dict(QUICK if args.quick else FULL)
    settings.update({name: getattr(args, name) for name in given})
    for name, expected in _problems(settings):
        parser.error(f"--{name.replace('_', '-')} {settings[name]}: expected {expected}")
    return out, settings


def agreed_facts(args, settings, datasets):
    """What every rank of a data-parallel job must share, for the start-up handshake
    (``minigrad.distributed.agree``): its command line, a checksum of the data it loaded
    (the same ``--data`` path can name different files on different machines) and the
    structure of the network it builds."""
    given = {"--" + name.replace("_", "-"): getattr(args, name) for name in ("out", "resume", "quick", *OPTIONS)}
    train, validation, test = datasets
    model = network(settings, train.x.shape[1:], int(train.y.max()) + 1)
    return dict(given, **{"data checksum": dist.checksum(train.x, train.y, validation.x, validation.y, test.x, test.y),
                          "model structure": dist.structure(model)})


def main(argv=None):
    parser, args = parse(argv)
    keep_freed_memory()  # a training program: reuse its steps' pages (minigrad/host_memory.py)
    try:
        device = minigrad.cuda.choose_device(args.device)
    except RuntimeError as error:
        parser.exit(1, f"python -m minigrad: {error}; run with --device cpu\n")
    job = Job()  # one process, or data-parallel under mpiexec (see minigrad/distributed/launch.py)
    with job.ending("python -m minigrad"):
        return _main(job, parser, args, device)


def _main(job, parser, args, device):
    def decide():  # rank 0's: everything that can be checked before the data and the folder
        out, settings = settings_of(parser, args)
        problem = job.batch_problem(settings["batch_size"])
        if problem:
            where = f"--resume {out}: its batch_size" if args.resume else "--batch-size"
            parser.error(f"{where} {settings['batch_size']}: {problem}; use a batch of at least {job.size}")
        return out, settings

    out, settings = job.from_main(decide)
    started = time.perf_counter()
    try:  # before the folder is claimed, so that a wrong --data leaves no run behind
        datasets = job.agree(lambda: split(settings), lambda datasets: agreed_facts(args, settings, datasets))
    except KeyboardInterrupt:
        print("\ninterrupted while loading the data; nothing was written", file=sys.stderr)
        raise SystemExit(130) from None
    claimed = []  # rank 0 alone claims (and later writes) the folder; every rank learns its path

    def claim():
        try:
            claimed.append(runs.reopen_run_folder(out) if args.resume else runs.new_run_folder(out, prefix=settings["arch"]))
        except runs.RunFolderError as error:
            parser.error(str(error))
        return claimed[0].path

    path = job.from_main(claim)
    with claimed[0] if claimed else contextlib.nullcontext():
        if job.is_main and not args.resume:  # a resumed run keeps the settings.json it was started with
            write_atomically(path / "settings.json", json.dumps(settings, indent=1))
        try:
            return train_and_test(job, path, settings, datasets, started, resume=bool(args.resume),
                                  progress=not args.no_progress and job.is_main, device=device)
        except KeyboardInterrupt:
            # say only what is true: a checkpoint exists only after the first epoch
            if (path / "checkpoint.npz").exists():
                told = "the checkpoint of the last finished epoch is in"
            else:
                told = "no epoch had finished, so there is no checkpoint yet (the settings are) in"
            print(f"\ninterrupted; {told} {path}{os.sep}: continue with  "
                  f"python -m minigrad --resume {path}", file=sys.stderr)
            raise SystemExit(130) from None


def train_and_test(job, out, settings, datasets, started, resume, progress, device="cpu"):
    """Train on ``datasets`` (``split``'s three) in the claimed folder ``out`` (resuming
    from its checkpoint if ``resume``), test, and write the history, plot and summary
    there; returns the summary (``seconds`` counted from ``started``). Under MPI every
    rank trains its share of each batch (``job``) and only rank 0 writes; the others
    return None. ``device``: where the model and batches live ("cpu" or "cuda")."""
    if job.is_main:
        print(minigrad.cuda.describe_device(device), flush=True)
    minigrad.manual_seed(settings["seed"])
    train, validation, test = datasets
    # statistics of the training images only: nothing about the test set leaks into training
    normalize = Normalize(*channel_stats(train.x))
    augment = Compose([RandomCrop(train.x.shape[2:], padding=2), normalize])
    train_loader = DataLoader(train, **job.loader_options(train, settings["batch_size"], settings["seed"]),
                              transform=augment, device=device)
    validation_loader = DataLoader(validation, 1000, transform=normalize, device=device)
    test_loader = DataLoader(test, 1000, transform=normalize, device=device)

    classes = int(train.y.max()) + 1
    model = job.wrap(network(settings, train.x.shape[1:], classes).to(device))
    optimizer = optim.Adam(model.parameters(), lr=settings["lr"])
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    if job.is_main:
        print(f"training a {describe_network(settings, train.x.shape[1:], classes)} "
              f"on {settings['data']}: {len(train)} training, {len(validation)} validation, "
              f"{len(test)} test images; {settings['epochs']} epochs -> {out}/", flush=True)
    history = fit(model, optimizer, F.cross_entropy, train_loader, settings["epochs"],
                  val_loader=validation_loader, scheduler=scheduler,
                  checkpoint=job.checkpoint(str(out / "checkpoint.npz"), resume, train_loader), resume=resume,
                  progress=progress)
    test_loss, test_accuracy = evaluate(model, test_loader, F.cross_entropy)
    seconds = time.perf_counter() - started
    if not job.is_main:
        return None
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    history.plot(out / "history.png")
    summary = {"test_accuracy": test_accuracy, "test_loss": test_loss, "test_images": len(test),
               "epochs": len(history.epochs), "seconds": seconds,
               "training_seconds": sum(row["seconds"] for row in history.epochs),
               "final_validation_accuracy": history.epochs[-1].get("val_accuracy") if history.epochs else None}
    write_atomically(out / "summary.json", json.dumps(summary, indent=1))
    print(f"test accuracy {test_accuracy:.4f} ({round(test_accuracy * len(test))}/{len(test)}) "
          f"after {summary['epochs']} epochs; {seconds:.1f} s in all")
    print(f"saved {', '.join(FILES)} in {out}{os.sep}")
    return summary


if __name__ == "__main__":
    with runs.reported_errors("python -m minigrad"):
        main(sys.argv[1:])
