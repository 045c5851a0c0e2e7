#!/usr/bin/env python3
"""gemm_epilogues.py OUT: inputs, weights (w.bin), numpy expectations and
the two functions (8 rows, 1 row) of test/Reference/gemm-epilogues.test."""
import sys
import numpy as np
from onnx import numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(11)
K, N = 16, 32
w0, w1, w2 = (rng.standard_normal((K, N)).astype(np.float32) for _ in range(3))
b = rng.standard_normal(N).astype(np.float32)

open(f"{out}/w.bin", "wb").write(
    w0.tobytes() + w1.tobytes() + w2.tobytes() + b.tobytes())

def gelu(v):
    return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))

for name, m in (("rows8", 8), ("row1", 1)):
    x = rng.standard_normal((m, K)).astype(np.float32)
    r = rng.standard_normal((m, N)).astype(np.float32)
    p0, p1, p2 = (x.astype(np.float64) @ w.astype(np.float64)
                  for w in (w0, w1, w2))
    y0 = gelu(p0 + b)
    y1 = np.maximum(0.25 * p1 + r, 0)
    y2 = p2 / -2.0
    for t, arr in (("x", x), ("r", r), ("y0", y0), ("y1", y1), ("y2", y2)):
        open(f"{out}/{name}.{t}.pb", "wb").write(numpy_helper.from_array(
            arr.astype(np.float32), t).SerializeToString())
    X, R, P = f"tensor<{m}x{K}xf32>", f"tensor<{m}x{N}xf32>", f"tensor<{m}x{N}xf32>"
    W, B = f"tensor<{K}x{N}xf32>", f"tensor<{N}xf32>"
    open(f"{out}/{name}.mlir", "w").write(f"""\
func.func @main(%x: {X} {{kiln.name = "x"}}, %r: {R} {{kiln.name = "r"}}) -> ({P} {{kiln.name = "y0"}}, {P} {{kiln.name = "y1"}}, {P} {{kiln.name = "y2"}}) {{
  %w0 = kiln.weight "w0" {{path = "w.bin", offset = 0 : i64, length = {K * N * 4} : i64}} : {W}
  %w1 = kiln.weight "w1" {{path = "w.bin", offset = {K * N * 4} : i64, length = {K * N * 4} : i64}} : {W}
  %w2 = kiln.weight "w2" {{path = "w.bin", offset = {2 * K * N * 4} : i64, length = {K * N * 4} : i64}} : {W}
  %b = kiln.weight "b" {{path = "w.bin", offset = {3 * K * N * 4} : i64, length = {N * 4} : i64}} : {B}
  %quarter = kiln.constant dense<0.25> : tensor<f32>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %minus2 = kiln.constant dense<-2.0> : tensor<f32>
  %0 = kiln.linear %x, %w0, %b : ({X}, {W}, {B}) -> {P}
  %y0 = kiln.gelu %0 approximate<tanh> : {P}
  %1 = kiln.matmul %x, %w1 : ({X}, {W}) -> {P}
  %2 = kiln.mul %1, %quarter : ({P}, tensor<f32>) -> {P}
  %3 = kiln.add %2, %r : ({P}, {R}) -> {P}
  %y1 = kiln.max %3, %zero : ({P}, tensor<f32>) -> {P}
  %4 = kiln.matmul %x, %w2 : ({X}, {W}) -> {P}
  %y2 = kiln.div %4, %minus2 : ({P}, tensor<f32>) -> {P}
  return %y0, %y1, %y2 : {P}, {P}, {P}
}}
""")
