"""benchmarks/suite.py in --quick mode: one round of every workload at tiny sizes. Only
the shape of what it writes is checked, never a timing (CI machines differ)."""
import importlib.util
import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _suite():
    spec = importlib.util.spec_from_file_location("benchmark_suite", ROOT / "benchmarks" / "suite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_writes_results_and_docs(tmp_path):
    suite = _suite()
    results, docs = tmp_path / "suite.json", tmp_path / "benchmarks.md"
    import threadpoolctl
    architecture = next((lib.get("architecture") or "unknown" for lib in threadpoolctl.threadpool_info()
                         if lib["user_api"] == "blas"), "none")
    begin, end = suite.markers(1, architecture)
    docs.write_text(f"# Benchmarks\n\nprose kept\n\n{begin}\nold table\n{end}\n\nafter\n")
    try:
        import torch
        threads = torch.get_num_threads()
    except ImportError:
        torch = None
    saved = suite.cpu_threads.THREADS
    try:
        suite.main(["--quick", "--threads", "1", "--results", str(results), "--docs", str(docs)])
    finally:
        suite.cpu_threads.THREADS = saved
        if torch is not None:
            torch.set_num_threads(threads)
    report = json.loads(results.read_text())
    names = [row["name"] for row in report["rows"]]
    assert [name.split()[0] for name in names] == ["caffenet", "caffenet+bn", "resnet18", "mlp", "dualnet"]
    for row in report["rows"]:
        assert row["minigrad_median_s"] > 0 and math.isfinite(row["minigrad_median_s"])
        if torch is not None:
            assert row["pytorch_median_s"] > 0 and row["ratio"] > 0 and row["gflop_per_step"] > 0
            assert 0 < row["minigrad_peak_fraction"] and 0 < row["pytorch_peak_fraction"]
    for key in ("date", "cpu", "cores", "numpy", "numba", "minigrad_threads", "blas"):
        assert key in report["machine"]
    assert report["load_before"] is None or len(report["load_before"]) == 3
    text = docs.read_text()
    # the marked section replaced in place, the prose around it kept
    assert text.startswith("# Benchmarks\n\nprose kept\n") and text.endswith(f"{end}\n\nafter\n")
    assert "old table" not in text and text.count(begin) == 1
    assert report["clock"] == "the process's CPU time" and report["machine"]["blas_architecture"] == architecture
    assert all(f"| {name} |" in text for name in names)
