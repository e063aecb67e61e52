#!/usr/bin/env bash
# Run every benchmark with its defaults (or the sizes given in the environment) and print the figures.
#   benchmarks/run_all.sh    # 200k normalize, 200k pipeline, 200k and 1M memory, 100k enrich, 50k sinks, 50k streaming
#   EVENTS=50000 MEMORY_EVENTS=50000,200000 ENRICH_EVENTS=20000 SINK_EVENTS=20000 STREAM_EVENTS=20000 benchmarks/run_all.sh
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
run benchmarks/bench_corpus.py --records "${CORPUS_RECORDS:-200000}"
run benchmarks/bench_pipeline.py --events "$EVENTS"
run benchmarks/bench_memory.py --events "$MEMORY_EVENTS"
run benchmarks/bench_enrich.py --events "${ENRICH_EVENTS:-100000}"
run benchmarks/bench_sinks.py --events "${SINK_EVENTS:-50000}"
run benchmarks/bench_streaming.py --events "${STREAM_EVENTS:-50000}"
run benchmarks/bench_projection.py --events "${PROJECTION_EVENTS:-50000}"
exit $status
