"""The dual-net trainer: one CNN split at a named layer into net1 and net2, trained
alternately in one of several modes (``admm.modes``), in one process or in two MPI
ranks (``admm.transport``). Run it with ``python -m admm demo``; see docs/admm.md.

    from admm import split, caffenet
    parts = split(caffenet(), at="pool2")    # parts.trunk, parts.dual, parts.head
"""
from admm.models import caffenet, mlp
from admm.modes import ADMM, MODES, Decoupled, Frozen, Report
from admm.split import Split, split

__all__ = ["ADMM", "Decoupled", "Frozen", "MODES", "Report", "Split", "caffenet", "mlp", "split"]
