"""Run folders, and how a command-line run reports what went wrong.

A run folder belongs to one run. ``new_run_folder`` claims it exclusively: a default
name no other run can take (timestamp, process id and a random suffix, made with
``os.mkdir``, which fails rather than share), or a folder the user names, which must be
new or empty. The claim is a marker file, ``.minigrad-run``, created with ``O_EXCL`` so
that of two runs started together exactly one gets it; the other is refused. A run writes
only into the folder it claimed, so it never writes over a user's files, and never into
another run's folder. ``reopen_run_folder`` takes back a run's own folder to resume it.
While a run works in its folder it holds an exclusive lock on the marker (``flock``,
released by the kernel when the process ends, however it ends), so a second process
cannot resume or reuse a folder whose run is still going.

``reported_errors`` turns the failures a user can cause — a taken folder, a bad
checkpoint, a loss that became NaN, a missing file, a full disk, Ctrl-C — into one line
on stderr and a non-zero exit status, instead of a traceback.
"""
import argparse
import contextlib
import fcntl
import json
import os
import re
import secrets
import sys
import time
from pathlib import Path

from minigrad.checkpoint import CheckpointError
from minigrad.train import NonFiniteLossError

MARKER = ".minigrad-run"


class RunFolderError(Exception):
    """The folder cannot be this run's: a file, a folder holding files no run wrote,
    another run's folder, or one a running process is using."""


class RunFolder:
    """A claimed run folder: ``path``, and the lock that keeps it ours until ``close()``
    (a context manager closes it on exit)."""

    def __init__(self, path, handle):
        self.path, self._handle = Path(path), handle

    def close(self):
        if self._handle is not None:
            os.close(self._handle)  # releases the lock
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _lock(handle, path):
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise RunFolderError(f"{path} is in use by a run that is still going; wait for it to "
                             f"finish or choose another folder") from None


# what ``checkpoint.write_atomically`` names its temporaries: ``.<file name>-<8 of mkstemp's
# characters>.tmp``; nothing else in a run folder is ever removed
_TEMPORARY = re.compile(r"\..+-[a-z0-9_]{8}\.tmp")


def _remove_stale_temporaries(path):
    """A run killed inside ``write_atomically`` leaves ``.<name>-XXXXXXXX.tmp`` behind; the
    folder is ours alone (claimed and locked), so every such file is a leftover."""
    for name in os.listdir(path):
        if _TEMPORARY.fullmatch(name):
            os.remove(path / name)


def new_run_folder(out=None, prefix="run", root="runs"):
    """Claim a folder for a new run and return it as a ``RunFolder``.

    out: the folder the user chose; it must not exist, or be an empty folder. None: a new
    folder ``root/<prefix>-<YYYYmmdd-HHMMSS>-<pid>-<4 hex>``. Raises ``RunFolderError``
    when ``out`` is a file, holds files, or is another run's folder."""
    if out is None:
        os.makedirs(root, exist_ok=True)
        while True:  # a name taken by a run started in the same second is never shared
            path = Path(root) / (f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-"
                                 f"{secrets.token_hex(2)}")
            try:
                os.mkdir(path)
                break
            except FileExistsError:
                continue
    else:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"{path} is a file, not a folder; give a new or empty folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        present = sorted(os.listdir(path))
        if MARKER in present:
            raise RunFolderError(f"{path} already holds a run; choose another folder")
        if present:
            shown = ", ".join(present[:3]) + (", …" if len(present) > 3 else "")
            raise RunFolderError(f"{path} holds files no minigrad run wrote ({shown}); a run "
                                 f"writes only into a new or empty folder, so choose another")
    try:
        handle = os.open(path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another run claimed it between our look and now
        raise RunFolderError(f"{path} already holds a run; choose another folder") from None
    _lock(handle, path)
    try:  # who claimed it, for a person who finds the folder later
        os.write(handle, json.dumps({"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                     "argv": sys.argv}).encode())
    except BaseException:
        os.close(handle)
        raise
    return RunFolder(path, handle)


def check_run_folder(path):
    """Raise ``RunFolderError`` unless ``path`` is a folder a run claimed (it holds the
    marker ``new_run_folder`` created). A folder that merely looks like one — a
    ``settings.json`` copied there, say — is the user's, and a run must not take it over."""
    path = Path(path)
    if not path.is_dir():
        raise RunFolderError(f"{path} is not a folder")
    if not (path / MARKER).is_file():
        raise RunFolderError(f"{path} is not a run folder: it has no {MARKER}, the mark a run leaves in the "
                             f"folder it claims; resume only a folder a run started")


def reopen_run_folder(path):
    """Take back the folder of an earlier run (to resume it) as a ``RunFolder``. Raises
    ``RunFolderError`` when it is not a run's folder (``check_run_folder``) or a live
    process still uses it. Temporaries left by a kill during a write are removed."""
    check_run_folder(path)
    path = Path(path)
    handle = os.open(path / MARKER, os.O_RDWR)
    _lock(handle, path)
    _remove_stale_temporaries(path)
    return RunFolder(path, handle)


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (argparse prints its usage
    block first): what is wrong, and where to read more. Exit status 2, as argparse."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def describe(error):
    """The one line that says what went wrong (a KeyError's text without its quotes)."""
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    if isinstance(error, OSError) and error.filename is not None and str(error.filename) not in text:
        text = f"{text} ({error.filename})"
    return text.replace("\n", " ") or type(error).__name__


# What a user can cause, and so should read as a sentence, not a traceback: anything
# else is a bug in minigrad and keeps its traceback.
EXPECTED = (CheckpointError, NonFiniteLossError, OSError, ValueError, KeyError)


@contextlib.contextmanager
def reported_errors(program):
    """Run the body of a command; an expected failure prints ``program: what happened``
    on stderr and exits 1 (2 for a run folder that cannot be used, a usage error), Ctrl-C
    prints one line and exits 130."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"\n{program}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except RunFolderError as error:
        print(f"{program}: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except EXPECTED as error:
        print(f"{program}: {describe(error)}", file=sys.stderr)
        raise SystemExit(1) from None
