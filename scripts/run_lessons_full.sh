#!/usr/bin/env bash
# Run every lesson in tutorials/ in full mode (MINIGRAD_QUICK unset), as a learner would,
# and print each one's wall time and result; CI runs them only in quick mode
# (tests/test_tutorials.py). Exits non-zero if any lesson failed.
#
#   scripts/run_lessons_full.sh                 # every lesson, figures into a temporary folder
#   scripts/run_lessons_full.sh 13 14           # only the lessons whose file starts with 13 or 14
#   MINIGRAD_TUTORIAL_OUT=out scripts/run_lessons_full.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND="${MPLBACKEND:-Agg}"
unset MINIGRAD_QUICK
out="${MINIGRAD_TUTORIAL_OUT:-$(mktemp -d)}"
export MINIGRAD_TUTORIAL_OUT="$out"
logs="$out/logs"
mkdir -p "$logs"
failed=0
printf '%-42s %9s  %s\n' "lesson" "seconds" "result"
for lesson in tutorials/[0-9][0-9]_*.py; do
  name="$(basename "$lesson")"
  if [ "$#" -gt 0 ]; then
    wanted=0
    for prefix in "$@"; do [[ "$name" == "$prefix"* ]] && wanted=1; done
    [ "$wanted" -eq 1 ] || continue
  fi
  start=$(date +%s.%N)
  if python "$lesson" >"$logs/${name%.py}.log" 2>&1 && grep -q "all checks passed" "$logs/${name%.py}.log"; then
    result="passed"
  else
    result="FAILED (see $logs/${name%.py}.log)"
    failed=1
  fi
  printf '%-42s %9.1f  %s\n' "$name" "$(echo "$(date +%s.%N) - $start" | bc)" "$result"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); figures and logs in $out"
exit "$failed"
