#!/usr/bin/env bash
# link-static-kiln-compile.sh BUILD OUT
#
# Links a kiln-compile that runs on a machine without LLVM/MLIR (the lent
# GPU machine): BUILD's kiln-compile object and static kiln libraries
# (the link line of bin/kiln-compile in BUILD/build.ninja) against
# /usr/lib/llvm-22/lib/libMLIR*.a and libLLVM*.a in one
# --start-group/--end-group, instead of libMLIR.so/libLLVM.so. Protobuf and
# onnx_proto stay shared: libonnx_proto.so.1 and libprotobuf.so.32 are
# copied next to the binary, which finds them through RPATH $ORIGIN
# (DT_RPATH, so it also serves libonnx_proto's own libprotobuf lookup).
# The result is stripped. Writes OUT/kiln-compile, OUT/libonnx_proto.so.1,
# OUT/libprotobuf.so.32 (about 9 MB together; needs glibc >= 2.34).
#
# Build BUILD's kiln-compile first (ninja -C BUILD kiln-compile); this
# script only reads BUILD. KILN_KERNELS_DIR is baked in as BUILD's source
# tree: pass --kernels-dir REPO/codegen/kernels where the binary runs
# elsewhere.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD OUT" >&2
  exit 2
fi
BUILD=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
LLVM_LIB=${LLVM_LIB:-/usr/lib/llvm-22/lib}
SYSLIB=${SYSLIB:-/usr/lib/x86_64-linux-gnu}
CXX=${CXX:-c++}

ninja_file="$BUILD/build.ninja"
[ -f "$ninja_file" ] || { echo "error: $ninja_file not found" >&2; exit 1; }

# The kiln-compile link statement: its object(s) and the LINK_LIBRARIES
# variable that follows it.
stmt=$(awk '/^build bin\/kiln-compile: /{found=1} found{print} found && /^$/{exit}' "$ninja_file")
[ -n "$stmt" ] || { echo "error: no 'build bin/kiln-compile' in $ninja_file" >&2; exit 1; }
objs=$(printf '%s\n' "$stmt" | head -1 | sed -e 's/^build bin\/kiln-compile: [^ ]* //' -e 's/ | .*//' -e 's/ || .*//')
libs=$(printf '%s\n' "$stmt" | sed -n 's/^  LINK_LIBRARIES = //p')

kiln_libs=()
for w in $libs; do
  case "$w" in
    lib/*.a) kiln_libs+=("$BUILD/$w") ;;
    *) ;; # the rpath, libMLIR.so, libLLVM.so, onnx_proto and protobuf: ours below
  esac
done
obj_paths=()
for o in $objs; do obj_paths+=("$BUILD/$o"); done
for f in "${obj_paths[@]}" "${kiln_libs[@]}"; do
  [ -f "$f" ] || { echo "error: $f missing (build kiln-compile in $BUILD first)" >&2; exit 1; }
done

cp -f "$SYSLIB/libonnx_proto.so.1" "$OUT/libonnx_proto.so.1"
cp -fL "$SYSLIB/libprotobuf.so.32" "$OUT/libprotobuf.so.32"

# LLVM's Support library calls arc4random (glibc 2.36); a local definition
# over getrandom (glibc 2.25) keeps the binary loadable on glibc 2.34/2.35
# (Ubuntu 22.04) as well.
shim_dir=$(mktemp -d)
trap 'rm -rf "$shim_dir"' EXIT
cat >"$shim_dir/arc4random.c" <<'CEOF'
#include <stdint.h>
#include <sys/random.h>
uint32_t arc4random(void) {
  uint32_t v = 0;
  while (getrandom(&v, sizeof v, 0) != (long)sizeof v) {
  }
  return v;
}
CEOF
"${CC:-cc}" -O2 -fPIC -c "$shim_dir/arc4random.c" -o "$shim_dir/arc4random.o"

start=$(date +%s.%N)
# shellcheck disable=SC2016  # $ORIGIN is for the dynamic loader
"$CXX" -o "$OUT/kiln-compile" "${obj_paths[@]}" "$shim_dir/arc4random.o" \
  -Wl,--gc-sections -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN' \
  -Wl,--start-group "${kiln_libs[@]}" "$LLVM_LIB"/libMLIR*.a "$LLVM_LIB"/libLLVM*.a \
  -Wl,--end-group \
  "$OUT/libonnx_proto.so.1" "$OUT/libprotobuf.so.32" \
  -lpthread -ldl -lrt -lm
strip "$OUT/kiln-compile"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "linked in %.1f s\n", e - s }'
ls -la "$OUT"
