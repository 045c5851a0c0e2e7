#!/bin/bash
# kiln's decode step beside the PyTorch peers, in one device call
# (docs/bench.md).
#
# Here (no GPU; needs the full build's kiln-compile in BUILD, default build):
#   bash test/GPU/bench_decode.sh prepare [BUNDLE] [BUILD]
# writes BUNDLE (default .gpubench, git-ignored through /.gpu*/, about 9 MB):
#   BUNDLE/kiln-compile, libonnx_proto.so.1, libprotobuf.so.32
#       a kiln-compile linked against the static LLVM/MLIR libraries
#       (utils/link-static-kiln-compile.sh), so it runs where there is no LLVM
#   BUNDLE/peer_decode.py   ../shared/bench/peer_decode.py (../shared does not
#                           travel to the GPU machine)
#
# On the GPU machine, from the repository root (carry BUNDLE):
#   bash test/GPU/bench_decode.sh BUNDLE LOGDIR
#   1. builds kiln-run and kiln-bench in the runtime-only tree (build-gpu/),
#      while utils/make-llama-1b-onnx.py --shape MODEL --dynamic --random 0 writes the
#      Llama-3.2-1B-shaped model (fp32, 16 layers, about 6 GB) to $WORK;
#   2. compiles it with BUNDLE/kiln-compile --max-seq-len 1024
#      --batch-buckets BATCHES --precision (PRECISION) (timed);
#   2b. checks the artifact's logits against onnxruntime (CPU, fp32) on the
#      same model: utils/make-ort-oracle.py, then utils/check_precision.py
#      --backend cuda (CHECK=0 skips it; a failure makes the exit status 1);
#   3. kiln-bench --batch BATCHES --ctx 512 --mode eager,graph --per-kernel --json;
#   4. peer_decode.py --models MODEL --batch BATCHES --ctx 512
#      --modes eager,graph,compile --dtype PRECISION, in what is left of the time
#      budget (BENCH_BUDGET_S, default 540 s for the whole script);
#   5. the summary: one line per batch, and a last line
#      `bench: b1 kiln graph X ms, floor F ms, Rx floor, torch.compile C ms; b8 ...`.
# LOGDIR gets log.txt (every step's output and timing), kiln-bench.txt,
# kiln-bench.json, memory.json, manifest.txt (the artifact's), peer.jsonl,
# summary.txt, with TRACE=1 trace.json and with VARIANTS variants.txt: 9
# files with both, one more than the device tool returns, so tar LOGDIR
# into one file then.
# Environment: CHECK (1, default: step 2b, the artifact's logits against onnxruntime before timing; 0 skips it),
# KILN_FLAGS (extra kiln-compile flags of the main run), VARIANTS (';'-separated kiln-compile
# flag sets, each compiled and benchmarked at batch 1 - or at VARIANT_BATCHES, e.g. 8 - in graph mode after the main run, into variants.txt;
# VARIANT_BENCH_FLAGS: extra kiln-bench flags of the variants, e.g. --per-kernel; VARIANT_COMPILER: the kiln-compile
# the variants use, default BUNDLE/kiln-compile - e.g. another commit's static one beside it, to set a rule
# that has no flag beside the main run's; VARIANTS=' ' then runs it with no extra flags; VARIANT_KERNELS_DIR:
# the kiln_kernels.cuh directory the variants compile with, default the tree's - e.g. a copy of another
# commit's, to time a kernel change beside it), VARIANT_ENVS (';'-separated sets of runtime environment
# assignments, e.g. ' ;KILN_RUNTIME_CARVEOUT=100': each variant is benchmarked under each set in turn, one
# right after the other, with a `variant: FLAGS | env: SET` header each; ' ' is the environment as it is),
# TRACE (1: kiln-bench --trace), INT4 (1: the model's projections and lm head as int4
# MatMulNBits, utils/make-llama-1b-onnx.py --int4), MODEL (llama1b, default, qwen05b or llama8b: the shapes
# of peer_decode.py's configurations; llama8b writes 32 GB of fp32 weights), LAYERS (the model's
# transformer layers, default the shape's: a shorter model of the same shapes for the check; the peers,
# which have no such option, are skipped then), PEERS (1, default; 0 skips step 4), RNG (numpy, default, or torch: make-llama-1b-onnx.py --rng,
# the same distributions drawn on the GPU, for llama8b's 32 GB), BATCHES (batch sizes, default 1,8: the
# buckets compiled, benchmarked and run by the peers), PRECISION (fp32 or bf16, default fp32: kiln-compile
# --precision and peer_decode.py --dtype), WORK (scratch for the model and artifact, default
# /tmp/kiln-bench-work), PYTHON (default python3), BENCH_BUDGET_S,
# NINJA_JOBS (ninja -j; default ninja's own).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}

if [ "${1:-}" = prepare ]; then
  set -euo pipefail
  BUNDLE=${2:-.gpubench}
  BUILD=${3:-build}
  [ -x "$BUILD/bin/kiln-compile" ] || { echo "bench_decode prepare: $BUILD/bin/kiln-compile not found" >&2; exit 1; }
  PEER=$ROOT/../shared/bench/peer_decode.py
  [ -f "$PEER" ] || { echo "bench_decode prepare: $PEER not found" >&2; exit 1; }
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE"
  "$ROOT/utils/link-static-kiln-compile.sh" "$BUILD" "$BUNDLE"
  cp "$PEER" "$BUNDLE/peer_decode.py"
  env -u LD_LIBRARY_PATH "$BUNDLE/kiln-compile" --help >/dev/null
  if env -u LD_LIBRARY_PATH ldd "$BUNDLE/kiln-compile" | grep -E 'libMLIR|libLLVM'; then
    echo "bench_decode prepare: $BUNDLE/kiln-compile still needs LLVM/MLIR libraries" >&2
    exit 1
  fi
  echo "bench_decode prepare: $BUNDLE ready ($(du -sh "$BUNDLE" | cut -f1)); carry it"
  exit 0
fi

BUNDLE=${1:?usage: bench_decode.sh BUNDLE LOGDIR | bench_decode.sh prepare [BUNDLE] [BUILD]}
LOG=${2:?usage: bench_decode.sh BUNDLE LOGDIR}
BUNDLE=$(cd "$BUNDLE" && pwd)
mkdir -p "$LOG"
LOG=$(cd "$LOG" && pwd)
WORK=${WORK:-/tmp/kiln-bench-work}
BUDGET=${BENCH_BUDGET_S:-540}
PRECISION=${PRECISION:-fp32}
MODEL=${MODEL:-llama1b}
# INT4=1: every projection and the lm head as int4 MatMulNBits (the peers
# still run PRECISION: they have no int4 model).
INT4_FLAG=
[ "${INT4:-0}" = 1 ] && INT4_FLAG=--int4
# The generator's other flags: LAYERS, RNG.
GEN_FLAGS="--rng ${RNG:-numpy}"
if [ -n "${LAYERS:-}" ]; then
  [[ $LAYERS =~ ^[1-9][0-9]*$ ]] || { echo "bench_decode: LAYERS must be a positive number, got '$LAYERS'" >&2; exit 2; }
  GEN_FLAGS="$GEN_FLAGS --layers $LAYERS"
fi
case ${RNG:-numpy} in
  numpy|torch) ;;
  *) echo "bench_decode: RNG must be numpy or torch, got '$RNG'" >&2; exit 2 ;;
esac
BATCHES=${BATCHES:-1,8}
# TRACE=1: kiln-bench --trace LOGDIR/trace.json (where each launch ends in
# the graph; its table is in kiln-bench.txt).
TRACE_FLAG=
[ "${TRACE:-0}" = 1 ] && TRACE_FLAG="--trace '$LOG/trace.json'"
[[ $BATCHES =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "bench_decode: BATCHES must be a list like 1,8,32, got '$BATCHES'" >&2; exit 2; }
case $MODEL in
  llama1b|qwen05b|llama8b) ;;
  *) echo "bench_decode: MODEL must be llama1b, qwen05b or llama8b, got '$MODEL'" >&2; exit 2 ;;
esac
case $PRECISION in
  fp32) KILN_PRECISION=f32 ;;
  bf16) KILN_PRECISION=bf16 ;;
  *) echo "bench_decode: PRECISION must be fp32 or bf16, got '$PRECISION'" >&2; exit 2 ;;
esac
START=$(date +%s)
export PATH=$PATH:/usr/local/cuda/bin
export PYTHONUNBUFFERED=1
cd "$ROOT"
chmod +x "$BUNDLE/kiln-compile" 2>/dev/null

left() { echo $((START + BUDGET - $(date +%s))); }
# stage NAME CMD...: runs CMD, appends its output to log.txt, records its
# wall time; returns CMD's status.
stage() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s.%N)
  echo "== $name: $*" >>"$LOG/log.txt"
  "$@" >>"$LOG/log.txt" 2>&1
  rc=$?
  local secs
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "== $name: rc=$rc, ${secs} s" | tee -a "$LOG/log.txt"
  eval "T_$name=$secs"
  return $rc
}

: >"$LOG/log.txt"
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.sm,clocks.mem --format=csv
  nvcc --version | tail -1
  "$PY" -c 'import torch; print("torch", torch.__version__)'
  git -C "$ROOT" log -1 --format='kiln %H %s' 2>/dev/null || true
} >>"$LOG/log.txt" 2>&1

rm -rf "$WORK" && mkdir -p "$WORK"
# 1. The model (in the background) and the runtime-only tools.
( t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # GEN_FLAGS is a list of flags
  "$PY" utils/make-llama-1b-onnx.py "$WORK/$MODEL" --shape "$MODEL" --dynamic --random 0 $GEN_FLAGS $INT4_FLAG >"$WORK/model.log" 2>&1
  echo "rc=$? $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" >"$WORK/model.status" ) &
MODEL_PID=$!
build() {
  cmake -G Ninja -S . -B build-gpu -DKILN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    ninja -C build-gpu ${NINJA_JOBS:+-j "$NINJA_JOBS"} kiln-run kiln-bench
}
stage build build
BUILD_RC=$?
wait "$MODEL_PID"
{ echo "== model: utils/make-llama-1b-onnx.py $WORK/$MODEL --shape $MODEL --dynamic --random 0 $GEN_FLAGS $INT4_FLAG"; cat "$WORK/model.log"; } >>"$LOG/log.txt"
read -r MODEL_RC T_model < <(sed 's/rc=//' "$WORK/model.status")
echo "== model: rc=$MODEL_RC, ${T_model} s" | tee -a "$LOG/log.txt"

# 2. Compile (the binary from the bundle; kernels from this tree).
COMPILE_RC=1
if [ "$MODEL_RC" = 0 ]; then
  # shellcheck disable=SC2086 # KILN_FLAGS is a list of flags
  stage compile env -u LD_LIBRARY_PATH "$BUNDLE/kiln-compile" "$WORK/$MODEL/model.onnx" \
    --max-seq-len 1024 --batch-buckets "$BATCHES" --arch sm_90a --precision "$KILN_PRECISION" \
    --kernels-dir "$ROOT/codegen/kernels" --memory-report "$LOG/memory.json" ${KILN_FLAGS:-} \
    -o "$WORK/$MODEL.kiln"
  COMPILE_RC=$?
  [ -f "$WORK/$MODEL.kiln/manifest.txt" ] && cp "$WORK/$MODEL.kiln/manifest.txt" "$LOG/manifest.txt"
fi

# 2b. Before timing anything: the artifact's logits against ONNX Runtime
# (CPU, fp32) on the same model and weights, one token at a time through
# the KV cache (utils/make-ort-oracle.py), checked by
# utils/check_precision.py: every row within BOUND x the row's largest
# |logit| (2e-2 for bf16, docs/precision.md; 1e-3 for fp32), the argmax
# of every greedy step whose top-2 gap exceeds that bound, and a batch of
# three prompts against each alone. In bf16 PyTorch runs the same forced
# ids on the same weights first (utils/torch-forced-logits.py,
# transformers' Llama in bf16): a row also passes within 1.5x PyTorch's own
# error on it (bench/RESULTS.md, session 8: on 16 random layers bf16
# rounding alone passes 2e-2 of the small logits). Not for --int4 models
# (MatMulNBits weights).
CHECK_RC=skipped
if [ "${CHECK:-1}" = 1 ] && [ "$COMPILE_RC" = 0 ] && [ "$BUILD_RC" = 0 ]; then
  BOUND=2e-2
  [ "$PRECISION" = fp32 ] && BOUND=1e-3
  PEER_LOGITS=()
  if stage oracle "$PY" utils/make-ort-oracle.py "$WORK/$MODEL/model.onnx" "$WORK/oracle" \
       --prompt 4 --new 12; then
    if [ "$PRECISION" != fp32 ] && [ -z "$INT4_FLAG" ]; then
      HEAD_DIM=64
      [ "$MODEL" = llama8b ] && HEAD_DIM=128
      stage peerlogits "$PY" utils/torch-forced-logits.py "$WORK/$MODEL/model.onnx" \
        "$WORK/oracle" "$WORK/peer-logits.pb" --dtype "$PRECISION" --head-dim "$HEAD_DIM" &&
        PEER_LOGITS=(--peer-logits "$WORK/peer-logits.pb")
    fi
    if stage check "$PY" utils/check_precision.py --kiln-run build-gpu/bin/kiln-run \
         --artifact "$WORK/$MODEL.kiln" --oracle-dir "$WORK/oracle" --backend cuda \
         --bound "$BOUND" --work "$WORK/check" "${PEER_LOGITS[@]}"; then
      CHECK_RC=0
    else
      CHECK_RC=1
    fi
  else
    CHECK_RC=1
  fi
  grep -E "^(make-ort-oracle|peer|logits|argmax|batch):" "$LOG/log.txt" | tail -5 >"$WORK/check.txt"
fi
[ -n "${VARIANTS:-}" ] || rm -f "$WORK/$MODEL/model.onnx.data" # the artifact has its own copy

# 3. kiln-bench.
BENCH_RC=1
if [ "$BUILD_RC" = 0 ] && [ "$COMPILE_RC" = 0 ]; then
  stage bench bash -c "set -o pipefail; build-gpu/bin/kiln-bench '$WORK/$MODEL.kiln' --batch $BATCHES --ctx 512 \
    --steps 128 --warmup 16 --mode eager,graph --per-kernel $TRACE_FLAG --json '$LOG/kiln-bench.json' | tee '$LOG/kiln-bench.txt'"
  BENCH_RC=$?
fi

# 3b. VARIANTS: the same model compiled with other kiln-compile flags
# (';'-separated flag sets), each benchmarked in graph mode at batch 1 (or
# the batches VARIANT_BATCHES lists) right after the main run, into variants.txt (one `variant: FLAGS` header,
# then kiln-bench's table; VARIANT_BENCH_FLAGS adds kiln-bench flags, e.g.
# --per-kernel). Each artifact is deleted after its run.
if [ -n "${VARIANTS:-}" ] && [ "$BUILD_RC" = 0 ] && [ "$COMPILE_RC" = 0 ]; then
  IFS=';' read -r -a VARIANT_LIST <<<"$VARIANTS"
  for i in "${!VARIANT_LIST[@]}"; do
    flags=${VARIANT_LIST[$i]}
    chmod +x "${VARIANT_COMPILER:-$BUNDLE/kiln-compile}" 2>/dev/null
    # shellcheck disable=SC2086
    if stage "variant$i" env -u LD_LIBRARY_PATH "${VARIANT_COMPILER:-$BUNDLE/kiln-compile}" "$WORK/$MODEL/model.onnx" \
        --max-seq-len 1024 --batch-buckets "${VARIANT_BATCHES:-1}" --arch sm_90a --precision "$KILN_PRECISION" \
        --kernels-dir "${VARIANT_KERNELS_DIR:-$ROOT/codegen/kernels}" $flags -o "$WORK/variant.kiln"; then
      IFS=';' read -r -a ENV_LIST <<<"${VARIANT_ENVS:- }"
      for envs in "${ENV_LIST[@]}"; do
        echo "variant: ${flags}${VARIANT_COMPILER:+ (compiler $VARIANT_COMPILER)}${VARIANT_ENVS:+ | env: $envs}" >>"$LOG/variants.txt"
        # shellcheck disable=SC2086 # envs is a list of assignments
        env $envs build-gpu/bin/kiln-bench "$WORK/variant.kiln" --batch "${VARIANT_BATCHES:-1}" --ctx 512 --steps 128 \
          --warmup 16 --mode graph ${VARIANT_BENCH_FLAGS:-} >>"$LOG/variants.txt" 2>&1 ||
          echo "variant $i: kiln-bench failed" >>"$LOG/variants.txt"
      done
    else
      echo "variant: ${flags}: kiln-compile failed" >>"$LOG/variants.txt"
    fi
    rm -rf "$WORK/variant.kiln"
  done
  rm -f "$WORK/$MODEL/model.onnx.data"
fi

# 4. The peers, in the time that is left (10 s kept for the summary).
PEER=$BUNDLE/peer_decode.py
[ -f "$PEER" ] || PEER=$ROOT/../shared/bench/peer_decode.py
PEER_LEFT=$(( $(left) - 10 ))
if [ "${PEERS:-1}" = 0 ]; then
  echo "== peer: skipped, PEERS=0" | tee -a "$LOG/log.txt"
elif [ -n "${LAYERS:-}" ]; then
  echo "== peer: skipped, LAYERS=$LAYERS (the peers have the shape's layers)" | tee -a "$LOG/log.txt"
elif [ "$PEER_LEFT" -gt 30 ]; then
  stage peer timeout "$PEER_LEFT" bash -c "set -o pipefail; '$PY' '$PEER' --models $MODEL --batch $BATCHES --ctx 512 \
    --modes eager,graph,compile --dtype $PRECISION | tee '$LOG/peer.jsonl'"
else
  echo "== peer: skipped, ${PEER_LEFT} s left of the budget" | tee -a "$LOG/log.txt"
fi

# 5. The summary.
"$PY" - "$LOG" "$BUILD_RC" "$MODEL_RC" "$COMPILE_RC" "$BENCH_RC" "${T_compile:-}" "$CHECK_RC" "$WORK/check.txt" <<'PYEOF' | tee "$LOG/summary.txt"
import json, os, sys
log, build_rc, model_rc, compile_rc, bench_rc, t_compile, check_rc, check_txt = sys.argv[1:9]
if check_rc == "skipped":
    print("check against onnxruntime: skipped")
else:
    lines = open(check_txt).read().strip().splitlines() if os.path.exists(check_txt) else []
    print("check against onnxruntime: " + ("PASS" if check_rc == "0" else "FAIL") +
          "".join("\n  " + l for l in lines))
kiln, peer, device = {}, {}, ""
try:
    k = json.load(open(os.path.join(log, "kiln-bench.json")))
    device = k.get("device", "")
    for r in k["results"]:
        kiln[(r["batch"], r["mode"])] = r
    print(f"kiln: {device}, copy {k['copy_GBps']:.0f} GB/s, ctx {k['ctx']}, "
          f"compile {t_compile or '?'} s")
except (OSError, ValueError, KeyError) as e:
    print(f"kiln: no results ({type(e).__name__}: {e}); build rc={build_rc}, "
          f"model rc={model_rc}, compile rc={compile_rc}, bench rc={bench_rc}")
try:
    for line in open(os.path.join(log, "peer.jsonl")):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            if "batch" in r:
                peer[r["batch"]] = r
            elif "d2d_copy_TBps" in r:
                print(f"peer: {r.get('device')}, copy {r['d2d_copy_TBps'] * 1000:.0f} GB/s, torch {r.get('torch')}")
except OSError:
    print("peer: no results")
fmt = lambda v: "-" if v is None else f"{v:.3f}"
parts = []
for b in sorted({b for b, _ in kiln} | set(peer)):
    g, e, p = kiln.get((b, "graph"), {}), kiln.get((b, "eager"), {}), peer.get(b, {})
    print(f"b{b}: kiln eager {fmt(e.get('ms_per_step'))} ms, graph {fmt(g.get('ms_per_step'))} ms "
          f"(capture {fmt(g.get('capture_ms'))} ms), floor {fmt(g.get('floor_ms'))} ms "
          f"({(g.get('weight_MB') or 0):.0f} MB), {fmt(g.get('x_floor'))}x floor; "
          f"torch eager {fmt(p.get('eager_ms'))}, cudagraph {fmt(p.get('eager_cudagraph_ms'))}, "
          f"compile {fmt(p.get('compile_ms'))} ms (floor {fmt(p.get('floor_ms'))})"
          + (f", compile error {p['compile_err'][:80]}" if "compile_err" in p else "")
          + (f"; kiln check: {g.get('logits_non_finite')} non-finite logits, graph-eager "
             f"{g.get('graph_vs_eager_max_abs_diff')}" if g else ""))
    parts.append(f"b{b} kiln graph {fmt(g.get('ms_per_step'))} ms, floor {fmt(g.get('floor_ms'))} ms, "
                 f"{fmt(g.get('x_floor'))}x floor, torch.compile {fmt(p.get('compile_ms'))} ms "
                 f"({fmt(p.get('compile_x_floor'))}x its floor)")
print("bench: " + ("; ".join(parts) if parts else "no results"))
PYEOF
[ "$BENCH_RC" = 0 ] && [ "$CHECK_RC" != 1 ]
