#!/bin/bash
# bf16 (or f16) storage on the GPU (docs/precision.md), in one device call.
#
# Here (no GPU; needs the full build in BUILD, default build):
#   [PRECISION=f16] bash test/GPU/run_precision.sh prepare [BUNDLE] [BUILD]
# compiles the three *-decoder-dynamic-torchscript fixtures with
# `kiln-compile --precision $PRECISION (default bf16) --max-seq-len 64 --batch-buckets 1,4`
# into BUNDLE/<arch>/model.kiln (default BUNDLE .gpuprec, git-ignored) with
# their generation oracles in BUNDLE/<arch>/oracle. BUCKETS (environment)
# replaces the batch buckets 1,4 (the batch check runs 3 prompts in the
# smallest bucket of 3 or more rows); KILN_FLAGS adds kiln-compile flags.
#
# On the GPU machine, from the repository root (carry BUNDLE):
#   bash test/GPU/run_precision.sh BUNDLE LOGDIR
# builds kiln-run in the runtime-only tree (build-gpu/) and, per fixture, on
# --backend=cuda with CUDA graphs and with --eager: utils/check_precision.py
# (teacher-forced logits within 2e-2 x the row's largest |logit| of the fp32
# oracle; argmax = the greedy token wherever the oracle's top-2 gap exceeds
# that bound); then one teacher-forced run under compute-sanitizer memcheck.
# The last line is `gpu precision: P passed, F failed[: ...]`; non-zero exit
# on failure. The log goes to LOGDIR/gpu_precision.log too.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}

if [ "${1:-}" = prepare ]; then
  set -euo pipefail
  BUNDLE=${2:-.gpuprec}
  BUILD=${3:-build}
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
  for arch in llama qwen2 gpt2; do
    mkdir -p "$BUNDLE/$arch"
    "$BUILD/bin/kiln-compile" "$ROOT/../shared/models/hf-tiny/$arch-decoder-dynamic-torchscript/model.onnx" \
      --precision "${PRECISION:-bf16}" --max-seq-len 64 --batch-buckets "${BUCKETS:-1,4}" ${KILN_FLAGS:-} \
      -o "$BUNDLE/$arch/model.kiln"
    cp -r "$ROOT/../shared/models/hf-tiny-generate/$arch" "$BUNDLE/$arch/oracle"
  done
  echo "run_precision prepare: $BUNDLE ready ($(du -sh "$BUNDLE" | cut -f1)); carry it"
  exit 0
fi

BUNDLE=${1:?usage: run_precision.sh BUNDLE LOGDIR | run_precision.sh prepare [BUNDLE] [BUILD]}
LOG=${2:?usage: run_precision.sh BUNDLE LOGDIR}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
K=$ROOT/build-gpu/bin/kiln-run
cd "$ROOT"

body() {
  local pass=0 fail=0 failed=()
  run() {
    local label=$1; shift
    echo "\$ $*"; "$@"; local rc=$?; echo "rc=$rc"
    if [ $rc -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("$label"); fi
  }
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  if ! { cmake -G Ninja -S . -B build-gpu -DKILN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null \
         && ninja -C build-gpu kiln-run >/dev/null; }; then
    echo "gpu precision: BUILD FAILED"
    return 1
  fi
  local d name
  for d in "$BUNDLE"/*/; do
    d=${d%/}; name=$(basename "$d")
    echo "== $name: check_precision (graph)"
    run "$name/graph" "$PY" utils/check_precision.py --kiln-run "$K" --backend cuda \
      --artifact "$d/model.kiln" --oracle-dir "$d/oracle"
    echo "== $name: check_precision (eager)"
    run "$name/eager" "$PY" utils/check_precision.py --kiln-run "$K" --backend cuda --eager \
      --artifact "$d/model.kiln" --oracle-dir "$d/oracle"
  done
  d=$(ls -d "$BUNDLE"/*/ | head -1); d=${d%/}
  echo "== $(basename "$d"): memcheck, teacher-forced (eager)"
  run "$(basename "$d")/memcheck" compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$K" "$d/model.kiln" --backend=cuda --eager --teacher-force "$d/oracle/forced_ids.pb"
  if [ $fail -eq 0 ]; then
    echo "gpu precision: $pass passed, 0 failed"
  else
    echo "gpu precision: $pass passed, $fail failed: ${failed[*]}"
    return 1
  fi
}
body 2>&1 | tee "$LOG/gpu_precision.log"
exit "${PIPESTATUS[0]}"
