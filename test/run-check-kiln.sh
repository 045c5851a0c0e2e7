#!/usr/bin/env bash
# Runs every kiln test: the lit suite, then each GoogleTest binary named on the
# command line; prints one summary line per suite and exits non-zero if any
# suite failed. This is what `ninja check-kiln` runs (test/CMakeLists.txt).
#
# Usage: run-check-kiln.sh <lit> <lit-suite-dir> [gtest-binary ...]
# Extra lit arguments come from $KILN_LIT_ARGS (default: -sv).
set -uo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <lit> <lit-suite-dir> [gtest-binary ...]" >&2
  exit 2
fi
lit=$1
suite=$2
shift 2

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
summary=()
total_passed=0
total_failed=0
total_skipped=0

# Sum of the lit summary counts whose label matches $1 (a grep -E pattern).
lit_count() {
  grep -E "^ +($1) *: +[0-9]+" "$log" | sed -E 's/.*: +([0-9]+).*/\1/' |
    awk '{s += $1} END {print s + 0}'
}

echo "=== lit ${suite}"
# shellcheck disable=SC2086  # KILN_LIT_ARGS is a list of words
"$lit" ${KILN_LIT_ARGS:--sv} "$suite" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
counts=$(grep -E '^ +[A-Za-z ]+: +[0-9]+' "$log" |
  sed -E 's/^ +//; s/: +/: /; s/ \(.*\)$//' |
  paste -sd, - | sed 's/,/, /g')
total_passed=$((total_passed + $(lit_count 'Passed|Expectedly Failed')))
total_failed=$((total_failed + $(lit_count 'Failed|Unexpectedly Passed|Unresolved|Timed Out')))
total_skipped=$((total_skipped + $(lit_count 'Unsupported|Skipped|Excluded')))
if [[ $rc -ne 0 && $(lit_count 'Failed|Unexpectedly Passed|Unresolved|Timed Out') -eq 0 ]]; then
  total_failed=$((total_failed + 1)) # lit itself failed (bad config, crash)
fi
if [[ $rc -eq 0 ]]; then
  summary+=("PASS  lit                 ${counts:-no tests found}")
else
  summary+=("FAIL  lit                 ${counts:-lit exited with $rc}")
  status=1
fi

for bin in "$@"; do
  name=$(basename "$bin")
  echo
  echo "=== ${name}"
  "$bin" --gtest_brief=1 --gtest_color=no 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  passed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) tests?\..*/\1/p' "$log" | tail -1)
  failed=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) tests?, listed below:/\1/p' "$log" | tail -1)
  skipped=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) tests?[.,].*/\1/p' "$log" | tail -1)
  total_passed=$((total_passed + ${passed:-0}))
  total_skipped=$((total_skipped + ${skipped:-0}))
  if [[ $rc -ne 0 && ${failed:-0} -eq 0 ]]; then
    failed=1 # the binary crashed or did not start
  fi
  total_failed=$((total_failed + ${failed:-0}))
  line=$(printf '%-19s Passed: %s, Failed: %s, Skipped: %s' "$name" "${passed:-0}" "${failed:-0}" "${skipped:-0}")
  if [[ $rc -eq 0 ]]; then
    summary+=("PASS  $line")
  else
    summary+=("FAIL  $line (exit $rc)")
    status=1
  fi
done

echo
echo "=== check-kiln summary"
printf '%s\n' "${summary[@]}"
# The closing line, in the plain form CI reads.
totals="$total_passed passed, $total_failed failed, $total_skipped skipped"
if [[ -n ${KILN_CHECK_TOTALS_FILE:-} ]]; then
  echo "$totals" > "$KILN_CHECK_TOTALS_FILE"
fi
echo "kiln: $totals"
exit $status
