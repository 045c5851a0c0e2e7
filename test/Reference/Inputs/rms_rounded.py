#!/usr/bin/env python3
"""rms_rounded.py gen OUT | check OUT | onnx OUT: test/Reference/rms-rounded.test.

gen writes OUT/hf.mlir, a bf16 RMSNorm as Hugging Face exports it (x.to(f32),
mean of squares, rsqrt, x * inv, .to(bf16), weight * that) followed by a
product with a bf16 weight (OUT/w.bin), with f32 inputs (OUT/x.pb, OUT/g.pb)
cast to bf16 and f32 outputs (the norm, the product); and the numpy
emulation of those roundings in float64 (OUT/want_norm.npy), with the other
rounding, once after the scale (OUT/once_norm.npy).

gen also writes OUT/hfq.mlir, the same with the product alone returned
(the norm then only feeds it: kiln-gemv's prologue).

check OUT compares kiln-run's outputs of the original (OUT/orig), the
recognised (OUT/rec) and the fused (OUT/fused) functions, and hfq.mlir's
scheduled function (OUT/sched): every norm element
of each within one bf16 ulp of the emulation and all but a few equal to it
(a flip where the reference's f64 inverse and numpy's differ at a rounding
midpoint); the recognised norm far from the round-once values (so a norm
that forgot round_normalized fails); and the products of the recognised
and fused functions equal to the original's within bf16 product rounding,
the scheduled one's equal to the recognised one's.
"""
import sys
import numpy as np
import onnx
from onnx import numpy_helper

from bf16_util import bf16, load

ROWS, H, N = 4, 256, 32
EPS = 1e-5


def gen(out):
    rng = np.random.default_rng(5)
    x = (3 * rng.standard_normal((ROWS, H))).astype(np.float32)
    g = (1 + 0.1 * rng.standard_normal(H)).astype(np.float32)
    wq = bf16(0.05 * rng.standard_normal((H, N)))
    bits = (wq.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    open(f"{out}/w.bin", "wb").write(bits.tobytes())
    for name, arr in (("x", x), ("g", g)):
        open(f"{out}/{name}.pb", "wb").write(
            numpy_helper.from_array(arr, name).SerializeToString())
    xb, gb = bf16(x), bf16(g)
    inv = 1.0 / np.sqrt(np.mean(xb * xb, axis=1, keepdims=True) + np.float64(np.float32(EPS)))
    np.save(f"{out}/want_norm.npy", bf16(gb * bf16(xb * inv)))
    np.save(f"{out}/once_norm.npy", bf16(gb * xb * inv))
    X, XB, XF = (f"tensor<{ROWS}x{H}x{t}>" for t in ("f32", "bf16", "f32"))
    G, GB = f"tensor<{H}xf32>", f"tensor<{H}xbf16>"
    R = f"tensor<{ROWS}x1xf32>"
    W, Q, QF = f"tensor<{H}x{N}xbf16>", f"tensor<{ROWS}x{N}xbf16>", f"tensor<{ROWS}x{N}xf32>"
    open(f"{out}/hf.mlir", "w").write(f"""\
func.func @main(%x: {X} {{kiln.name = "x"}}, %g: {G} {{kiln.name = "g"}}) -> ({X} {{kiln.name = "norm"}}, {QF} {{kiln.name = "q"}}) {{
  %xb = kiln.cast %x : {X} -> {XB}
  %gb = kiln.cast %g : {G} -> {GB}
  %xf = kiln.cast %xb : {XB} -> {XF}
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %xf, %two : ({XF}, tensor<f32>) -> {XF}
  %m = kiln.reduce_mean %sq {{axes = array<i64: 1>}} : ({XF}) -> {R}
  %eps = kiln.constant dense<1.0e-05> : tensor<f32>
  %a = kiln.add %m, %eps : ({R}, tensor<f32>) -> {R}
  %r = kiln.rsqrt %a : {R}
  %n = kiln.mul %xf, %r : ({XF}, {R}) -> {XF}
  %nb = kiln.cast %n : {XF} -> {XB}
  %y = kiln.mul %gb, %nb : ({GB}, {XB}) -> {XB}
  %wq = kiln.weight "wq" {{path = "w.bin", offset = 0 : i64, length = {H * N * 2} : i64}} : {W}
  %q = kiln.matmul %y, %wq : ({XB}, {W}) -> {Q}
  %yf = kiln.cast %y : {XB} -> {X}
  %qf = kiln.cast %q : {Q} -> {QF}
  return %yf, %qf : {X}, {QF}
}}
""")
    # The same with the product alone reading the norm: kiln-gemv takes the
    # norm in as the GEMV kernel's prologue.
    src = open(f"{out}/hf.mlir").read()
    src = src.replace(f'-> ({X} {{kiln.name = "norm"}}, {QF} {{kiln.name = "q"}})',
                      f'-> ({QF} {{kiln.name = "q"}})')
    src = src.replace(f"  %yf = kiln.cast %y : {XB} -> {X}\n", "")
    src = src.replace(f"  return %yf, %qf : {X}, {QF}", f"  return %qf : {QF}")
    open(f"{out}/hfq.mlir", "w").write(src)


def onnx_model(out):
    """OUT/hf.onnx: the same norm and a product as a bf16 ONNX graph, the
    nodes PyTorch's exporter writes for Hugging Face's LlamaRMSNorm (Cast,
    Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul, Cast, Mul)."""
    from onnx import helper, TensorProto as T
    rng = np.random.default_rng(6)
    bf = lambda name, a: helper.make_tensor(name, T.BFLOAT16, a.shape,
                                             a.astype(np.float32).ravel().tolist())
    nodes = [
        helper.make_node("Cast", ["x"], ["xf"], to=T.FLOAT, name="/norm/Cast"),
        helper.make_node("Pow", ["xf", "two"], ["sq"], name="/norm/Pow"),
        helper.make_node("ReduceMean", ["sq", "axes"], ["var"], keepdims=1,
                         name="/norm/ReduceMean"),
        helper.make_node("Add", ["var", "eps"], ["ve"], name="/norm/Add"),
        helper.make_node("Sqrt", ["ve"], ["sd"], name="/norm/Sqrt"),
        helper.make_node("Reciprocal", ["sd"], ["inv"], name="/norm/Reciprocal"),
        helper.make_node("Mul", ["xf", "inv"], ["nx"], name="/norm/Mul"),
        helper.make_node("Cast", ["nx"], ["nb"], to=T.BFLOAT16, name="/norm/Cast_1"),
        helper.make_node("Mul", ["norm.weight", "nb"], ["y"], name="/norm/Mul_1"),
        helper.make_node("MatMul", ["y", "q.weight"], ["out"], name="/q/MatMul")]
    inits = [bf("norm.weight", 1 + 0.02 * rng.standard_normal(64)),
             bf("q.weight", 0.02 * rng.standard_normal((64, 32))),
             numpy_helper.from_array(np.array(2.0, np.float32), "two"),
             numpy_helper.from_array(np.array([-1], np.int64), "axes"),
             numpy_helper.from_array(np.array(EPS, np.float32), "eps")]
    g = helper.make_graph(
        nodes, "rms_bf16", [helper.make_tensor_value_info("x", T.BFLOAT16, [1, 1, 64])],
        [helper.make_tensor_value_info("out", T.BFLOAT16, [1, 1, 32])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 10
    onnx.save(m, f"{out}/hf.onnx")


def check(out):
    want = np.load(f"{out}/want_norm.npy")
    once = np.load(f"{out}/once_norm.npy")
    ulp = np.abs(want) * 2.0 ** -7  # one bf16 ulp, at most
    fails = []
    norms = {}
    for run in ("orig", "rec", "fused"):
        got = load(f"{out}/{run}/output_0.pb")
        norms[run] = got
        same = np.mean(got == want)
        far = np.max(np.abs(got - want) - ulp)
        print(f"{run}: norm equal to the emulation in {same:.4f} of the "
              f"elements, {np.mean(got == once):.4f} equal to round-once")
        if same < 0.99 or far > 0:
            fails.append(f"{run}: norm {same:.4f} equal, beyond 1 ulp by {far:g}")
    # Round-once differs from the emulation in a good share of elements, so
    # a norm without round_normalized could not pass the first check.
    differ = np.mean(once != want)
    print(f"round-once differs from the emulation in {differ:.4f} of the elements")
    if differ < 0.05:
        fails.append(f"round-once differs in only {differ:.4f}: the check cannot tell")
    q = {run: load(f"{out}/{run}/output_1.pb") for run in ("orig", "rec", "fused")}
    scale = np.max(np.abs(q["orig"]))
    for run in ("rec", "fused"):
        err = np.max(np.abs(q[run] - q["orig"])) / scale
        print(f"{run}: product within {err:.3g} of the original's (of its largest)")
        if err > 2e-2:
            fails.append(f"{run}: product {err:g} off")
    if not np.array_equal(norms["rec"], norms["fused"]) or not np.array_equal(q["rec"], q["fused"]):
        fails.append("fused differs from recognised")
    # The scheduled function of hfq.mlir (the norm in the GEMV's prologue).
    qs = load(f"{out}/sched/output_0.pb")
    if not np.array_equal(qs, q["rec"]):
        fails.append(f"scheduled product differs by {np.max(np.abs(qs - q['rec'])):g}")
    else:
        print("sched: product equal to the recognised function's")
    if fails:
        sys.exit("rms_rounded: " + "; ".join(fails))
    print("rms_rounded: ok")


if __name__ == "__main__":
    {"gen": gen, "check": check, "onnx": onnx_model}[sys.argv[1]](sys.argv[2])
