"""The start-up handshake: before any work, every rank of a job shows the others what must
be the same everywhere — its settings, a checksum of its data, its model's structure,
the world size it expects — and the job goes on only if they all agree.

Collectives match by order, not by meaning: ranks started with different flags (an
MPMD line, a stale script on one machine) or that read different files behind the same
``--data`` path would train together without a word, and a rank that expects another
layout of sub-groups would wait in ``MPI_Comm_split`` for ever. So each rank gathers
every rank's values in one exchange (two ``all_gather``s, bounded by the start-up
deadline: a rank that never comes makes it fail, never hang) and compares them itself.
Every rank sees the same table, so every rank finds the same disagreement and can stop
cleanly with the same message; nobody is left waiting.

A rank that already failed before the handshake (its data missing, say) takes part all
the same, with its one-line reason instead of values, so that the job ends at once with
one message saying which ranks failed and why.
"""
import pickle

import numpy as np

from minigrad.distributed.collectives import all_gather
from minigrad.distributed.group import DistributedError, group


class MismatchError(DistributedError):
    """The ranks disagree on something that must be the same on every rank (every rank
    raises it, with the same message)."""


class PeerFailedError(DistributedError):
    """A rank failed before the handshake (every rank raises it, with the same message);
    ``code`` is the exit status that rank chose."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _exchange(payload, timeout):
    """Every rank's bytes ``payload`` (a NumPy uint8 array), in rank order."""
    g = group()
    lengths = [np.zeros(1, np.int64) for _ in range(g.size)]
    all_gather(lengths, np.array([payload.size], np.int64), async_op=True).wait(timeout)
    longest = max(int(n[0]) for n in lengths)  # every rank sends as many bytes: pad to the longest
    gathered = [np.zeros(longest, np.uint8) for _ in range(g.size)]
    all_gather(gathered, np.pad(payload, (0, longest - payload.size)), async_op=True).wait(timeout)
    return [padded[:int(n[0])].tobytes() for padded, n in zip(gathered, lengths)]


_MISSING = object()  # a name one rank sent and another did not


def _who(ranks):
    return f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks))


def _by_value(pairs):
    """``(rank, value)`` pairs as [(value, [ranks holding it])], in order of first appearance."""
    groups = []
    for rank, value in pairs:
        for held, ranks in groups:
            if held == value:
                ranks.append(rank)
                break
        else:
            groups.append((value, [rank]))
    return groups


def differences(tables):
    """One phrase per name on which the ``tables`` (one dict per rank) differ, e.g.
    ``"--seed: rank 0 has 0, rank 1 has 1"``; empty when they all agree."""
    names = list(dict.fromkeys(name for table in tables for name in table))
    phrases = []
    for name in names:
        groups = _by_value(enumerate(table.get(name, _MISSING) for table in tables))
        if len(groups) > 1:
            phrases.append(f"{name}: " + ", ".join(
                f"{_who(ranks)} {'has' if len(ranks) == 1 else 'have'} {'nothing' if value is _MISSING else repr(value)}"
                for value, ranks in groups))
    return phrases


def agree(values, failure=None, timeout=None):
    """Gather ``values`` (a dict of picklable plain values, keyed by how a user should read
    the name: ``"--seed"``, ``"data checksum"``) from every rank and check they are equal.

    failure: this rank's one-line reason and exit status ``(message, code)`` when it failed
        before the handshake; ``values`` is then ignored.
    timeout: seconds the exchange may take; default the start-up deadline of
        ``init_process_group`` (the ranks arrive at their own pace).
    Returns the list of every rank's ``values``. Raises, on every rank alike,
    ``PeerFailedError`` when any rank failed (naming the ranks and their reasons),
    ``MismatchError`` naming each value that differs and which ranks hold what, or
    ``DistTimeoutError`` when a rank never arrives.
    """
    g = group()
    mine = {"failed": failure} if failure is not None else {"values": dict(values)}
    payload = np.frombuffer(pickle.dumps(mine), np.uint8)
    # pickles from the ranks of this very job
    everyone = [pickle.loads(raw) for raw in _exchange(payload, g.startup_timeout if timeout is None else timeout)]
    failed = [(rank, entry["failed"]) for rank, entry in enumerate(everyone) if "failed" in entry]
    if failed:
        reasons = _by_value((rank, message) for rank, (message, _) in failed)
        raise PeerFailedError("; ".join(f"{_who(ranks)}: {message}" for message, ranks in reasons), failed[0][1][1])
    tables = [entry["values"] for entry in everyone]
    phrases = differences(tables)
    if phrases:
        raise MismatchError("the ranks were started with different settings or data; start every rank with "
                            "the same command on the same files. " + "; ".join(phrases))
    return tables
