#!/usr/bin/env python3
"""Makes the single-node contrib-op tests of test/Models/contrib-nodes.

    make-contrib-node-tests.py OUT_DIR

Each case is one ONNX Runtime contrib node (com.microsoft, or the
default-domain SimplifiedLayerNormalization) with random inputs, run with
onnxruntime on the CPU EP (graph optimisations off), written in the ONNX
backend-test layout: CASE/model.onnx and CASE/test_data_set_0/{input,
output}_K.pb. Weights that the op keeps packed (MatMulNBits' B, scales and
zero points) and GroupQueryAttention's total_sequence_length (a constant
after import-time folding in exported models) are initializers. Needs onnx,
onnxruntime and numpy (PyPI); CI only reads the committed output.
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(13)
F = TensorProto.FLOAT


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def save_case(out, name, node, inputs, initializers, outputs):
    """inputs: [(name, array)] graph inputs; initializers: [(name, array)];
    outputs: [(name, elem_type)]."""
    import onnxruntime as ort
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    g_in = [helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
        for n, a in inputs]
    g_out = [helper.make_tensor_value_info(n, t, None) for n, t in outputs]
    inits = [numpy_helper.from_array(a, n) for n, a in initializers]
    graph = helper.make_graph([node], name, g_in, g_out, inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    res = sess.run([n for n, _ in outputs], dict(inputs))
    for k, (n, a) in enumerate(inputs):
        open(os.path.join(d, "test_data_set_0", f"input_{k}.pb"), "wb").write(
            numpy_helper.from_array(a, n).SerializeToString())
    for k, ((n, _), a) in enumerate(zip(outputs, res)):
        open(os.path.join(d, "test_data_set_0", f"output_{k}.pb"), "wb").write(
            numpy_helper.from_array(a, n).SerializeToString())


def ms(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, domain="com.microsoft", **attrs)


def norms(out):
    x, g = rand(2, 3, 16), rand(16)
    save_case(out, "simplified-layer-norm",
              helper.make_node("SimplifiedLayerNormalization", ["x", "g"],
                               ["y", "inv"], epsilon=1e-5, axis=-1,
                               stash_type=1),
              [("x", x), ("g", g)], [], [("y", F), ("inv", F)])
    skip, bias, beta = rand(2, 3, 16), rand(16), rand(16)
    save_case(out, "skip-simplified-layer-norm",
              ms("SkipSimplifiedLayerNormalization", ["x", "skip", "g", "bias"],
                 ["y", "", "inv", "sum"], epsilon=1e-6),
              [("x", x), ("skip", skip), ("g", g), ("bias", bias)], [],
              [("y", F), ("inv", F), ("sum", F)])
    save_case(out, "skip-layer-norm",
              ms("SkipLayerNormalization", ["x", "skip", "g", "beta", "bias"],
                 ["y", "mean", "inv", "sum"], epsilon=1e-5),
              [("x", x), ("skip", skip), ("g", g), ("beta", beta),
               ("bias", bias)], [],
              [("y", F), ("mean", F), ("inv", F), ("sum", F)])


def rotary(out):
    cache_len, half = 32, 8
    ang = RNG.uniform(0, 6.3, (cache_len, half))
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    x3 = rand(2, 5, 64)  # 4 heads of 16
    pos = RNG.integers(0, cache_len, (2, 5)).astype(np.int64)
    save_case(out, "rotary-3d",
              ms("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"],
                 num_heads=4),
              [("x", x3), ("pos", pos), ("cos", cos), ("sin", sin)], [],
              [("y", F)])
    save_case(out, "rotary-3d-interleaved-offset",
              ms("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"],
                 interleaved=1),
              [("x", x3), ("pos", np.array([7], np.int64)), ("cos", cos),
               ("sin", sin)], [], [("y", F)])
    x4 = rand(2, 4, 5, 24)  # partial rotary: 16 of 24
    save_case(out, "rotary-4d-partial",
              ms("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"],
                 num_heads=4, rotary_embedding_dim=16),
              [("x", x4), ("pos", pos), ("cos", cos), ("sin", sin)], [],
              [("y", F)])


def quantize(w, block, symmetric, float_zp=False):
    """ONNX Runtime's MatMulNBits layout of w [K, N]: B [N, K/bs, bs/2],
    scales [N * K/bs], zero points packed [N * ceil(nb/2)] or float."""
    k, n = w.shape
    nb = k // block
    wt = w.T.reshape(n, nb, block)
    if symmetric:
        scale = np.abs(wt).max(-1) / 7.0 + 1e-6
        zp = np.full((n, nb), 8)
    else:
        lo, hi = wt.min(-1), wt.max(-1)
        scale = (hi - lo) / 15.0 + 1e-6
        zp = np.clip(np.round(-lo / scale), 0, 15)
    q = np.clip(np.round(wt / scale[..., None]) + zp[..., None], 0, 15)
    q = q.astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    scales = scale.astype(np.float32).reshape(-1)
    if float_zp:
        return packed, scales, zp.astype(np.float32).reshape(-1)
    zpq = zp.astype(np.uint8)
    if nb % 2:
        zpq = np.concatenate([zpq, np.zeros((n, 1), np.uint8)], 1)
    zpp = (zpq[:, 0::2] | (zpq[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    return packed, scales, zpp


def matmul_nbits(out):
    for name, k, n, block, shape, sym, fzp, bias in [
            ("matmul-nbits-symmetric", 64, 24, 32, (3, 64), True, False, False),
            ("matmul-nbits-zero-points", 96, 16, 16, (2, 4, 96), False, False,
             False),
            ("matmul-nbits-float-zp-bias", 128, 8, 64, (2, 128), False, True,
             True)]:
        w = rand(k, n)
        packed, scales, zp = quantize(w, block, sym, fzp)
        ins = ["a", "b", "scales"] + ([] if sym else ["zp"])
        inits = [("b", packed), ("scales", scales)]
        if not sym:
            inits.append(("zp", zp))
        if bias:
            ins += ["", "bias"]
            inits.append(("bias", rand(n)))
        save_case(out, name,
                  ms("MatMulNBits", ins, ["y"], K=k, N=n, bits=4,
                     block_size=block, accuracy_level=0),
                  [("a", rand(*shape))], inits, [("y", F)])


def gqa(out):
    h, kvh, d = 4, 2, 16
    ang = RNG.uniform(0, 6.3, (32, d // 2))
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    i32 = lambda v: np.array(v, np.int32)
    # A prompt with separate q/k/v, no past, no rotary, scale attribute.
    s = 5
    save_case(out, "gqa-prompt-separate",
              ms("GroupQueryAttention",
                 ["q", "k", "v", "", "", "seqlens", "total"],
                 ["y", "pk", "pv"], num_heads=h, kv_num_heads=kvh,
                 scale=0.3),
              [("q", rand(1, s, h * d)), ("k", rand(1, s, kvh * d)),
               ("v", rand(1, s, kvh * d)), ("seqlens", i32([s - 1]))],
              [("total", i32(s))], [("y", F), ("pk", F), ("pv", F)])
    # Decode, packed QKV, interleaved rotary, two rows of different
    # lengths in a past of 6.
    save_case(out, "gqa-decode-packed-rotary",
              ms("GroupQueryAttention",
                 ["qkv", "", "", "pk", "pv", "seqlens", "total", "cos", "sin"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 do_rotary=1, rotary_interleaved=1),
              [("qkv", rand(2, 1, (h + 2 * kvh) * d)),
               ("pk", rand(2, kvh, 6, d)), ("pv", rand(2, kvh, 6, d)),
               ("seqlens", i32([6, 3])), ("cos", cos), ("sin", sin)],
              [("total", i32(7))],
              [("y", F), ("ok", F), ("ov", F)])


def gqa_more(out):
    h, kvh, d = 4, 2, 16
    ang = RNG.uniform(0, 6.3, (32, d // 2))
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    i32 = lambda v: np.array(v, np.int32)
    # A sliding window of 3 keys back over a past of 6 (rows of 7 and 5
    # valid positions), rotary in halves.
    save_case(out, "gqa-decode-local-window",
              ms("GroupQueryAttention",
                 ["q", "k", "v", "pk", "pv", "seqlens", "total", "cos", "sin"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 do_rotary=1, local_window_size=3),
              [("q", rand(2, 1, h * d)), ("k", rand(2, 1, kvh * d)),
               ("v", rand(2, 1, kvh * d)), ("pk", rand(2, kvh, 6, d)),
               ("pv", rand(2, kvh, 6, d)), ("seqlens", i32([6, 4])),
               ("cos", cos), ("sin", sin)],
              [("total", i32(7))], [("y", F), ("ok", F), ("ov", F)])
    # Soft-capped scores (softcap 2, below the scores' range) with scale,
    # a batch-2 decode over rows of 7 and 4 valid positions, no rotary.
    save_case(out, "gqa-decode-softcap",
              ms("GroupQueryAttention",
                 ["q", "k", "v", "pk", "pv", "seqlens", "total"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 softcap=2.0, scale=0.5),
              [("q", rand(2, 1, h * d)), ("k", rand(2, 1, kvh * d)),
               ("v", rand(2, 1, kvh * d)), ("pk", rand(2, kvh, 6, d)),
               ("pv", rand(2, kvh, 6, d)), ("seqlens", i32([6, 3]))],
              [("total", i32(7))], [("y", F), ("ok", F), ("ov", F)])
    # A second prompt chunk: 3 new tokens after a past of 4 (batch 1).
    save_case(out, "gqa-subsequent-prompt",
              ms("GroupQueryAttention",
                 ["q", "k", "v", "pk", "pv", "seqlens", "total", "cos", "sin"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 do_rotary=1),
              [("q", rand(1, 3, h * d)), ("k", rand(1, 3, kvh * d)),
               ("v", rand(1, 3, kvh * d)), ("pk", rand(1, kvh, 4, d)),
               ("pv", rand(1, kvh, 4, d)), ("seqlens", i32([6])),
               ("cos", cos), ("sin", sin)],
              [("total", i32(7))], [("y", F), ("ok", F), ("ov", F)])


def gqa_inputs(out):
    h, kvh, d = 4, 2, 16
    ang = RNG.uniform(0, 6.3, (32, d // 2))
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    i32 = lambda v: np.array(v, np.int32)
    base = [("q", rand(2, 1, h * d)), ("k", rand(2, 1, kvh * d)),
            ("v", rand(2, 1, kvh * d)), ("pk", rand(2, kvh, 6, d)),
            ("pv", rand(2, kvh, 6, d)), ("seqlens", i32([6, 3]))]
    names = ["q", "k", "v", "pk", "pv", "seqlens", "total", "cos", "sin"]
    inits = [("total", i32(7)), ("cos", cos), ("sin", sin)]
    # Rotary at explicit position_ids (9 and 2), not at the rows' lengths.
    save_case(out, "gqa-decode-position-ids",
              ms("GroupQueryAttention", names + ["position_ids"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 do_rotary=1),
              base + [("position_ids", np.array([[9], [2]], np.int64))],
              inits, [("y", F), ("ok", F), ("ov", F)])
    # An additive attention_bias [B, 1, S, T] on the scores.
    save_case(out, "gqa-decode-attention-bias",
              ms("GroupQueryAttention", names + ["", "attention_bias"],
                 ["y", "ok", "ov"], num_heads=h, kv_num_heads=kvh,
                 do_rotary=1),
              base + [("attention_bias", rand(2, 1, 1, 7))],
              inits, [("y", F), ("ok", F), ("ov", F)])


def matmul_8bits(out):
    """8-bit MatMulNBits (a byte per value; zero points a byte per block),
    random codes, with and without zero points."""
    k, n, block = 64, 16, 32
    nb = k // block
    q = RNG.integers(0, 256, (n, nb, block)).astype(np.uint8)
    scales = RNG.uniform(0.01, 0.1, n * nb).astype(np.float32)
    zp = RNG.integers(0, 256, n * nb).astype(np.uint8)
    for name, with_zp in [("matmul-nbits-8bit", False),
                          ("matmul-nbits-8bit-zero-points", True)]:
        ins = ["a", "b", "scales"] + (["zp"] if with_zp else [])
        inits = [("b", q), ("scales", scales)] + ([("zp", zp)] if with_zp else [])
        save_case(out, name,
                  ms("MatMulNBits", ins, ["y"], K=k, N=n, bits=8,
                     block_size=block, accuracy_level=0),
                  [("a", rand(3, k))], inits, [("y", F)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    norms(out)
    rotary(out)
    matmul_nbits(out)
    gqa(out)
    gqa_more(out)
    gqa_inputs(out)
    matmul_8bits(out)


if __name__ == "__main__":
    main()
