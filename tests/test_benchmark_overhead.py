"""benchmarks/overhead.py: the smoke run (--quick) and the history it keeps. Only the shape
of what it prints and writes is checked, never a timing (CI machines differ)."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "overhead.py"


def _overhead():
    spec = importlib.util.spec_from_file_location("benchmark_overhead", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_measures_every_row():
    pytest.importorskip("torch")
    results = _overhead().main(["--quick"])
    assert len(results) == 9 and "a + b, 4×4, no grad" in results
    for numbers in results.values():
        assert numbers["minigrad_us"] > 0 and numbers["torch_us"] > 0
        assert numbers["ratio_low"] <= numbers["ratio"] <= numbers["ratio_high"]


def test_a_row_runs_in_its_own_process():
    pytest.importorskip("torch")
    worker = subprocess.run([sys.executable, str(SCRIPT), "--row", "0", "--quick"], capture_output=True,
                            text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    name, numbers = json.loads(worker.stdout.strip().splitlines()[-1])
    assert name == "a + b, 4×4, no grad" and numbers["minigrad_us"] > 0


def test_history_lists_every_run_with_its_machine():
    overhead = _overhead()
    row = {"minigrad_us": 4.0, "torch_us": 2.0, "ratio": 2.0, "ratio_low": 1.5, "ratio_high": 2.5}
    machine = {"when": "2026-01-01 00:00 UTC", "cpu": "some CPU", "cores": 2, "commit": "abc1234"}
    runs = [{"machine": machine, "load": 0.5, "label": "before", "rows": {"add": row}},
            {"machine": dict(machine, commit="def5678"), "load": 0.7, "label": "", "rows": {"add": row, "mul": row}}]
    lines = overhead.history_table(runs, ["add", "mul"]).splitlines()
    assert lines[0] == "| run | machine | load | add | mul |" and len(lines) == 4
    assert "abc1234: before" in lines[2] and "| — |" in lines[2]  # a row the older run lacked
    assert "def5678" in lines[3] and "2.00 (1.50–2.50)" in lines[3]
