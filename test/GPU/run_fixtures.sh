#!/bin/bash
# Runs on the GPU machine, from the repository root, over a bundle made by
# test/GPU/prepare_bundle.sh (one entry per fixture and test data set,
# BUNDLE/<fixture>.set<N>/): builds the runtime alone (CUDA toolkit only) and
# checks every entry on --backend=cuda, eager and as a replayed CUDA graph
# (100 replays, bit-identical), graph outputs with and without programmatic
# dependent launch (KILN_RUNTIME_PDL=0) bit-identical, all under
# compute-sanitizer memcheck; the
# kernel-class entries of test/GPU/prepare_kernels.py with block reductions
# also under racecheck.
# The log goes to LOGDIR/gpu_fixtures.log as well as stdout. The last line is
#   gpu fixtures: P passed, F failed[: <entry>/<run>, ...]
# and the exit status is non-zero when anything failed (or the build, or the
# bundle is empty).
# Usage: test/GPU/run_fixtures.sh BUNDLE LOGDIR
set -u
BUNDLE=${1:-.gpu}
LOG=${2:-/tmp/kiln-gpu}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
K=build-gpu/bin/kiln-run
SAN=(compute-sanitizer --tool memcheck --error-exitcode 9)
RACE=(compute-sanitizer --tool racecheck --racecheck-report all --error-exitcode 9)
# Kernel-class entries (test/GPU/prepare_kernels.py) with block reductions
# also run under racecheck (shared-memory hazards), except the native
# 16-bit entries of 32 rows, whose product is a cuBLASLt gemm: racecheck
# checks kiln's kernels, and in session 12 (call 1) it reported potential
# WAR hazards inside cuBLASLt's own kernel there (nvjet_sm90_tst_*, its
# shared memory; the entry's eager, graph and memcheck runs passed).
RACE_CLASSES='^kernel-(rms_norm|layer_norm|softmax|reduce|attention|gemv|gemv_mma|gemv_mma_f16|gemv_f16|kv_attention|kv_attention_bf16|kv_attention_f16|kv_fused|kv_rope_append|norm_widened|nbits_merged|bf16_native|f16_native)-'
NO_RACE='^kernel-((bf16|f16)_native|norm_widened)-32x'

body() {
  local pass=0 fail=0 failed=()
  # run LABEL CMD...: runs CMD, counts it, remembers LABEL when it fails.
  run() {
    local label=$1; shift
    echo "\$ $*"; "$@"; local rc=$?; echo "rc=$rc"
    if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$label"); fi
  }
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  nvcc --version | tail -2
  if ! { cmake -G Ninja -S . -B build-gpu -DKILN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null \
         && ninja -C build-gpu kiln-run >/dev/null; }; then
    echo "gpu fixtures: BUILD FAILED"
    return 1
  fi
  local entries=0 d name f
  shopt -s nullglob
  for d in "$BUNDLE"/*/; do
    d=${d%/}
    name=$(basename "$d")
    entries=$((entries+1))
    local ins=() exps=()
    for f in $(ls "$d"/input_*.pb 2>/dev/null | sort -V); do ins+=(--input "$f"); done
    for f in $(ls "$d"/expected/output_*.pb 2>/dev/null | sort -V); do exps+=(--expect "$f"); done
    # An entry may widen kiln-run's tolerances (a file `tolerance` holding
    # e.g. "--atol 0.002", written by prepare_kernels.py with its reason).
    [ -f "$d/tolerance" ] && exps+=($(cat "$d/tolerance"))
    if [ ! -d "$d/model.kiln" ] || [ ${#ins[@]} -eq 0 ] || [ ${#exps[@]} -eq 0 ]; then
      echo "== $name: incomplete bundle entry (needs model.kiln/, input_*.pb, expected/output_*.pb)"
      fail=$((fail+1)); failed+=("$name/bundle")
      continue
    fi
    echo "== $name: eager"
    run "$name/eager" $K "$d/model.kiln" --backend=cuda "${ins[@]}" "${exps[@]}"
    echo "== $name: graph, 100 replays, bit-identical"
    run "$name/graph" $K "$d/model.kiln" --backend=cuda --graph --repeat 100 --check-identical "${ins[@]}" "${exps[@]}"
    echo "== $name: graph with and without programmatic dependent launch, bit-identical"
    rm -rf "$LOG/pdl-on" "$LOG/pdl-off"
    run "$name/pdl-identical" bash -c '
      set -eo pipefail
      "$1" "$2/model.kiln" --backend=cuda --graph --repeat 3 --output-dir "$3/pdl-on" "${@:4}" | tail -1
      KILN_RUNTIME_PDL=0 "$1" "$2/model.kiln" --backend=cuda --graph --repeat 3 --output-dir "$3/pdl-off" "${@:4}" | tail -1
      n=0
      for f in "$3"/pdl-on/*.pb; do cmp "$f" "$3/pdl-off/$(basename "$f")"; n=$((n+1)); done
      [ "$n" -gt 0 ] && [ "$n" -eq "$(ls "$3"/pdl-off/*.pb | wc -l)" ]
      echo "$n outputs bit-identical"' _ $K "$d" "$LOG" "${ins[@]}"
    echo "== $name: memcheck eager"
    run "$name/memcheck-eager" "${SAN[@]}" $K "$d/model.kiln" --backend=cuda "${ins[@]}" "${exps[@]}"
    echo "== $name: memcheck graph x3"
    run "$name/memcheck-graph" "${SAN[@]}" $K "$d/model.kiln" --backend=cuda --graph --repeat 3 "${ins[@]}" "${exps[@]}"
    if [[ $name =~ $RACE_CLASSES && ! $name =~ $NO_RACE ]]; then
      echo "== $name: racecheck eager"
      run "$name/racecheck" "${RACE[@]}" $K "$d/model.kiln" --backend=cuda "${ins[@]}" "${exps[@]}"
    fi
  done
  if [ $entries -eq 0 ]; then
    echo "gpu fixtures: 0 passed, 1 failed: no bundle entries in $BUNDLE"
    return 1
  fi
  if [ $fail -eq 0 ]; then
    echo "gpu fixtures: $pass passed, 0 failed"
    return 0
  fi
  local list
  list=$(printf '%s, ' "${failed[@]}"); list=${list%, }
  echo "gpu fixtures: $pass passed, $fail failed: $list"
  return 1
}

body 2>&1 | tee "$LOG/gpu_fixtures.log"
exit "${PIPESTATUS[0]}"
