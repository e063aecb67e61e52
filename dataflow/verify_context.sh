#!/usr/bin/env bash
# Show that the image's build context is complete without Docker: make a fresh venv with the image's
# Python, install the pinned requirements and then the sdist without resolving anything (as the
# Dockerfile does), check it, run the pipeline on the bundled samples in it, and report sizes.
#   bash dataflow/verify_context.sh [CONTEXT] [VENV]
set -euo pipefail
CONTEXT=${1:-build/dataflow-template}
VENV=${2:-build/dataflow-venv}
PY=${PYTHON:-python3.11}
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
case "$CONTEXT" in /*) ;; *) CONTEXT="$PWD/$CONTEXT" ;; esac
SAMPLES="$PWD/samples"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r "$CONTEXT/requirements.txt"
"$VENV/bin/python" -m pip install -q --no-deps "$CONTEXT"/cloudaudit-*.tar.gz
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c "import pipelines.template, pipelines.batch, pipelines.streaming"
OUT=$(mktemp -d)
(cd "$OUT" && "$VENV/bin/cloudaudit" run --input "$SAMPLES" --output "$OUT/out" >/dev/null)
echo "pipeline on the samples in the fresh venv: ok ($(find "$OUT/out/cold/events" -name '*.parquet' | wc -l) Parquet files)"
rm -rf "$OUT"
site=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "venv: $(du -sh "$VENV" | cut -f1) (site-packages $(du -sh "$site" | cut -f1)); distributions: $("$VENV/bin/python" -m pip list --format=freeze | wc -l)"
