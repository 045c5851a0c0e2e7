#!/usr/bin/env python3
"""norm_widened.py gen OUT | check OUT: test/Reference/norm-widened.test.

gen writes OUT/ln.mlir: a bf16 LayerNorm as a 16-bit export that computes
its norm in f32 writes it (Cohere's `(w.to(f32) * layer_norm(x.to(f32)) +
b.to(f32)).to(bf16)`, the core as mean, sub, mul, mean, add, sqrt, div),
with f32 inputs (OUT/x.pb, OUT/w.pb, OUT/b.pb) cast to bf16 first and the
result cast back to f32; and numpy's emulation of it in float64, rounded to
bf16 once at the end (OUT/once.npy), and of the same with the scale's
product rounded to bf16 before the bias is added (OUT/twice.npy).

check OUT compares kiln-run's outputs of the original (OUT/orig), the
recognised (OUT/rec: one kiln.layer_norm of bf16) and the fused
(OUT/fused) functions: all three bit-identical to each other (the fold is
exact); the original within one bf16 ulp of the round-once emulation and
equal to it in all but a few elements (a rounding midpoint where the
reference's f32 sums and numpy's f64 ones differ); and away from the
round-twice emulation in a share of the elements, so a fold that rounded
between the scale and the bias would fail.
"""
import sys
import numpy as np
from onnx import numpy_helper

from bf16_util import bf16, load

ROWS, H = 4, 256
EPS = 1e-5


def gen(out):
    rng = np.random.default_rng(11)
    x = (2 + 3 * rng.standard_normal((ROWS, H))).astype(np.float32)
    w = (1 + 0.3 * rng.standard_normal(H)).astype(np.float32)
    b = (0.5 * rng.standard_normal(H)).astype(np.float32)
    for name, arr in (("x", x), ("w", w), ("b", b)):
        open(f"{out}/{name}.pb", "wb").write(
            numpy_helper.from_array(arr, name).SerializeToString())
    xb, wb, bb = bf16(x), bf16(w), bf16(b)
    mean = xb.mean(axis=1, keepdims=True)
    d = xb - mean
    n = d / np.sqrt((d * d).mean(axis=1, keepdims=True) + np.float64(np.float32(EPS)))
    np.save(f"{out}/once.npy", bf16(wb * n + bb))
    np.save(f"{out}/twice.npy", bf16(bf16(wb * n) + bb))
    X, XB = f"tensor<{ROWS}x{H}xf32>", f"tensor<{ROWS}x{H}xbf16>"
    P, PB = f"tensor<{H}xf32>", f"tensor<{H}xbf16>"
    R = f"tensor<{ROWS}x1xf32>"
    open(f"{out}/ln.mlir", "w").write(f"""\
func.func @main(%x: {X} {{kiln.name = "x"}}, %w: {P} {{kiln.name = "w"}}, %b: {P} {{kiln.name = "b"}}) -> ({X} {{kiln.name = "y"}}) {{
  %xb = kiln.cast %x : {X} -> {XB}
  %wb = kiln.cast %w : {P} -> {PB}
  %bb = kiln.cast %b : {P} -> {PB}
  %xf = kiln.cast %xb : {XB} -> {X}
  %m = kiln.reduce_mean %xf {{axes = array<i64: 1>}} : ({X}) -> {R}
  %d = kiln.sub %xf, %m : ({X}, {R}) -> {X}
  %sq = kiln.mul %d, %d : ({X}, {X}) -> {X}
  %v = kiln.reduce_mean %sq {{axes = array<i64: 1>}} : ({X}) -> {R}
  %eps = kiln.constant dense<1.0e-05> : tensor<f32>
  %a = kiln.add %v, %eps : ({R}, tensor<f32>) -> {R}
  %s = kiln.sqrt %a : {R}
  %n = kiln.div %d, %s : ({X}, {R}) -> {X}
  %wf = kiln.cast %wb : {PB} -> {P}
  %bf = kiln.cast %bb : {PB} -> {P}
  %y = kiln.mul %wf, %n : ({P}, {X}) -> {X}
  %z = kiln.add %y, %bf : ({X}, {P}) -> {X}
  %zb = kiln.cast %z : {X} -> {XB}
  %out = kiln.cast %zb : {XB} -> {X}
  return %out : {X}
}}
""")


def check(out):
    once = np.load(f"{out}/once.npy")
    twice = np.load(f"{out}/twice.npy")
    got = {run: load(f"{out}/{run}/output_0.pb") for run in ("orig", "rec", "fused")}
    ok = True
    for run in ("rec", "fused"):
        same = np.array_equal(got[run], got["orig"])
        print(f"{run}: bit-identical to the original: {same}")
        ok &= same
    ulp = np.abs(once) * 2.0 ** -7 + 1e-30
    within = np.all(np.abs(got["orig"] - once) <= ulp)
    equal = np.mean(got["orig"] == once)
    print(f"orig: within one bf16 ulp of the round-once emulation: {within}; "
          f"equal in {equal:.4f} of the elements")
    ok &= bool(within) and equal >= 0.99
    differs = np.mean(got["orig"] != twice)
    print(f"round-twice differs from the original in {differs:.4f} of the elements")
    ok &= differs >= 0.02
    print("norm_widened: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    mode, out = sys.argv[1], sys.argv[2]
    sys.exit(gen(out) if mode == "gen" else check(out))
