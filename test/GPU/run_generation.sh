#!/bin/bash
# Runs on the GPU machine, from the repository root, over a bundle made by
# test/GPU/prepare_generation.sh (BUNDLE/<fixture>/model.kiln + oracle/):
# builds the runtime alone (CUDA toolkit only; reuses build-gpu/ when
# run_fixtures.sh built it) and, per fixture, on --backend=cuda:
#   - utils/check_generation.py (greedy = greedy_ids.pb, teacher forcing
#     within 1e-4, and for multi-bucket artifacts 3 prompts of lengths 8, 5, 3
#     in bucket 4 = each alone), with CUDA graphs (the default) and --eager;
#   - 64 greedy tokens with graphs and eagerly: identical ids and bit-identical
#     logits;
#   - with prefill steps: greedy token by token (--no-prefill) = the oracle;
#   - the device sampler against the host one (kiln-runtime-tests
#     SamplingDevice.*), also under memcheck;
#   - one generation under compute-sanitizer memcheck (and, for a
#     multi-bucket artifact, the batch of 3 under memcheck).
# The log goes to LOGDIR/gpu_generation.log as well as stdout; the last line
# is `gpu generation: P passed, F failed[: ...]`, non-zero exit on failure.
# Usage: test/GPU/run_generation.sh BUNDLE LOGDIR
set -u
BUNDLE=${1:-.gpugen}
LOG=${2:-/tmp/kiln-gpu}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
K=$PWD/build-gpu/bin/kiln-run
PY=${PYTHON:-python3}
SAN=(compute-sanitizer --tool memcheck --error-exitcode 9)

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
    echo "gpu generation: BUILD FAILED"
    return 1
  fi
  echo "== device sampling: kernel tokens = host tokens (SamplingDevice.*)"
  if ninja -C build-gpu kiln-runtime-tests >/dev/null 2>&1; then
    run "sampling/device" build-gpu/bin/kiln-runtime-tests --gtest_filter='SamplingDevice.*:GenerateSampling.*'
    run "sampling/memcheck" "${SAN[@]}" build-gpu/bin/kiln-runtime-tests --gtest_filter='SamplingDevice.*'
  else
    echo "kiln-runtime-tests not built (no GoogleTest here): device sampling unit test skipped"
  fi
  local d name oracle skip entries=0
  for d in "$BUNDLE"/*/; do
    d=${d%/}; name=$(basename "$d"); oracle=$d/oracle
    entries=$((entries+1))
    skip=()
    grep -q '^function decode_b4 ' "$d/model.kiln/manifest.txt" || skip=(--skip-batch)
    echo "== $name: check_generation (graph)"
    run "$name/graph" "$PY" utils/check_generation.py --kiln-run "$K" --backend cuda \
      --artifact "$d/model.kiln" --oracle-dir "$oracle" "${skip[@]}"
    echo "== $name: check_generation (eager)"
    run "$name/eager" "$PY" utils/check_generation.py --kiln-run "$K" --backend cuda --eager \
      --artifact "$d/model.kiln" --oracle-dir "$oracle" "${skip[@]}"
    echo "== $name: 64 greedy tokens, graph vs eager"
    rm -rf "$LOG/$name" && mkdir -p "$LOG/$name"
    run "$name/64-graph" $K "$d/model.kiln" --backend=cuda --generate \
      --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 56 --output-dir "$LOG/$name/graph"
    run "$name/64-eager" $K "$d/model.kiln" --backend=cuda --eager --generate \
      --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 56 --output-dir "$LOG/$name/eager"
    run "$name/64-identical" cmp "$LOG/$name/graph/generated_ids.pb" "$LOG/$name/eager/generated_ids.pb"
    run "$name/64-logits-identical" cmp "$LOG/$name/graph/logits.pb" "$LOG/$name/eager/logits.pb"
    if grep -q '^function prefill_' "$d/model.kiln/manifest.txt"; then
      echo "== $name: greedy without the prefill steps (token by token) = the oracle too"
      run "$name/no-prefill" $K "$d/model.kiln" --backend=cuda --generate --no-prefill \
        --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 24 --output-dir "$LOG/$name/no-prefill"
      run "$name/no-prefill-ids" "$PY" -c "import sys; sys.path.insert(0, 'utils'); import check_generation as c; sys.exit(c.read_tensor(sys.argv[1]) != c.read_tensor(sys.argv[2]))" \
        "$LOG/$name/no-prefill/generated_ids.pb" "$oracle/greedy_ids.pb"
    fi
    echo "== $name: seeded sampling, graph = eager"
    run "$name/sample-graph" $K "$d/model.kiln" --backend=cuda --generate --temperature 0.8 --top-k 40 --top-p 0.9 --seed 7 \
      --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 16 --output-dir "$LOG/$name/sg"
    run "$name/sample-eager" $K "$d/model.kiln" --backend=cuda --eager --generate --temperature 0.8 --top-k 40 --top-p 0.9 --seed 7 \
      --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 16 --output-dir "$LOG/$name/se"
    run "$name/sample-identical" cmp "$LOG/$name/sg/generated_ids.pb" "$LOG/$name/se/generated_ids.pb"
    echo "== $name: memcheck"
    run "$name/memcheck" "${SAN[@]}" $K "$d/model.kiln" --backend=cuda --generate \
      --prompt-ids "$oracle/prompt_ids.pb" --max-new-tokens 8
    if [ ${#skip[@]} -eq 0 ]; then
      run "$name/memcheck-batch" "${SAN[@]}" $K "$d/model.kiln" --backend=cuda --generate \
        --prompt-ids "$oracle/prompt_ids.pb" --prompt-ids "1 2 3 4 5" --prompt-ids "7 8 9" --max-new-tokens 8
    fi
  done
  if [ $entries -eq 0 ]; then echo "gpu generation: 0 passed, 1 failed: empty bundle"; return 1; fi
  if [ $fail -eq 0 ]; then echo "gpu generation: $pass passed, 0 failed"; return 0; fi
  local list; list=$(printf '%s, ' "${failed[@]}"); list=${list%, }
  echo "gpu generation: $pass passed, $fail failed: $list"
  return 1
}
body 2>&1 | tee "$LOG/gpu_generation.log"
exit "${PIPESTATUS[0]}"
