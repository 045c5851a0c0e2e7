#!/bin/bash
# Builds what the GPU machine needs to check every hf-tiny fixture on CUDA, on
# this (GPU-less) machine, into BUNDLE (default .gpu/, git-ignored, carried by
# the device tool):
#   BUNDLE/<fixture>/model.kiln    kiln-compile --arch ARCH (default sm_90a)
#   BUNDLE/<fixture>/input_N.pb    the fixture's test_data_set_0 inputs
#   BUNDLE/<fixture>/expected/     oracle outputs: the shipped ones for Llama and
#                                  Qwen2, ONNX's ReferenceEvaluator for GPT-2
#                                  (whose shipped outputs include dropout noise;
#                                  see docs/reference.md)
# Usage: test/GPU/prepare_bundle.sh BUILD_DIR [BUNDLE] [ARCH]
set -euo pipefail
BUILD=${1:?build dir}
BUNDLE=${2:-.gpu}
ARCH=${3:-sm_90a}
MODELS=$(cd "$(dirname "$0")/../../.." && pwd)/shared/models/hf-tiny
PY=${PYTHON:-python3}
rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
for dir in "$MODELS"/*/; do
  name=$(basename "$dir")
  out=$BUNDLE/$name
  mkdir -p "$out/expected"
  bind=()
  [[ $name == *torchscript* ]] && bind=(--bind past_len=7)
  "$BUILD/bin/kiln-compile" "$dir/model.onnx" -o "$out/model.kiln" --arch "$ARCH" "${bind[@]}"
  cp "$dir"/test_data_set_0/input_*.pb "$out/"
  if [[ $name == gpt2-* ]]; then
    "$PY" "$(dirname "$0")/../../utils/run_fixture.py" "$dir" --write-oracle "$out/expected"
  else
    cp "$dir"/test_data_set_0/output_*.pb "$out/expected/"
  fi
  echo "prepared $name"
done
