"""The stand-in's ledger: every host↔device copy, scalar read, implicit sync and
refused conversion, counted by the line of project code that asked for it.

Kinds:
  ``h2d``     a host array copied to the device (``cupy.asarray(numpy_array)``, an index
              or assigned value given as a NumPy array or list)
  ``d2h``     a device array copied to the host (``cupy.asnumpy``, ``.get()``, ``.tolist()``,
              printing)
  ``scalar``  one number read back to Python (``float()``, ``int()``, ``bool()``, ``.item()``,
              ``format()``): the host waits for the GPU
  ``sync``    an operation whose output size depends on the data (a boolean mask,
              ``nonzero``, ``unique``): CuPy reads a count back, the host waits
  ``refused`` an implicit conversion CuPy refuses (``numpy.asarray(device_array)``, a NumPy
              function or ufunc on a device array, a NumPy array where CuPy wants its own)

``counts()`` returns ``{kind: {site: n}}``; ``reset()`` empties it. With
``CUPY_STANDIN_COUNTS=<folder>`` in the environment each process writes its ledger to
``<folder>/counts-<pid>.json`` at exit, so a test can read what a subprocess did.
"""
import atexit
import collections
import json
import os
import sys

KINDS = ("h2d", "d2h", "scalar", "sync", "refused")
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/standin
ROOT = os.path.dirname(os.path.dirname(_HERE))  # the repository
_ledger = {kind: collections.Counter() for kind in KINDS}
# frames in these files pass a request on; the line that asked is further out
_PASS_THROUGH = (os.path.join("minigrad", "backend.py"),)


def _site():
    frame = sys._getframe(2)
    while frame is not None:
        name = os.path.abspath(frame.f_code.co_filename)
        if not name.startswith(_HERE) and not name.endswith(_PASS_THROUGH) \
                and "numpy" + os.sep not in name:
            shown = os.path.relpath(name, ROOT) if name.startswith(ROOT) else name
            return f"{shown}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def record(kind):
    _ledger[kind][_site()] += 1


def refuse(message):
    """Count a refused conversion and raise CuPy's TypeError."""
    record("refused")
    raise TypeError(message)


def counts():
    """``{kind: {site: n}}`` for every kind (an empty dict where nothing happened)."""
    return {kind: dict(sites) for kind, sites in _ledger.items()}


def totals():
    return {kind: sum(sites.values()) for kind, sites in _ledger.items()}


def reset():
    for sites in _ledger.values():
        sites.clear()


@atexit.register
def _dump():
    folder = os.environ.get("CUPY_STANDIN_COUNTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"counts-{os.getpid()}.json"), "w") as f:
            json.dump(counts(), f, indent=1, sort_keys=True)
