#!/bin/bash
# GPU proof of the kiln runtime (run on a machine with a CUDA GPU, from the
# repository root):   test/Runtime/gpu_smoke.sh LOGDIR
#
# Builds the runtime-only tree (CUDA toolkit alone), writes the hand-made test
# artifact (make_test_artifact.py: two kernels + two cuBLASLt gemms), runs
# kiln-run eager, as a replayed CUDA graph, under compute-sanitizer, and a few
# error paths. Everything goes to LOGDIR/gpu_smoke.log; each command is echoed
# with `$ ` and followed by `rc=N`.
set -u
LOG=${1:-/tmp/kiln-gpu}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
A=/tmp/kiln-test-artifact
K=build-gpu/bin/kiln-run
IN="--input $A/x.pb $A/x2.npy"
EXP="--expect $A/y.pb $A/z.pb"
run() { echo "\$ $*"; "$@"; echo "rc=$?"; }

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
  nvcc --version | tail -2
  run cmake -G Ninja -S . -B build-gpu -DKILN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
  run ninja -C build-gpu
  [ -x build-gpu/bin/kiln-runtime-tests ] && run build-gpu/bin/kiln-runtime-tests --gtest_brief=1
  rm -rf $A && run python3 test/Runtime/make_test_artifact.py $A --arch sm_90

  echo "== eager"
  run $K $A/model.kiln --backend=cuda $IN $EXP
  echo "== graph, 100 replays"
  run $K $A/model.kiln --backend=cuda --graph --repeat 100 $IN $EXP
  echo "== eager, 100 steps"
  run $K $A/model.kiln --backend=cuda --repeat 100 $IN $EXP
  echo "== graph, 10000 replays (timing)"
  run $K $A/model.kiln --backend=cuda --graph --repeat 10000 $IN $EXP
  echo "== eager, 10000 steps (timing)"
  run $K $A/model.kiln --backend=cuda --repeat 10000 $IN $EXP
  echo "== per-launch sync"
  KILN_RUNTIME_SYNC=1 run $K $A/model.kiln --backend=cuda $IN $EXP
  echo "== output dir round trip"
  run $K $A/model.kiln --backend=cuda $IN --output-dir $A/out
  run $K $A/model.kiln --backend=cuda $IN --expect $A/out/output_0.pb $A/out/output_1.pb --rtol 0 --atol 0
  echo "== wrong expectation must FAIL with exit 1"
  run $K $A/model.kiln --backend=cuda $IN --expect $A/y_wrong.pb $A/z.pb

  echo "== compute-sanitizer memcheck, eager"
  run compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 $K $A/model.kiln --backend=cuda $IN $EXP
  echo "== compute-sanitizer memcheck, graph x10"
  run compute-sanitizer --tool memcheck --error-exitcode 9 $K $A/model.kiln --backend=cuda --graph --repeat 10 $IN $EXP
  echo "== compute-sanitizer initcheck + racecheck, eager"
  run compute-sanitizer --tool initcheck --error-exitcode 9 $K $A/model.kiln --backend=cuda $IN $EXP
  run compute-sanitizer --tool racecheck --error-exitcode 9 $K $A/model.kiln --backend=cuda $IN $EXP

  echo "== error: kernel not in the fatbin"
  B=/tmp/kiln-bad.kiln; rm -rf $B; cp -r $A/model.kiln $B
  sed -i 's/kiln_scale_f32_32/kiln_no_such_kernel/' $B/manifest.txt
  run $K $B --backend=cuda $IN $EXP
  echo "== error: fatbin for another arch (sm_100 only)"
  C=/tmp/kiln-sm100; rm -rf $C
  python3 test/Runtime/make_test_artifact.py $C --arch sm_100 >/dev/null
  run $K $C/model.kiln --backend=cuda $IN $EXP
  echo "== error: fake fatbin"
  D=/tmp/kiln-fake; rm -rf $D
  python3 test/Runtime/make_test_artifact.py $D --fatbin=fake >/dev/null
  run $K $D/model.kiln --backend=cuda $IN $EXP
  date -u
} 2>&1 | tee "$LOG/gpu_smoke.log"
