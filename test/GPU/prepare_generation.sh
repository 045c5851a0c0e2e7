#!/bin/bash
# Builds, on this (GPU-less) machine, what the GPU machine needs to check
# generation through the KV cache (docs/kv-cache.md) into BUNDLE (default
# .gpugen/, git-ignored, carried by the device tool):
#   BUNDLE/<fixture>/model.kiln   kiln-compile --max-seq-len 64 with batch
#                                 buckets 1,4 and prefill buckets 4,16 (batch
#                                 1 only for the static one-token exports)
#   BUNDLE/<fixture>/oracle/      ../shared/models/hf-tiny-generate/<arch>/
# for every *-decoder-dynamic-* and *-decode-torchscript fixture that has a
# generation oracle, and for test/Models/genai-* with their onnxruntime
# oracles (generate/). Any failure stops with a message and a non-zero exit.
# KILN_FLAGS (environment): extra kiln-compile flags for every model (e.g.
# --gemv-split-k=2 --prefetch-weights-mb=1, so generation checks code paths
# the tiny models would not take by default).
# Usage: test/GPU/prepare_generation.sh BUILD_DIR [BUNDLE] [ARCH]
set -euo pipefail
BUILD=${1:?build dir}
BUNDLE=${2:-.gpugen}
ARCH=${3:-sm_90a}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${KILN_SHARED:-$(cd "$HERE/../../.." && pwd)/shared}
die() { echo "prepare_generation: FAILED: $*" >&2; exit 1; }
[ -x "$BUILD/bin/kiln-compile" ] || die "$BUILD/bin/kiln-compile not found"
rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
n=0
for dir in "$SHARED"/models/hf-tiny/*-decoder-dynamic-* "$SHARED"/models/hf-tiny/*-decode-torchscript; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  arch=${name%%-*}
  oracle=$SHARED/models/hf-tiny-generate/$arch
  [ -f "$oracle/greedy_ids.pb" ] || die "$name: no generation oracle at $oracle"
  buckets=(--batch-buckets 1,4 --prefill-buckets 4,16)
  [[ $name == *-decode-torchscript ]] && buckets=(--batch-buckets 1)
  mkdir -p "$BUNDLE/$name"
  # shellcheck disable=SC2086 # KILN_FLAGS is a list of flags
  "$BUILD/bin/kiln-compile" "$dir/model.onnx" --max-seq-len 64 "${buckets[@]}" \
    --arch "$ARCH" ${KILN_FLAGS:-} -o "$BUNDLE/$name/model.kiln" || die "$name: kiln-compile"
  cp -r "$oracle" "$BUNDLE/$name/oracle"
  echo "prepared $name (${buckets[*]})"
  n=$((n+1))
done
[ $n -gt 0 ] || die "no fixtures under $SHARED/models/hf-tiny"
# The ONNX Runtime GenAI models of test/Models with onnxruntime's oracles
# (GroupQueryAttention's caches as kiln's KV cache; the Qwen2 in int4,
# MatMulNBits through kiln::matmulNBitsGemv).
for dir in "$HERE"/../Models/genai-*; do
  [ -f "$dir/generate/greedy_ids.pb" ] || continue
  name=$(basename "$dir")
  mkdir -p "$BUNDLE/$name"
  # shellcheck disable=SC2086
  "$BUILD/bin/kiln-compile" "$dir/model.onnx" --max-seq-len 64 --batch-buckets 1,4 \
    --prefill-buckets 4 --arch "$ARCH" ${KILN_FLAGS:-} -o "$BUNDLE/$name/model.kiln" || die "$name: kiln-compile"
  cp -r "$dir/generate" "$BUNDLE/$name/oracle"
  echo "prepared $name (--max-seq-len 64 --batch-buckets 1,4 --prefill-buckets 4)"
  n=$((n+1))
done
echo "prepare_generation: $n entries in $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
