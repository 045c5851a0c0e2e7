#!/usr/bin/env bash
# scripts/demo.sh — the kiln demo: what the compiler does today, end to end.
#
#   bash scripts/demo.sh [BUILD_DIR]      (default BUILD_DIR: build)
#
# Expects the tools already built (`bash .ci/run --demo` installs the
# dependencies, builds them and then runs this script). Each step is a function
# below; as the pipeline grows (import an ONNX model, compile an artifact, run
# it and generate tokens) the new steps are added here, and `.ci/run --demo`
# builds whatever `demo_targets` lists.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
BIN=$BUILD/bin
DEMO=$ROOT/scripts/demo
OUT=${KILN_DEMO_OUT:-$BUILD/demo}

# The CMake targets this demo needs; `.ci/run --demo` builds exactly these.
demo_targets() { echo kiln-opt; }
if [[ ${1:-} == --targets ]]; then demo_targets; exit 0; fi

for tool in $(demo_targets); do
  if [[ ! -x $BIN/$tool ]]; then
    echo "demo: $BIN/$tool is missing; build it first (bash .ci/run --demo)" >&2
    exit 1
  fi
done
mkdir -p "$OUT"

# Counts the kiln ops in an IR file, by op name.
count_ops() {
  grep -oE '= kiln\.[a-z_]+|^ *kiln\.[a-z_]+' "$1" | sed -E 's/.*kiln\./kiln./' |
    sort | uniq -c | sort -rn
}

step_simplify() {
  local in=$DEMO/attention-block.mlir out=$OUT/attention-block.simplified.mlir
  echo "== step 1: graph-level IR of one attention block, through kiln-simplify"
  echo "   kiln-opt --kiln-simplify --mlir-timing $in"
  "$BIN/kiln-opt" --kiln-simplify --mlir-timing "$in" -o "$out" 2> "$OUT/timing.txt"
  local before after
  before=$(count_ops "$in" | awk '{s += $1} END {print s}')
  after=$(count_ops "$out" | awk '{s += $1} END {print s}')
  echo "   kiln ops: $before before, $after after"
  echo "   ops whose count changed (before -> after):"
  awk 'NR == FNR { b[$2] = $1; next } { a[$2] = $1; b[$2] += 0 }
       END { for (op in b) if (b[op] != a[op] + 0)
               printf "     %-16s %2d -> %d\n", op, b[op], a[op] }' \
    <(count_ops "$in") <(count_ops "$out") | sort
  echo "   pass time: $(grep -E 'KilnSimplify|kiln-simplify' "$OUT/timing.txt" | head -1 | sed -E 's/^ +//')"
  echo "   result (also in $out):"
  sed 's/^/   | /' "$out"
  # The simplified IR must still verify and round-trip.
  "$BIN/kiln-opt" --verify-roundtrip "$out" > /dev/null
}

step_simplify
echo
echo "demo: done (outputs in $OUT)"
