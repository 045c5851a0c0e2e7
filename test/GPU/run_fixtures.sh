#!/bin/bash
# Runs on the GPU machine, from the repository root, over a bundle made by
# test/GPU/prepare_bundle.sh: builds the runtime alone (CUDA toolkit only) and
# checks every fixture on --backend=cuda, eager and as a replayed CUDA graph
# (100 replays, bit-identical), all under compute-sanitizer memcheck.
# Usage: test/GPU/run_fixtures.sh BUNDLE LOGDIR
set -u
BUNDLE=${1:-.gpu}
LOG=${2:-/tmp/kiln-gpu}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
K=build-gpu/bin/kiln-run
SAN="compute-sanitizer --tool memcheck --error-exitcode 9"
pass=0 fail=0
run() { echo "\$ $*"; "$@"; local rc=$?; echo "rc=$rc"; if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi; }
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  nvcc --version | tail -2
  cmake -G Ninja -S . -B build-gpu -DKILN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null && ninja -C build-gpu kiln-run >/dev/null || { echo "BUILD FAILED"; exit 1; }
  for d in "$BUNDLE"/*/; do
    name=$(basename "$d")
    ins=(); for f in $(ls "$d"/input_*.pb | sort -V); do ins+=(--input "$f"); done
    exps=(); for f in $(ls "$d"/expected/output_*.pb | sort -V); do exps+=(--expect "$f"); done
    echo "== $name: eager"
    run $K "$d/model.kiln" --backend=cuda "${ins[@]}" "${exps[@]}"
    echo "== $name: graph, 100 replays, bit-identical"
    run $K "$d/model.kiln" --backend=cuda --graph --repeat 100 --check-identical "${ins[@]}" "${exps[@]}"
    echo "== $name: memcheck eager"
    run $SAN $K "$d/model.kiln" --backend=cuda "${ins[@]}" "${exps[@]}"
    echo "== $name: memcheck graph x3"
    run $SAN $K "$d/model.kiln" --backend=cuda --graph --repeat 3 "${ins[@]}" "${exps[@]}"
  done
  echo "gpu fixtures: $pass passed, $fail failed"
} 2>&1 | tee "$LOG/gpu_fixtures.log"
