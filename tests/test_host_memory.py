"""minigrad.host_memory.keep_freed_memory: after it, arrays freed and allocated again
reuse the process's pages (no page faults); before it, glibc gives them back and maps
them anew every time.
Each case runs in a fresh interpreter, since the setting lasts for the process."""
import contextlib
import importlib
import platform
import subprocess
import sys

import pytest

import minigrad.cuda

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the setting is glibc's; elsewhere keep_freed_memory() returns False")

PROGRAM = """
import resource, sys
import numpy as np
from minigrad.host_memory import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else None
faults = []
for _ in range(5):  # a step's pattern: arrays made, used, all freed; again next step
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(8 << 20, np.uint8) for _ in range(8)]  # 64 MB: 16,384 pages of 4 KB
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del arrays
print(applied, *faults)
"""


def faults(mode):
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True).stdout
    applied, *counts = out.split()
    return applied, [int(c) for c in counts]


@glibc_only
def test_freed_memory_is_reused_after_keep_freed_memory():
    applied, counts = faults("keep")
    assert applied == "True"
    # the first time the pages are new (fewer than 16,384 faults where the kernel maps
    # transparent huge pages); then the same pages come back
    assert counts[0] >= 1000 and max(counts[1:]) < 100, counts


@glibc_only
def test_without_it_glibc_maps_large_arrays_anew():
    # the default this module exists for: had glibc's behaviour changed, the test above
    # would prove nothing
    _, counts = faults("default")
    assert min(counts) >= 1000, counts


@pytest.mark.parametrize("program, argv", [("minigrad.__main__", ["--quick"]), ("admm.cli", ["demo", "--quick"])])
def test_the_training_programs_keep_freed_memory_first(program, argv, monkeypatch, capsys):
    """Both programs call it before anything else allocates (stopped right after, where
    they choose the device)."""
    module = importlib.import_module(program)
    calls = []
    monkeypatch.setattr(module, "keep_freed_memory", lambda: calls.append("kept"))

    def no_device(name):
        calls.append("device")
        raise RuntimeError("no device in this test")
    monkeypatch.setattr(minigrad.cuda, "choose_device", no_device)
    with contextlib.suppress(SystemExit):
        module.main(argv)
    assert calls == ["kept", "device"]
