#!/bin/bash
# Builds what the GPU machine needs to check every hf-tiny fixture on CUDA, on
# this (GPU-less) machine, into BUNDLE (default .gpu/, git-ignored, carried by
# the device tool). One entry per fixture folder and test data set in it:
#   BUNDLE/<fixture>.set<N>/model.kiln    kiln-compile --arch ARCH (default
#                                         sm_90a), every symbolic input dim
#                                         bound from test_data_set_N's input
#                                         shapes (utils/run_fixture.py --print-binds)
#   BUNDLE/<fixture>.set<N>/input_K.pb    test_data_set_N's inputs
#   BUNDLE/<fixture>.set<N>/expected/     test_data_set_N's shipped outputs
# Any failure (no data set, a bind that cannot be derived, a compile error)
# stops with a message naming the fixture and data set, and exits non-zero.
# Usage: test/GPU/prepare_bundle.sh BUILD_DIR [BUNDLE] [ARCH]
# KILN_FLAGS (environment): extra kiln-compile flags for every entry (e.g.
# --merge-gemms); entries are then named <fixture>.set<N>+flags.
# (fixtures from ../shared/models/hf-tiny, or $KILN_MODELS; python: $PYTHON)
set -euo pipefail
BUILD=${1:?build dir}
BUNDLE=${2:-.gpu}
ARCH=${3:-sm_90a}
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS=${KILN_MODELS:-$(cd "$HERE/../../.." && pwd)/shared/models/hf-tiny}
PY=${PYTHON:-python3}
read -ra extra <<<"${KILN_FLAGS:-}"
suffix=${KILN_FLAGS:+"+flags"}
RUN_FIXTURE=$HERE/../../utils/run_fixture.py
die() { echo "prepare_bundle: FAILED: $*" >&2; exit 1; }

[ -x "$BUILD/bin/kiln-compile" ] || die "$BUILD/bin/kiln-compile not found"
[ -d "$MODELS" ] || die "no fixtures at $MODELS"
rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
entries=0
for dir in "$MODELS"/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  sets=()
  for s in "$dir"/test_data_set_*; do [ -d "$s" ] && sets+=("${s##*_}"); done
  [ ${#sets[@]} -gt 0 ] || die "$name: no test_data_set_N folder"
  for n in $(printf '%s\n' "${sets[@]}" | sort -n); do
    data=$dir/test_data_set_$n
    out=$BUNDLE/$name.set$n$suffix
    binds=$("$PY" "$RUN_FIXTURE" "$dir" --data-set "$n" --print-binds) \
      || die "$name set $n: cannot derive binds (run_fixture.py --print-binds)"
    read -ra bind <<<"$binds"
    mkdir -p "$out/expected"
    "$BUILD/bin/kiln-compile" "$dir/model.onnx" -o "$out/model.kiln" --arch "$ARCH" "${bind[@]}" "${extra[@]}" \
      || die "$name set $n: kiln-compile $dir/model.onnx --arch $ARCH ${bind[*]} ${extra[*]}"
    compgen -G "$data/input_*.pb" >/dev/null || die "$name set $n: no input_*.pb"
    compgen -G "$data/output_*.pb" >/dev/null || die "$name set $n: no output_*.pb"
    cp "$data"/input_*.pb "$out/"
    cp "$data"/output_*.pb "$out/expected/"
    echo "prepared $name.set$n${bind[*]:+ ${bind[*]}}"
    entries=$((entries+1))
  done
done
echo "prepare_bundle: $entries entries in $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
