#!/usr/bin/env bash
# Two MPI ranks against one: seconds per iteration of the split run (one thread per rank,
# MINIGRAD_CPU_THREADS=1) and of the single net on rank 0 (one thread, rank 1 idle by then),
# for each schedule, micro-batch count and cut below; prints a table for docs/admm.md.
#
#   scripts/measure_admm_speed.sh [ITERATIONS [BATCH ["MODE CUT SCHEDULE M" ...]]]
#   (default: 60 iterations per run, batch 64, the configurations listed below)
#
# Wall time on a shared machine depends on its load: the table prints the load average
# before each run, and each run's CPU seconds beside its wall seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-60}"
batch="${2:-64}"
out="$(mktemp -d)"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MINIGRAD_CPU_THREADS=1 OMP_NUM_THREADS=1 MPLBACKEND=Agg
mpiexec="$(dirname "$(command -v python)")/mpiexec"
[ -x "$mpiexec" ] || mpiexec="mpiexec"
# mode, cut, schedule, micro-batches
configurations=(
  "admm pool2 sequential 1" "admm pool2 pipelined 2" "admm pool2 pipelined 4" "admm pool2 pipelined 8"
  "admm pool1 sequential 1" "admm pool1 pipelined 4" "admm pool1 pipelined 8"
  "decoupled pool1 sequential 1" "decoupled pool1 pipelined 4" "decoupled pool1 pipelined 8"
  "decoupled pool2 pipelined 4"
)
if [ "$#" -gt 2 ]; then configurations=("${@:3}"); fi
for configuration in "${configurations[@]}"; do
  read -r mode cut schedule micro <<<"$configuration"
  name="$mode-$cut-$schedule-$micro"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  "$mpiexec" -n 2 python -m mpi4py -m admm demo --transport mpi --quiet --mode "$mode" --at "$cut" \
    --schedule "$schedule" --micro-batches "$micro" --iters "$iterations" --batch "$batch" --eval-every 100000 \
    --test-limit 500 --out "$out/$name" >"$out/$name.log" 2>&1 || { echo "$name failed: $out/$name.log"; exit 1; }
  echo "$load" >"$out/$name.load"
done
python - "$out" "$batch" "${configurations[@]}" <<'PY'
import json, sys
out, batch, configurations = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"batch {batch}")
print(f"| mode | cut | schedule | M | split s/iter | single s/iter | speedup | net1, net2 share | load |")
print("|---|---|---|---|---|---|---|---|---|")
for configuration in configurations:
    mode, cut, schedule, micro = configuration.split()
    name = f"{mode}-{cut}-{schedule}-{micro}"
    s = json.load(open(f"{out}/{name}/summary.json"))
    split, single = s["seconds_per_iteration"][mode], s["seconds_per_iteration"]["single"]
    load = open(f"{out}/{name}.load").read().strip()
    shares = ", ".join(f"{v:.2f}" for v in s["stage_shares"])
    print(f"| {mode} | {cut} | {schedule} | {micro} | {split:.4f} | {single:.4f} | {single / split:.2f} | {shares} | {load} |")
print(f"(summaries in {out})")
PY
