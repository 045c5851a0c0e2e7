#!/bin/bash
# Nsight Compute over one eager decode step of an artifact, on the GPU
# machine (docs/bench.md, "Where a step's time goes").
#
#   bash test/GPU/profile_decode.sh ARTIFACT.kiln LOGDIR
#
# Needs build-gpu/bin/kiln-bench (test/GPU/bench_decode.sh builds it) and
# ncu. Writes to LOGDIR:
#   step.csv       every kernel of one eager step of the batch-BATCH function
#                  (default 1): duration, DRAM bytes read and written,
#                  registers, grid and block, at the GPU's own clocks
#                  (--clock-control none) with caches flushed before each
#                  kernel (ncu's default), so a kernel's weights come from
#                  memory as they do in a step;
#   step.txt       step.csv summed per kernel class (the name without its
#                  k<N>_ prefix), with GB/s from DRAM bytes over duration;
#   detail.txt     the full section set for the first LAUNCHES (default 2)
#                  launches whose kernel matches DETAIL (a regex, default the
#                  attention and the largest GEMV classes).
# Environment: BATCH (default 1), CTX (default 512), DETAIL, LAUNCHES.
set -u
ART=${1:?usage: profile_decode.sh ARTIFACT.kiln LOGDIR}
LOG=${2:?usage: profile_decode.sh ARTIFACT.kiln LOGDIR}
BATCH=${BATCH:-1}
CTX=${CTX:-512}
DETAIL=${DETAIL:-kv_attention|and4}
LAUNCHES=${LAUNCHES:-2}
mkdir -p "$LOG"
export PATH=$PATH:/usr/local/cuda/bin
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
BENCH=(build-gpu/bin/kiln-bench "$ART" --batch "$BATCH" --ctx "$CTX" --steps 1 --warmup 0 --mode eager)

"$NCU" --clock-control none --csv --metrics \
  gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,launch__registers_per_thread,launch__grid_size,launch__block_size \
  "${BENCH[@]}" >"$LOG/step.raw" 2>"$LOG/step.err"
rc=$?
grep '^"' "$LOG/step.raw" >"$LOG/step.csv"
python3 - "$LOG/step.csv" <<'PYEOF' | tee "$LOG/step.txt"
import csv, re, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
k = collections.OrderedDict()
for r in rows:
    k.setdefault((r["ID"], r["Kernel Name"]), {})[r["Metric Name"]] = r["Metric Value"].replace(",", "")
num = lambda s: float(s) if s not in ("", "n/a") else 0.0
cls = collections.OrderedDict()
total_ns = 0.0
for (i, name), m in k.items():
    c = re.sub(r"^k\d+_", "", name.split("(")[0])
    ns = num(m.get("gpu__time_duration.sum", "0"))
    rd = num(m.get("dram__bytes_read.sum", "0"))
    e = cls.setdefault(c, [0, 0.0, 0.0, m.get("launch__registers_per_thread", "?"),
                           m.get("launch__grid_size", "?"), m.get("launch__block_size", "?")])
    e[0] += 1; e[1] += ns; e[2] += rd
    total_ns += ns
print(f"{len(k)} kernels, {total_ns / 1000:.1f} us summed (ncu, clocks as they run, caches flushed before each)")
print(f"{'class':60s} {'count':>5s} {'us':>8s} {'us each':>8s} {'MB read':>9s} {'GB/s':>7s} {'regs':>5s} {'grid':>6s} {'block':>5s}")
for c, (n, ns, rd, regs, grid, block) in sorted(cls.items(), key=lambda kv: -kv[1][1]):
    gbs = rd / ns if ns else 0.0
    print(f"{c[:60]:60s} {n:5d} {ns / 1000:8.1f} {ns / 1000 / n:8.2f} {rd / 1e6:9.2f} {gbs:7.0f} {regs:>5s} {grid:>6s} {block:>5s}")
if not k:
    sys.exit("profile_decode: ncu profiled no kernel")
PYEOF
summary_rc=${PIPESTATUS[0]}
"$NCU" --clock-control none --set full --kernel-name "regex:$DETAIL" --launch-count "$LAUNCHES" \
  "${BENCH[@]}" >"$LOG/detail.txt" 2>&1
detail_rc=$?
echo "profile_decode: ncu rc=$rc, summary rc=$summary_rc, detail rc=$detail_rc"
[ "$rc" = 0 ] && [ "$summary_rc" = 0 ] && [ "$detail_rc" = 0 ]
