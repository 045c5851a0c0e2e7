#!/usr/bin/env bash
# Builds the importer's libFuzzer target with clang and runs it for a bounded
# time on a seed corpus of small ONNX models (the importer's lit inputs and,
# when present, the hf-tiny fixtures).
#
#   test/Fuzz/run-fuzz.sh [SECONDS] [BUILD_DIR]
#
# Needs: clang-14 + libclang-rt-14-dev (Debian bookworm; clang-14 links
# against the gcc-built shared libMLIR/libLLVM 22 through libstdc++), plus
# the normal build deps and python3 with the `onnx` package for the corpus.
# Override the compiler with CC=/CXX=. FUZZ_SEED=N fixes libFuzzer's seed (CI
# uses 1, so a run explores the same inputs each time and a failure can be
# replayed); unset, libFuzzer picks one and prints it ("Seed: N").
set -euo pipefail

SECONDS_TO_RUN=${1:-60}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${2:-$SRC/build-fuzz}
CC=${CC:-clang-14}
CXX=${CXX:-clang++-14}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-2}

cmake -G Ninja -S "$SRC" -B "$BUILD" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DKILN_ENABLE_CUDA=OFF -DKILN_BUILD_FUZZERS=ON
ninja -C "$BUILD" -j"$JOBS" kiln-import-fuzz

CORPUS=$BUILD/fuzz-corpus
mkdir -p "$CORPUS"
for text in "$SRC"/test/Import/*.onnxtext "$SRC"/test/Import/errors/*.onnxtext; do
  "$PYTHON" "$SRC/test/Import/Inputs/onnxtext2model.py" "$text" \
    "$CORPUS/$(basename "$text" .onnxtext).onnx"
done
"$PYTHON" "$SRC/test/Import/Inputs/make_bad_models.py" "$BUILD/fuzz-bad"
cp "$BUILD"/fuzz-bad/*.onnx "$CORPUS/"
"$PYTHON" "$SRC/test/Import/Inputs/make_weight_models.py" "$BUILD/fuzz-weights"
cp "$BUILD/fuzz-weights/inline.onnx" "$CORPUS/"
# External-data locations the importer must refuse (escapes through '..',
# absolute paths, non-integer offsets); the harness resolves them against a
# path that does not exist, so the refusals are reached without any file.
rm -rf "$BUILD/fuzz-untrusted"
"$PYTHON" "$SRC/test/Import/Inputs/make_untrusted_models.py" "$BUILD/fuzz-untrusted"
for m in "$BUILD"/fuzz-untrusted/*.onnx; do
  cp "$m" "$CORPUS/untrusted-$(basename "$m")"
done
MODELS=$SRC/../shared/models/hf-tiny
if [ -d "$MODELS" ]; then
  for m in "$MODELS"/*/model.onnx; do
    cp "$m" "$CORPUS/$(basename "$(dirname "$m")").onnx"
  done
fi

# -rss_limit_mb guards against runaway allocations; -timeout flags hangs.
# allow_user_poisoning=0: the MLIR/LLVM shared libraries are not
# instrumented, but llvm::BumpPtrAllocator's inline code compiled into the
# fuzzer is, and it poisons each new slab it creates; an allocation that
# libMLIR's own (uninstrumented) copy of that code later takes from such a
# slab is never unpoisoned, and ASan reports a use-after-poison that is not
# one (seen as a memmove in mlir::StringAttr::get). Real heap errors
# (overflow, use after free) are still reported.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allow_user_poisoning=0
SEED_ARGS=()
if [ -n "${FUZZ_SEED:-}" ]; then SEED_ARGS=(-seed="$FUZZ_SEED"); fi
"$BUILD/bin/kiln-import-fuzz" "$CORPUS" "${SEED_ARGS[@]}" \
  -max_total_time="$SECONDS_TO_RUN" \
  -timeout=10 -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1
