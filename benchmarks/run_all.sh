#!/usr/bin/env bash
# Run every benchmark with its defaults (or the sizes given in the environment) and print the figures.
#   benchmarks/run_all.sh                      # 200k normalize, 200k pipeline, 200k and 1M memory
#   EVENTS=50000 MEMORY_EVENTS=50000,200000 benchmarks/run_all.sh
# Each script cleans its temporary data; a failing one does not stop the others.
set -u
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
EVENTS="${EVENTS:-200000}"
MEMORY_EVENTS="${MEMORY_EVENTS:-200000,1000000}"
status=0
run() {
  echo
  echo "=== $* ==="
  "$PY" "$@" || { echo "!!! $1 exited with status $?"; status=1; }
}
run benchmarks/bench_normalize.py --events "$EVENTS"
run benchmarks/bench_pipeline.py --events "$EVENTS"
run benchmarks/bench_memory.py --events "$MEMORY_EVENTS"
exit $status
