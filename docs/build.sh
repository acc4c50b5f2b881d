#!/usr/bin/env bash
# Build the documentation offline, warnings as errors:
#   1. the catalogue's verification: `symbolic-mf verify --all --json` into _build/verify.json
#      (skipped if that file is newer than the package; SYMBOLIC_MF_VERIFY_JSON overrides);
#   2. the guide's examples, executed (`sphinx-build -b doctest`);
#   3. the HTML site in docs/_build/html (MathJax served locally from _static/mathjax).
# Options: --derivations  run derivations/*.py first (they write docs/derivations/*.md)
#          --no-verify    do not verify; catalogue pages say "not verified in this build"
# Needs: pip install -e '.[docs]'
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
DERIV=0; VERIFY=1
for a in "$@"; do
  case "$a" in
    --derivations) DERIV=1 ;;
    --no-verify) VERIFY=0 ;;
    *) echo "usage: $0 [--derivations] [--no-verify]" >&2; exit 2 ;;
  esac
done
mkdir -p _build
if [ "$DERIV" = 1 ] && [ -d "$ROOT/derivations" ]; then
  for s in "$ROOT"/derivations/*.py; do
    [ -e "$s" ] || continue
    echo "derivation: $s"; (cd "$ROOT" && python "$s")
  done
fi
if [ "$VERIFY" = 1 ]; then
  if [ -z "${SYMBOLIC_MF_VERIFY_JSON:-}" ]; then
    J=_build/verify.json
    if [ ! -s "$J" ] || [ -n "$(find "$ROOT/symbolic_mf" -name '*.py' -newer "$J" | head -1)" ]; then
      echo "verifying the catalogue -> docs/$J"
      python -m symbolic_mf verify --all --json --quiet --jobs "${JOBS:-2}" > "$J.tmp" || [ $? -ne 2 ]
      mv "$J.tmp" "$J"
    fi
    export SYMBOLIC_MF_VERIFY_JSON="$PWD/$J"
  fi
else
  export SYMBOLIC_MF_DOCS_VERIFY=skip
fi
python -m sphinx -W --keep-going -q -b doctest -d _build/doctrees . _build/doctest
python -m sphinx -W --keep-going -q -b html -d _build/doctrees . _build/html
echo "built: docs/_build/html/index.html"
