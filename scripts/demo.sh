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
demo_targets() { echo kiln-opt kiln-import kiln-compile kiln-run; }
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

MODELS=${KILN_DEMO_MODELS:-$ROOT/../shared/models/hf-tiny}
MODEL=llama-decode-torchscript

step_import() {
  echo "== step 2: import $MODEL (ONNX, TorchScript exporter, symbolic past_len)"
  echo "   kiln-import model.onnx --bind past_len=7"
  "$BIN/kiln-import" "$MODELS/$MODEL/model.onnx" --bind past_len=7 -o "$OUT/$MODEL.mlir"
  echo "   $(grep -c 'kiln\.' "$OUT/$MODEL.mlir") kiln ops, $(grep -c 'kiln.weight' "$OUT/$MODEL.mlir") weight references, static shapes:"
  grep -m1 'func.func' "$OUT/$MODEL.mlir" | cut -c1-160 | sed 's/^/   | /'
}

step_compile() {
  echo "== step 3: compile to an artifact for sm_90a (one kernel per op, cuBLASLt GEMMs, planned arena)"
  echo "   kiln-compile model.onnx --bind past_len=7 --arch sm_90a -o $MODEL.kiln"
  if ! command -v nvcc > /dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
    echo "   (no nvcc: printing the scheduled IR instead of building the artifact)"
    "$BIN/kiln-compile" "$MODELS/$MODEL/model.onnx" --bind past_len=7 --emit=mlir | head -5 | sed 's/^/   | /'
    return 1
  fi
  "$BIN/kiln-compile" "$MODELS/$MODEL/model.onnx" --bind past_len=7 --arch sm_90a \
    -o "$OUT/$MODEL.kiln"
  local m=$OUT/$MODEL.kiln/manifest.txt
  echo "   $(grep -c '^launch kernel' "$m") kernel launches, $(grep -c '^launch gemm' "$m") gemms, $(grep '^arena_bytes' "$m")"
}

step_run() {
  local dir=$MODELS/$MODEL/test_data_set_0 args=()
  for f in "$dir"/input_*.pb; do args+=(--input "$f"); done
  for f in "$dir"/output_*.pb; do args+=(--expect "$f"); done
  echo "== step 4: run the artifact's scheduled IR on the CPU reference backend,"
  echo "   through its planned arena offsets, against PyTorch's outputs"
  "$BIN/kiln-run" "$OUT/$MODEL.kiln" --backend=ref "${args[@]}" | sed 's/^/   /'
  if nvidia-smi > /dev/null 2>&1; then
    echo "== step 5: the same artifact on the GPU, as a CUDA graph replayed 100 times"
    "$BIN/kiln-run" "$OUT/$MODEL.kiln" --backend=cuda --graph --repeat 100 "${args[@]}" | sed 's/^/   /'
  else
    echo "== step 5: skipped (no CUDA device here; test/GPU/run_fixtures.sh runs it on a GPU)"
  fi
}

GEN_MODEL=llama-decoder-dynamic-torchscript
ORACLE=${KILN_DEMO_ORACLES:-$ROOT/../shared/models/hf-tiny-generate}/llama

# The main job: compile a decoder with its KV cache rewritten into IR (one
# persistent cache, one decode step per batch bucket) and generate tokens,
# on the GPU when there is one, else on the CPU reference backend.
step_generate() {
  echo "== generate: $GEN_MODEL (Llama, every dim symbolic) with the KV cache as IR"
  echo "   kiln-compile model.onnx --max-seq-len 64 --batch-buckets 1,4 -o $GEN_MODEL.kiln"
  if ! command -v nvcc > /dev/null && [[ ! -x /usr/local/cuda/bin/nvcc ]]; then
    echo "   (no nvcc: showing the KV-cache ops of the fused IR instead of building the artifact)"
    "$BIN/kiln-compile" "$MODELS/$GEN_MODEL/model.onnx" --max-seq-len 64 --emit=fused -o - |
      grep -E 'kiln.kv_(cache|append|attention)' | head -3 | cut -c1-150 | sed 's/^/   | /'
    return 0
  fi
  "$BIN/kiln-compile" "$MODELS/$GEN_MODEL/model.onnx" --max-seq-len 64 --batch-buckets 1,4 \
    -o "$OUT/$GEN_MODEL.kiln"
  local m=$OUT/$GEN_MODEL.kiln/manifest.txt
  echo "   $(grep '^kv_cache' "$m" | awk '{print "kv cache: " $2 " layers, " $3 " kv heads, head dim " $4 ", " $5 " rows x " $6 " positions, " $7 ", " $8 " bytes"}')"
  echo "   step functions: $(grep '^function' "$m" | awk '{printf "%s (%s launches) ", $2, $3}')"
  local backend=ref where="the CPU reference backend (no CUDA device here)"
  if nvidia-smi > /dev/null 2>&1; then
    backend=cuda where="the GPU ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)), one CUDA graph replayed per token"
  fi
  echo "   kiln-run $GEN_MODEL.kiln --generate --prompt-ids prompt_ids.pb --max-new-tokens 24 --backend=$backend"
  echo "   running on $where"
  "$BIN/kiln-run" "$OUT/$GEN_MODEL.kiln" --generate --backend=$backend \
    --prompt-ids "$ORACLE/prompt_ids.pb" --max-new-tokens 24 --output-dir "$OUT/generated" |
    sed 's/^/   new tokens: /'
  if "${PYTHON:-python3}" -c "import sys; sys.path.insert(0, sys.argv[1]); import check_generation as c; sys.exit(c.read_tensor(sys.argv[2]) != c.read_tensor(sys.argv[3]))" \
       "$ROOT/utils" "$OUT/generated/generated_ids.pb" "$ORACLE/greedy_ids.pb"; then
    echo "   = Hugging Face generate()'s greedy tokens (hf-tiny-generate/llama/greedy_ids.pb)"
  else
    echo "   (differs from hf-tiny-generate/llama/greedy_ids.pb)"
    return 1
  fi
}

if [[ -d $MODELS/$GEN_MODEL && -d $ORACLE ]]; then
  step_generate
else
  echo "demo: $MODELS/$GEN_MODEL or $ORACLE not found; skipping generation"
fi
echo
step_simplify
echo
if [[ -d $MODELS/$MODEL ]]; then
  step_import
  echo
  if step_compile; then
    echo
    step_run
  fi
else
  echo "demo: $MODELS/$MODEL not found; skipping import, compile and run"
fi
echo
echo "demo: done (outputs in $OUT)"
