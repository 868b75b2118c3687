"""Run the lessons as a learner would (``python tutorials/NN_name.py``) and time them.

    python scripts/run_lessons.py             # every lesson, full size
    python scripts/run_lessons.py --quick     # MINIGRAD_QUICK=1, as CI runs them
    python scripts/run_lessons.py 05 12       # only the lessons whose number is given

Each lesson runs in its own process, in a temporary folder, with its figures written
there too (never into the repository). Prints one line per lesson (passed or failed,
wall time) and, for a failure, the end of its output; exits 1 if any lesson failed.
The full-size times in tutorials/README.md come from this script.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("numbers", nargs="*", help="two-digit lesson numbers (default: all)")
    parser.add_argument("--quick", action="store_true", help="set MINIGRAD_QUICK=1")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per lesson")
    args = parser.parse_args()
    lessons = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    if args.numbers:
        unknown = set(args.numbers) - {p.name[:2] for p in lessons}
        if unknown:
            parser.error(f"no lesson numbered {sorted(unknown)}")
        lessons = [p for p in lessons if p.name[:2] in args.numbers]
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("MINIGRAD_QUICK", None)
    if args.quick:
        env["MINIGRAD_QUICK"] = "1"
    failed = []
    for lesson in lessons:
        with tempfile.TemporaryDirectory(prefix=f"lesson-{lesson.name[:2]}-") as work:
            env["MINIGRAD_TUTORIAL_OUT"] = work
            start = time.perf_counter()
            try:
                run = subprocess.run([sys.executable, str(lesson)], cwd=work, env=env, capture_output=True,
                                     text=True, timeout=args.timeout)
                ok = run.returncode == 0 and "all checks passed" in run.stdout
                tail = (run.stdout + run.stderr)[-2500:]
            except subprocess.TimeoutExpired:
                ok, tail = False, f"timed out after {args.timeout:.0f} s"
            seconds = time.perf_counter() - start
        print(f"{'passed' if ok else 'FAILED'}  {seconds:7.1f} s  {lesson.name}", flush=True)
        if not ok:
            failed.append(lesson.name)
            print("    " + tail.replace("\n", "\n    "), flush=True)
    mode = "quick mode" if args.quick else "full size"
    print(f"{len(lessons) - len(failed)} passed, {len(failed)} failed ({mode})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
