#!/usr/bin/env bash
# Build the lesson site: README, docs/ and every tutorials/NN_*.py executed as a notebook
# with its output and figures inline, into OUT (default: site/ in the repository).
#
#   pip install -e ".[docs]"
#   scripts/build_docs.sh [OUT]                  # every lesson in full
#   MINIGRAD_QUICK=1 scripts/build_docs.sh [OUT] # the lessons' quick mode, as CI builds it
#
# Then open OUT/index.html in a browser (search needs a server: python -m http.server -d OUT).
# A lesson that fails stops the build with its traceback; so does a broken link (--strict).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(python -c 'import os, sys; print(os.path.abspath(sys.argv[1]))' "${1:-$ROOT/site}")"
# MkDocs empties its output folder first: never point it at a folder that holds anything else
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/sitemap.xml" ]; then
  echo "build_docs.sh: $OUT is not empty and is not a site this script built: refusing to overwrite it" >&2
  exit 2
fi
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/minigrad-docs.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
start=$SECONDS
# Material prints a banner about its end of life (May 2027) and its successor on every build
export NO_MKDOCS_2_WARNING=1
python "$ROOT/scripts/stage_docs.py" "$STAGE" "$OUT"
python -m mkdocs build --strict --clean --quiet -f "$STAGE/mkdocs.yml"
echo "site written to $OUT/index.html in $((SECONDS - start)) s"
