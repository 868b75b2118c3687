"""Helpers for the tests that hold minigrad beside PyTorch: PyTorch itself (those tests
skip without it), and "raises what torch raises" for calls written once for both
libraries (``call(m)`` with ``m`` minigrad or torch)."""
import pytest

import minigrad as mg


def torch_or_skip():
    return pytest.importorskip("torch")


def raises_as_torch(call):
    """``call(torch)`` raises, and ``call(minigrad)`` raises the same exception class."""
    torch = torch_or_skip()
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type):
        call(mg)
