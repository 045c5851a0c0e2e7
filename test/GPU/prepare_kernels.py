#!/usr/bin/env python3
"""Adds one bundle entry per kernel class and size to a GPU bundle.

    prepare_kernels.py BUILD_DIR BUNDLE [--arch sm_90a] [--classes C1,C2,...]

KILN_FLAGS (environment): extra kiln-compile flags for every entry (e.g.
--gemv-preload), so the classes check that code path too.

Each entry checks one kernel class alone on the GPU against the reference
backend: a one-op (or one-chain) kiln function at a given shape, random
inputs (fixed seeds), expected outputs from `kiln-run --backend=ref`, and the
artifact from `kiln-compile`. The sizes include ones that are not multiples
of 4, 32 or 256 (vector widths, warps, blocks), rows longer than a block, and
decode (one query) and prefill (several, causal) attention with grouped-query
heads. Entries are laid out as test/GPU/prepare_bundle.sh lays out fixtures
(BUNDLE/kernel-<class>-<shape>/{model.kiln, input_K.pb, expected/}), so
test/GPU/run_fixtures.sh runs them the same way (eager, graph, memcheck) and
adds racecheck for the classes with block reductions (names in RACECHECK).
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np
from onnx import numpy_helper

RACECHECK = ("rms_norm", "layer_norm", "softmax", "reduce", "attention", "gemv",
             "kv_attention", "kv_attention_bf16", "kv_fused", "kv_rope_append",
             "nbits",
             "nbits_merged", "gemv_mma", "bf16_native", "f16_native",
             "norm_widened",
             "kv_attention_f16", "gemv_mma_f16", "gemv_f16")


def t(shape, dtype="f32"):
    return "tensor<" + "x".join(str(d) for d in shape) + ("x" if shape else "") + dtype + ">"


def case_rms_norm(shape):
    d = shape[-1]
    ir = (f"func.func @main(%x: {t(shape)}, %g: {t([d])}) -> {t(shape)} {{\n"
          f"  %y = kiln.rms_norm %x, %g {{axis = {len(shape) - 1} : i64, epsilon = 1.0e-05 : f32}}"
          f" : ({t(shape)}, {t([d])}) -> {t(shape)}\n"
          f"  return %y : {t(shape)}\n}}\n")
    return ir, [("x", shape), ("g", [d])]


def case_layer_norm(shape):
    d = shape[-1]
    ir = (f"func.func @main(%x: {t(shape)}, %g: {t([d])}, %b: {t([d])}) -> {t(shape)} {{\n"
          f"  %y = kiln.layer_norm %x, %g, %b {{axis = {len(shape) - 1} : i64, epsilon = 1.0e-05 : f32}}"
          f" : ({t(shape)}, {t([d])}, {t([d])}) -> {t(shape)}\n"
          f"  return %y : {t(shape)}\n}}\n")
    return ir, [("x", shape), ("g", [d]), ("b", [d])]


def case_softmax(shape):
    ir = (f"func.func @main(%x: {t(shape)}) -> {t(shape)} {{\n"
          f"  %y = kiln.softmax %x {{axis = {len(shape) - 1} : i64}} : {t(shape)}\n"
          f"  return %y : {t(shape)}\n}}\n")
    return ir, [("x", shape)]


def case_reduce(shape):
    out = list(shape[:-1]) + [1]
    ir = (f"func.func @main(%x: {t(shape)}) -> ({t(out)}, {t(out)}) {{\n"
          f"  %s = kiln.reduce_sum %x {{axes = array<i64: {len(shape) - 1}>}} : ({t(shape)}) -> {t(out)}\n"
          f"  %m = kiln.reduce_max %x {{axes = array<i64: {len(shape) - 1}>}} : ({t(shape)}) -> {t(out)}\n"
          f"  return %s, %m : {t(out)}, {t(out)}\n}}\n")
    return ir, [("x", shape)]


def case_rotary(shape):
    # [B, H, S, D(, full, interleaved)]: with full, tables of an entry per
    # element ([1, S, D], kiln.rotary {full_tables}: cos/sin fed as inputs),
    # random, so no two entries of a pair agree.
    b, h, s, d, *rest = shape
    full = bool(rest and rest[0])
    inter = bool(len(rest) > 1 and rest[1])
    cs = [1, s, d] if full else [b, s, d // 2]
    attrs = []
    if full:
        attrs.append("full_tables = true")
    if inter:
        attrs.append("interleaved = true")
    attr = (" {" + ", ".join(attrs) + "}") if attrs else ""
    x = [b, h, s, d]
    ir = (f"func.func @main(%x: {t(x)}, %c: {t(cs)}, %s: {t(cs)}) -> {t(x)} {{\n"
          f"  %y = kiln.rotary %x, %c, %s{attr} : ({t(x)}, {t(cs)}, {t(cs)}) -> {t(x)}\n"
          f"  return %y : {t(x)}\n}}\n")
    return ir, [("x", x), ("c", cs), ("s", cs)]


def case_attention(shape):
    b, hq, hkv, s, tk, d, causal = shape
    q, kv, m = [b, hq, s, d], [b, hkv, tk, d], [b, 1, s, tk]
    ir = (f"func.func @main(%q: {t(q)}, %k: {t(kv)}, %v: {t(kv)}, %m: {t(m)}) -> {t(q)} {{\n"
          f"  %y = kiln.attention %q, %k, %v, %m {{scale = {1 / np.sqrt(d):.9g} : f32, "
          f"causal = {'true' if causal else 'false'}}} : ({t(q)}, {t(kv)}, {t(kv)}, {t(m)}) -> {t(q)}\n"
          f"  return %y : {t(q)}\n}}\n")
    return ir, [("q", q), ("k", kv), ("v", kv), ("m", m)]


def case_kv_attention(shape):
    # kiln.kv_attention over caches given as inputs (as the KV rewrite's
    # step functions read them): the grouped-query split kernel
    # (kvAttentionSplit) with D = 16, 64 and 128 (4, 16 and 32 lanes per
    # f32 key), groups of 1, 4 and 7 query heads, one live chunk (written
    # directly) and many (merged by the last block), several query
    # positions, and an additive mask indexed by cache slot.
    b, hq, hkv, s, tk, d, *pos = shape
    q, kv, m = [b, hq, s, d], [b, hkv, tk, d], [b, 1, s, tk]
    ir = (f"func.func @main(%q: {t(q)}, %k: {t(kv)}, %v: {t(kv)}, %p: {t([b], 'i64')}, %m: {t(m)}) -> {t(q)} {{\n"
          f"  %y = kiln.kv_attention %q, %k, %v at %p mask %m {{scale = {1 / np.sqrt(d):.9g} : f32}} : "
          f"({t(q)}, {t(kv)}, {t(kv)}, {t([b], 'i64')}, {t(m)}) -> {t(q)}\n"
          f"  return %y : {t(q)}\n}}\n")
    return ir, [("q", q), ("k", kv), ("v", kv),
                ("p", [b], lambda rng: np.array(pos, dtype=np.int64)), ("m", m)]


def case_kv_attention_bf16(shape, dt="bf16"):
    # case_kv_attention's op on bf16 q, caches and mask: the f32 inputs are
    # cast to bf16 first and the output back to f32 (each cast its own
    # kernel), so the attention kernel is the bf16 one a bf16 step runs.
    b, hq, hkv, s, tk, d, *pos = shape
    q, kv, m = [b, hq, s, d], [b, hkv, tk, d], [b, 1, s, tk]
    p = t([b], "i64")
    bq, bkv, bm = t(q, dt), t(kv, dt), t(m, dt)
    ir = (f"func.func @main(%q: {t(q)}, %k: {t(kv)}, %v: {t(kv)}, %p: {p}, %m: {t(m)}) -> {t(q)} {{\n"
          f"  %qb = kiln.cast %q : {t(q)} -> {bq}\n"
          f"  %kb = kiln.cast %k : {t(kv)} -> {bkv}\n"
          f"  %vb = kiln.cast %v : {t(kv)} -> {bkv}\n"
          f"  %mb = kiln.cast %m : {t(m)} -> {bm}\n"
          f"  %y = kiln.kv_attention %qb, %kb, %vb at %p mask %mb {{scale = {1 / np.sqrt(d):.9g} : f32}} : "
          f"({bq}, {bkv}, {bkv}, {p}, {bm}) -> {bq}\n"
          f"  %yf = kiln.cast %y : {bq} -> {t(q)}\n"
          f"  return %yf : {t(q)}\n}}\n")
    return ir, [("q", q), ("k", kv), ("v", kv),
                ("p", [b], lambda rng: np.array(pos, dtype=np.int64)), ("m", m)]


def case_kv_fused(shape):
    # kiln-fuse-kv-attention's kernel: rotary of q and k, kv_append of the
    # roped key and the value, kv_attention, as one launch (the cache
    # starts zeroed, so each row's output depends on the key and value the
    # kernel appended at its slot). Rotate-half over the whole head with
    # shared tables, or interleaved over half the head with tables per
    # batch row; batch rows at different positions (one and many chunks).
    b, hq, hkv, tk, d, interleaved, r, *pos = shape
    q, kv, tab = [b, hq, 1, d], [b, hkv, 1, d], [b if interleaved else 1, 1, r // 2]
    cache = [b, hkv, tk, d]
    il = " {interleaved = true}" if interleaved else ""
    ir = (f"kiln.kv_cache @kv layers 1 kv_heads {hkv} head_dim {d} max_batch {b} max_seq {tk} : f32\n"
          f"func.func @main(%q: {t(q)}, %k: {t(kv)}, %v: {t(kv)}, %c: {t(tab)}, %s: {t(tab)}, %p: {t([b], 'i64')}) -> {t(q)} {{\n"
          f"  %qr = kiln.rotary %q, %c, %s{il} : ({t(q)}, {t(tab)}, {t(tab)}) -> {t(q)}\n"
          f"  %kr = kiln.rotary %k, %c, %s{il} : ({t(kv)}, {t(tab)}, {t(tab)}) -> {t(kv)}\n"
          f"  %kc, %vc = kiln.kv_append @kv[0] %kr, %v at %p : ({t(kv)}, {t(kv)}, {t([b], 'i64')}) -> ({t(cache)}, {t(cache)})\n"
          f"  %y = kiln.kv_attention %qr, %kc, %vc at %p {{scale = {1 / np.sqrt(d):.9g} : f32}} : "
          f"({t(q)}, {t(cache)}, {t(cache)}, {t([b], 'i64')}) -> {t(q)}\n"
          f"  return %y : {t(q)}\n}}\n")
    return ir, [("q", q), ("k", kv), ("v", kv), ("c", tab), ("s", tab),
                ("p", [b], lambda rng: np.array(pos, dtype=np.int64))]


def case_activations(shape):
    ir = (f"func.func @main(%x: {t(shape)}) -> ({t(shape)}, {t(shape)}, {t(shape)}) {{\n"
          f"  %a = kiln.silu %x : {t(shape)}\n"
          f"  %b = kiln.gelu %x : {t(shape)}\n"
          f"  %c = kiln.gelu %x approximate<tanh> : {t(shape)}\n"
          f"  return %a, %b, %c : {t(shape)}, {t(shape)}, {t(shape)}\n}}\n")
    return ir, [("x", shape)]


def case_chain(shape):
    # An elementwise chain with a broadcast input (a residual add, a scale,
    # SwiGLU's silu(gate) * up): one fused kernel where fusion forms it.
    d = shape[-1]
    ir = (f"func.func @main(%x: {t(shape)}, %r: {t(shape)}, %w: {t([d])}, %u: {t(shape)}) -> {t(shape)} {{\n"
          f"  %a = kiln.add %x, %r : ({t(shape)}, {t(shape)}) -> {t(shape)}\n"
          f"  %b = kiln.mul %a, %w : ({t(shape)}, {t([d])}) -> {t(shape)}\n"
          f"  %c = kiln.silu %b : {t(shape)}\n"
          f"  %e = kiln.mul %c, %u : ({t(shape)}, {t(shape)}) -> {t(shape)}\n"
          f"  return %e : {t(shape)}\n}}\n")
    return ir, [("x", shape), ("r", shape), ("w", [d]), ("u", shape)]


def case_tables(shape):
    # A rotary table as kiln-form-fusions and kiln-merge-siblings leave it:
    # positions cast to f32 (a small producer broadcast into the loop),
    # times inv_freq, then cos and sin: one kernel with two results, the
    # angles computed in each (up to 4096 elements; above, they are a
    # kernel of their own and cos and sin read them).
    b, s_, d = shape
    pshape = [b, s_, 1]
    ir = (f"func.func @main(%p: {t(pshape, 'i64')}, %f: {t([d])}) -> ({t(shape)}, {t(shape)}) {{\n"
          f"  %c = kiln.cast %p : {t(pshape, 'i64')} -> {t(pshape)}\n"
          f"  %a = kiln.mul %c, %f : ({t(pshape)}, {t([d])}) -> {t(shape)}\n"
          f"  %x = kiln.cos %a : {t(shape)}\n"
          f"  %y = kiln.sin %a : {t(shape)}\n"
          f"  return %x, %y : {t(shape)}, {t(shape)}\n}}\n")
    return ir, [("p", pshape, lambda rng: rng.integers(0, 1024, pshape).astype(np.int64)),
                ("f", [d], lambda rng: (10000.0 ** (-np.arange(d) / d)).astype(np.float32))]


def case_embed(shape):
    # Token and position embeddings and their sum (GPT-2): one fused kernel
    # whose two gathers are leaves read in the add's loop. Token ids run
    # over [-V, V) (negative ids count from the end).
    b, s_, c = shape
    v, p = 50, 40
    ir = (f"func.func @main(%ids: {t([b, s_], 'i64')}, %pos: {t([b, s_], 'i64')}, "
          f"%wte: {t([v, c])}, %wpe: {t([p, c])}) -> {t(shape)} {{\n"
          f"  %0 = kiln.gather %wte, %ids {{axis = 0 : i64}} : ({t([v, c])}, {t([b, s_], 'i64')}) -> {t(shape)}\n"
          f"  %1 = kiln.gather %wpe, %pos {{axis = 0 : i64}} : ({t([p, c])}, {t([b, s_], 'i64')}) -> {t(shape)}\n"
          f"  %2 = kiln.add %0, %1 : ({t(shape)}, {t(shape)}) -> {t(shape)}\n"
          f"  return %2 : {t(shape)}\n}}\n")
    return ir, [("ids", [b, s_], lambda rng: rng.integers(-v, v, [b, s_]).astype(np.int64)),
                ("pos", [b, s_], lambda rng: rng.integers(0, p, [b, s_]).astype(np.int64)),
                ("wte", [v, c]), ("wpe", [p, c])]


def gemv_prologue(norm, x, g, axis):
    """case_gemv's and case_gemv_mma's prologue %h of %x (type x) and %g
    (shape g) over `axis`: 2 a LayerNorm (scale and bias %g), 3 an RMSNorm
    with round_normalized (the shared-memory prologue, normRow<..., true>),
    else an RMSNorm."""
    if norm == 2:
        return (f"  %h = kiln.layer_norm %x, %g, %g {{axis = {axis} : i64, epsilon = 1.0e-05 : f32}} : "
                f"({x}, {t(g)}, {t(g)}) -> {x}\n")
    rounded = ", round_normalized" if norm == 3 else ""
    return (f"  %h = kiln.rms_norm %x, %g {{axis = {axis} : i64, epsilon = 1.0e-05 : f32{rounded}}} : "
            f"({x}, {t(g)}) -> {x}\n")


def case_gemv(shape):
    # kiln-gemv's kernels on one decode row: q and k (siblings) with the
    # norm before them as the prologue; gate, up, SwiGLU and a residual
    # product, siblings with epilogues. The weights live in w.bin beside
    # the model (kiln.weight), as kiln-gemv rewrites only products on
    # weights. The prologue (shape[3]): 0, an RMSNorm with a [K] scale
    # (folded into the dots, kiln::GemvRmsX); 1, an RMSNorm with a [1] scale,
    # 2, a LayerNorm (both normalised into shared memory per block).
    # shape[4], where given, is kiln-compile --gemv-split-k (warps a column).
    k, n, n2, norm = shape[:4]
    f = 4  # f32 bytes
    sizes = [("wq", k, n, "h"), ("wk", k, n2, "h"), ("wg", k, n, "x"),
             ("wu", k, n, "x"), ("wo", k, n, "x")]
    lines, offset, vals = [], 0, {}
    for name, kk, nn, src in sizes:
        lines.append(f'  %{name} = kiln.weight "{name}" {{path = "{{WPATH}}", offset = {offset} : i64, '
                     f'length = {kk * nn * f} : i64}} : {t([kk, nn])}\n')
        lines.append(f"  %p{name} = kiln.matmul %{src}, %{name} : ({t([1, 1, k])}, {t([kk, nn])}) -> {t([1, 1, nn])}\n")
        offset += kk * nn * f
    row, row2 = t([1, 1, n]), t([1, 1, n2])
    g = [1] if norm == 1 else [k]
    x = t([1, 1, k])
    prologue = gemv_prologue(norm, x, g, 2)
    ir = (f"func.func @main(%x: {x}, %g: {t(g)}, %r: {row}) -> ({row}, {row2}, {row}, {row}) {{\n"
          + prologue + "".join(lines) +
          f"  %s = kiln.silu %pwg : {row}\n"
          f"  %sw = kiln.mul %s, %pwu : ({row}, {row}) -> {row}\n"
          f"  %res = kiln.add %pwo, %r : ({row}, {row}) -> {row}\n"
          f"  return %pwq, %pwk, %sw, %res : {row}, {row2}, {row}, {row}\n}}\n")
    return ir, [("x", [1, 1, k]), ("g", g), ("r", [1, 1, n])], offset // f


def case_gemm_epilogue(shape):
    # kiln.gemm's epilogues, act(scale * (x w) + bias + residual), folded by
    # kiln-form-fusions: GELU (tanh) after a dense layer with a bias
    # (cuBLASLt's GELU_BIAS), ReLU of a scaled product plus a residual (RELU,
    # alpha 0.25, C), a product divided by -2 (alpha -0.5). shape: [M, K, N,
    # bf16]: more than 8 rows (or f32 above one) stay cuBLASLt gemms; one
    # f32 row, or 2 to 8 bf16 rows, go to kiln-gemv, which computes the same
    # epilogues after its dots. x is N(0, 1 / K), so products are of order 1.
    m, k, n = shape[:3]
    f = 4  # f32 bytes in w.bin
    x, w, row = t([m, k]), t([k, n]), t([m, n])
    lines = []
    for i in range(3):
        lines.append(f'  %w{i} = kiln.weight "w{i}" {{path = "{{WPATH}}", offset = {i * k * n * f} : i64, '
                     f'length = {k * n * f} : i64}} : {w}\n')
    lines.append(f'  %b = kiln.weight "b" {{path = "{{WPATH}}", offset = {3 * k * n * f} : i64, '
                 f'length = {n * f} : i64}} : {t([n])}\n')
    ir = (f"func.func @main(%x: {x}, %r: {row}) -> ({row}, {row}, {row}) {{\n"
          + "".join(lines) +
          f"  %quarter = kiln.constant dense<0.25> : tensor<f32>\n"
          f"  %zero = kiln.constant dense<0.0> : tensor<f32>\n"
          f"  %minus2 = kiln.constant dense<-2.0> : tensor<f32>\n"
          f"  %0 = kiln.linear %x, %w0, %b : ({x}, {w}, {t([n])}) -> {row}\n"
          f"  %y0 = kiln.gelu %0 approximate<tanh> : {row}\n"
          f"  %1 = kiln.matmul %x, %w1 : ({x}, {w}) -> {row}\n"
          f"  %2 = kiln.mul %1, %quarter : ({row}, tensor<f32>) -> {row}\n"
          f"  %3 = kiln.add %2, %r : ({row}, {row}) -> {row}\n"
          f"  %y1 = kiln.max %3, %zero : ({row}, tensor<f32>) -> {row}\n"
          f"  %4 = kiln.matmul %x, %w2 : ({x}, {w}) -> {row}\n"
          f"  %y2 = kiln.div %4, %minus2 : ({row}, tensor<f32>) -> {row}\n"
          f"  return %y0, %y1, %y2 : {row}, {row}, {row}\n}}\n")
    scaled = lambda rng: (rng.standard_normal((m, k)) / np.sqrt(k)).astype(np.float32)
    return ir, [("x", [m, k], scaled), ("r", [m, n])], 3 * k * n + n


def case_gemv_mma(shape):
    # kiln-gemv's kernels at 2 to 8 rows in bf16 (kiln::gemvMmaPartials, tiles
    # of 8 columns on the tensor cores): the rows are gathered from a weight
    # (an embedding), so after kiln-compile --precision bf16 they are bf16
    # and the norm folds in as in a model; then q and k (siblings), gate, up
    # and SwiGLU, and a residual product of the raw rows, as case_gemv.
    # shape: [M, K, N, N2, prologue(, split)], prologue as case_gemv's. The
    # norm's scale is N(0, 1) / sqrt(K), so the normalised products are of
    # order 1 and the tolerance below is tight for them.
    m, k, n, n2, norm = shape[:5]
    f = 4  # f32 bytes in w.bin
    lines = [f'  %emb = kiln.weight "emb" {{path = "{{WPATH}}", offset = 0 : i64, '
             f'length = {16 * k * f} : i64}} : {t([16, k])}\n',
             f"  %x = kiln.gather %emb, %ids {{axis = 0 : i64}} : ({t([16, k])}, {t([m], 'i64')}) -> {t([m, k])}\n"]
    offset = 16 * k * f
    for name, nn, src in [("wq", n, "h"), ("wk", n2, "h"), ("wg", n, "h"),
                          ("wu", n, "h"), ("wo", n, "x")]:
        lines.append(f'  %{name} = kiln.weight "{name}" {{path = "{{WPATH}}", offset = {offset} : i64, '
                     f'length = {k * nn * f} : i64}} : {t([k, nn])}\n')
        lines.append(f"  %p{name} = kiln.matmul %{src}, %{name} : ({t([m, k])}, {t([k, nn])}) -> {t([m, nn])}\n")
        offset += k * nn * f
    row, row2, x = t([m, n]), t([m, n2]), t([m, k])
    g = [1] if norm == 1 else [k]
    prologue = gemv_prologue(norm, x, g, 1)
    ir = (f"func.func @main(%ids: {t([m], 'i64')}, %g: {t(g)}, %r: {row}) -> ({row}, {row2}, {row}, {row}) {{\n"
          + lines[0] + lines[1] + prologue + "".join(lines[2:]) +
          f"  %s = kiln.silu %pwg : {row}\n"
          f"  %sw = kiln.mul %s, %pwu : ({row}, {row}) -> {row}\n"
          f"  %res = kiln.add %pwo, %r : ({row}, {row}) -> {row}\n"
          f"  return %pwq, %pwk, %sw, %res : {row}, {row2}, {row}, {row}\n}}\n")
    scale = lambda rng: (rng.standard_normal(g) / np.sqrt(k)).astype(np.float32)
    return ir, [("ids", [m], lambda rng: rng.integers(0, 16, [m]).astype(np.int64)),
                ("g", g, scale), ("r", [m, n])], offset // f


def native_product(m, k, n, dt):
    """The lines that end a model in its own 16-bit types: %h ([m, k] of
    dt) times a weight of dt (stored as f32 in w.bin, rounded when read:
    source_type), cast to f32 and returned as %y."""
    xb, w, y, yb = t([m, k], dt), t([k, n], dt), t([m, n]), t([m, n], dt)
    return (f'  %w = kiln.weight "w" {{path = "{{WPATH}}", offset = 0 : i64, length = {k * n * 4} : i64, '
            f"source_type = f32}} : {w}\n"
            f"  %p = kiln.matmul %h, %w : ({xb}, {w}) -> {yb}\n"
            f"  %y = kiln.cast %p : {yb} -> {y}\n"
            f"  return %y : {y}\n}}\n")


def case_bf16_native(shape, dt="bf16"):
    # A model whose own types are bf16 (or `dt`; not --precision): x and the
    # norm's scale cast to bf16, the RMSNorm of a 16-bit export
    # (round_normalized) and a product on a bf16 weight (stored as f32 in
    # w.bin, rounded when read: source_type). kiln-form-fusions makes the
    # product a kiln.gemm (bf16 is a library type since session 11); at 8
    # rows or fewer kiln-gemv makes it a GEMV kernel with the rounded norm
    # as its prologue, above 8 it stays a cuBLASLt gemm after the norm's
    # own kernel. shape: [M, K, N].
    m, k, n = shape
    x, xb, g, gb, y = t([m, k]), t([m, k], dt), t([k]), t([k], dt), t([m, n])
    ir = (f"func.func @main(%x: {x}, %g: {g}) -> {y} {{\n"
          f"  %xb = kiln.cast %x : {x} -> {xb}\n"
          f"  %gb = kiln.cast %g : {g} -> {gb}\n"
          f"  %h = kiln.rms_norm %xb, %gb {{axis = 1 : i64, epsilon = 1.0e-05 : f32, round_normalized}} : "
          f"({xb}, {gb}) -> {xb}\n" + native_product(m, k, n, dt))
    scale = lambda rng: (rng.standard_normal([k]) / np.sqrt(k)).astype(np.float32)
    return ir, [("x", [m, k]), ("g", [k], scale)], k * n


def case_norm_widened(shape, dt="bf16"):
    # A model in its own bf16 types whose LayerNorm is computed in f32 and
    # rounded once (Cohere's `(w.to(f32) * layer_norm(x.to(f32)) +
    # b.to(f32)).to(bf16)`, the core decomposed): kiln-recognize folds it
    # into one kiln.layer_norm of bf16 (session 17,
    # test/Reference/norm-widened.test), which then feeds a product on a
    # bf16 weight: at 8 rows or fewer a GEMV kernel with the norm as its
    # prologue, above 8 the norm's own kernel and a cuBLASLt gemm.
    # shape: [M, K, N].
    m, k, n = shape
    x, xb, p, pb = t([m, k]), t([m, k], dt), t([k]), t([k], dt)
    r, y = t([m, 1]), t([m, n])
    ir = (f"func.func @main(%x: {x}, %g: {p}, %b: {p}) -> {y} {{\n"
          f"  %xb = kiln.cast %x : {x} -> {xb}\n"
          f"  %gb = kiln.cast %g : {p} -> {pb}\n"
          f"  %bb = kiln.cast %b : {p} -> {pb}\n"
          f"  %xf = kiln.cast %xb : {xb} -> {x}\n"
          f"  %m = kiln.reduce_mean %xf {{axes = array<i64: 1>}} : ({x}) -> {r}\n"
          f"  %d = kiln.sub %xf, %m : ({x}, {r}) -> {x}\n"
          f"  %sq = kiln.mul %d, %d : ({x}, {x}) -> {x}\n"
          f"  %v = kiln.reduce_mean %sq {{axes = array<i64: 1>}} : ({x}) -> {r}\n"
          f"  %eps = kiln.constant dense<1.0e-05> : tensor<f32>\n"
          f"  %a = kiln.add %v, %eps : ({r}, tensor<f32>) -> {r}\n"
          f"  %s = kiln.sqrt %a : {r}\n"
          f"  %n = kiln.div %d, %s : ({x}, {r}) -> {x}\n"
          f"  %gf = kiln.cast %gb : {pb} -> {p}\n"
          f"  %bf = kiln.cast %bb : {pb} -> {p}\n"
          f"  %sc = kiln.mul %gf, %n : ({p}, {x}) -> {x}\n"
          f"  %z = kiln.add %sc, %bf : ({x}, {p}) -> {x}\n"
          f"  %h = kiln.cast %z : {x} -> {xb}\n" + native_product(m, k, n, dt))
    scale = lambda rng: (1 + 0.3 * rng.standard_normal([k])).astype(np.float32)
    return ir, [("x", [m, k]), ("g", [k], scale), ("b", [k])], k * n


def case_merge_gemms(shape):
    # kiln-compile --merge-gemms: gate and up of M rows (more than kiln's
    # GEMV takes: cuBLASLt gemms) as one gemm on their weights stored back
    # to back, the SwiGLU reading both column ranges through slice leaves;
    # and q/k/v-like siblings of other widths with bias adds (elementwise
    # consumers). shape: [M, K, N, bf16]. The rows are gathered from a
    # weight (as case_gemv_mma's), so after --precision bf16 every product
    # reads the same bf16 value (an f32 argument would be cast once per
    # product, and products of different inputs do not merge).
    m, k, n, bf16 = shape
    f = 4  # f32 bytes in w.bin
    x, w, row = t([m, k]), t([k, n]), t([m, n])
    w2, row2 = t([k, n // 2]), t([m, n // 2])
    lines = [f'  %emb = kiln.weight "emb" {{path = "{{WPATH}}", offset = 0 : i64, '
             f'length = {16 * k * f} : i64}} : {t([16, k])}\n',
             f"  %x = kiln.gather %emb, %ids {{axis = 0 : i64}} : ({t([16, k])}, {t([m], 'i64')}) -> {x}\n"]
    off = 16 * k * f
    for name, ty in [("wg", w), ("wu", w), ("wq", w), ("wk", w2), ("wv", w2)]:
        nn = n if ty == w else n // 2
        lines.append(f'  %{name} = kiln.weight "{name}" {{path = "{{WPATH}}", offset = {off} : i64, '
                     f'length = {k * nn * f} : i64}} : {ty}\n')
        off += k * nn * f
    lines.append(f'  %bk = kiln.weight "bk" {{path = "{{WPATH}}", offset = {off} : i64, '
                 f'length = {n // 2 * f} : i64}} : {t([n // 2])}\n')
    off += n // 2 * f
    ir = (f"func.func @main(%ids: {t([m], 'i64')}) -> ({row}, {row}, {row2}, {row2}) {{\n"
          + "".join(lines) +
          f"  %g = kiln.matmul %x, %wg : ({x}, {w}) -> {row}\n"
          f"  %u = kiln.matmul %x, %wu : ({x}, {w}) -> {row}\n"
          f"  %s = kiln.silu %g : {row}\n"
          f"  %h = kiln.mul %s, %u : ({row}, {row}) -> {row}\n"
          f"  %q = kiln.matmul %x, %wq : ({x}, {w}) -> {row}\n"
          f"  %kk = kiln.matmul %x, %wk : ({x}, {w2}) -> {row2}\n"
          f"  %v = kiln.matmul %x, %wv : ({x}, {w2}) -> {row2}\n"
          f"  %kb = kiln.add %kk, %bk : ({row2}, {t([n // 2])}) -> {row2}\n"
          f"  %qe = kiln.exp %q : {row}\n"
          f"  %vn = kiln.neg %v : {row2}\n"
          f"  return %h, %qe, %kb, %vn : {row}, {row}, {row2}, {row2}\n}}\n")
    return ir, [("ids", [m], lambda rng: rng.integers(0, 16, [m]).astype(np.int64))], off // f


def case_nbits(shape):
    # kiln.matmul_nbits: decode rows (at most 8) run as
    # kiln::matmulNBitsGemv, more rows as kiln::matmulNBits. The packed
    # weights, scales and zero points are inputs here (random bytes), so
    # every nibble value and zero point occurs. shape: [M, N, K, block,
    # bits, zero points (0 none, 1 packed uint8, 2 float), bias (0/1)].
    m, n, k, bs, bits, zk, bias = shape
    blocks = k // bs
    blob = bs * bits // 8
    u8 = lambda dims: (lambda rng: rng.integers(0, 256, dims).astype(np.uint8))
    scale = lambda dims: (lambda rng: (rng.standard_normal(dims) * 0.1).astype(np.float32))
    inputs = [("x", [m, k]), ("w", [n, blocks, blob], u8([n, blocks, blob])),
              ("s", [n * blocks], scale([n * blocks]))]
    types = [t([m, k]), t([n, blocks, blob], "ui8"), t([n * blocks])]
    extra = ""
    if zk == 1:
        zb = n * ((blocks * bits + 7) // 8)
        inputs.append(("z", [zb], u8([zb])))
        types.append(t([zb], "ui8"))
        extra += " zero_points %z"
    elif zk == 2:
        inputs.append(("z", [n * blocks],
                       lambda rng: rng.uniform(0, 2 ** bits - 1, [n * blocks]).astype(np.float32)))
        types.append(t([n * blocks]))
        extra += " zero_points %z"
    if bias:
        inputs.append(("b", [n]))
        types.append(t([n]))
        extra += " bias %b"
    args = ", ".join(f"%{name}: {ty}" for (name, *_), ty in zip(inputs, types))
    ir = (f"func.func @main({args}) -> {t([m, n])} {{\n"
          f"  %y = kiln.matmul_nbits %x, %w, %s{extra} {{K = {k} : i64, N = {n} : i64, "
          f"bits = {bits} : i64, block_size = {bs} : i64}} : ({', '.join(types)}) -> {t([m, n])}\n"
          f"  return %y : {t([m, n])}\n}}\n")
    return ir, inputs


def case_nbits_merged(shape):
    # kiln-gemv's kernels on kiln.matmul_nbits (kiln::nbitsDots): q and k
    # (siblings; q with a bias) after a norm (its own kernel: int4 products
    # take no prologue), gate and up with SwiGLU, and a product with a
    # residual, all on M rows of x. shape: [M, K, N, N2, block, bits, zero
    # points (0 none, 1 packed uint8, 2 float), norm (0 an RMSNorm, 2 a
    # LayerNorm), bf16 (0/1: the model's own types,
    # every float input cast to bf16 first and the results back to f32)].
    m, k, n, n2, bs, bits, zk, norm, bf = shape
    blocks, blob = k // bs, bs * bits // 8
    u8 = lambda dims: (lambda rng: rng.integers(0, 256, dims).astype(np.uint8))
    scale = lambda dims: (lambda rng: (rng.standard_normal(dims) * 0.02).astype(np.float32))
    dt = "bf16" if bf else "f32"
    inputs = [("x", [m, k]), ("g", [k]), ("r", [m, n]), ("b", [n])]
    products = []
    for name, cols, src in [("q", n, "h"), ("k", n2, "h"), ("gt", n, "x"),
                            ("up", n, "x"), ("o", n, "x")]:
        inputs += [(f"w{name}", [cols, blocks, blob], u8([cols, blocks, blob])),
                   (f"s{name}", [cols * blocks], scale([cols * blocks]))]
        if zk == 1:
            zb = cols * ((blocks * bits + 7) // 8)
            inputs.append((f"z{name}", [zb], u8([zb])))
        elif zk == 2:
            inputs.append((f"z{name}", [cols * blocks],
                           lambda rng, c=cols: rng.uniform(0, 2 ** bits - 1, [c * blocks]).astype(np.float32)))
        products.append((name, cols, src, zk != 0))
    # Float inputs are f32 in the signature (the .pb files), cast to dt.
    types, body = [], ""
    for name, dims, *_ in inputs:
        packed = name.startswith("w") or (name.startswith("z") and zk == 1)
        types.append(t(dims, "ui8") if packed else t(dims))
        if not packed and bf:
            body += f"  %{name}_ = kiln.cast %{name} : {t(dims)} -> {t(dims, dt)}\n"
    v = lambda name: f"%{name}_" if bf else f"%{name}"
    ty = {name: (t(dims, "ui8") if tt.startswith("tensor") and "ui8" in tt
                 else t(dims, dt))
          for (name, dims, *_), tt in zip(inputs, types)}
    x = ty["x"]
    h = gemv_prologue(norm, x, [k], 1).replace("%x,", v("x") + ",").replace(
        "%g", v("g")).replace(t([k]), t([k], dt))
    body += h
    rows = {}
    for name, cols, src, has_zero in products:
        ops = [v("x") if src == "x" else "%h", f"%w{name}", v(f"s{name}")]
        tys = [x, ty[f"w{name}"], ty[f"s{name}"]]
        extra = ""
        if has_zero:
            zname = f"z{name}"
            extra += f" zero_points {v(zname) if zk == 2 else '%' + zname}"
            tys.append(ty[zname])
        if name == "q":
            extra += f" bias {v('b')}"
            tys.append(ty["b"])
        row = t([m, cols], dt)
        body += (f"  %p{name} = kiln.matmul_nbits {', '.join(ops)}{extra} "
                 f"{{K = {k} : i64, N = {cols} : i64, bits = {bits} : i64, "
                 f"block_size = {bs} : i64}} : ({', '.join(tys)}) -> {row}\n")
        rows[name] = row
    row = rows["q"]
    body += (f"  %s = kiln.silu %pgt : {row}\n"
             f"  %sw = kiln.mul %s, %pup : ({row}, {row}) -> {row}\n"
             f"  %res = kiln.add %po, {v('r')} : ({row}, {row}) -> {row}\n")
    outs = [("pq", [m, n]), ("pk", [m, n2]), ("sw", [m, n]), ("res", [m, n])]
    if bf:
        for name, dims in outs:
            body += f"  %{name}_f = kiln.cast %{name} : {t(dims, dt)} -> {t(dims)}\n"
    rets = ", ".join(f"%{name}_f" if bf else f"%{name}" for name, _ in outs)
    rtys = ", ".join(t(dims) for _, dims in outs)
    args = ", ".join(f"%{name}: {tt}" for (name, *_), tt in zip(inputs, types))
    ir = (f"func.func @main({args}) -> ({rtys}) {{\n" + body +
          f"  return {rets} : {rtys}\n}}\n")
    return ir, inputs


CASES = [
    ("rms_norm", case_rms_norm, [[1, 1, 64], [3, 5, 100], [2, 7, 2048], [1, 1, 4099]]),
    ("layer_norm", case_layer_norm, [[1, 1, 64], [3, 5, 100], [2, 3, 1543]]),
    ("softmax", case_softmax, [[4, 1, 8], [2, 3, 1000], [1, 1, 4099]]),
    ("reduce", case_reduce, [[5, 7], [3, 257], [2, 3, 5000]]),
    ("rotary", case_rotary, [[1, 4, 1, 16], [2, 3, 5, 64], [1, 2, 7, 30],
                             [2, 3, 5, 64, 1, 0], [1, 2, 7, 30, 1, 1]]),
    ("attention", case_attention, [
        [1, 4, 2, 1, 8, 16, False],     # decode, grouped-query
        [1, 4, 2, 6, 6, 16, True],      # prefill, causal
        [2, 8, 8, 1, 37, 64, False],    # decode, 37 keys
        [1, 32, 8, 1, 1031, 64, False], # decode, long past
    ]),
    # [B, Hq, Hkv, S, T, D, pos...]
    ("kv_attention", case_kv_attention, [
        [1, 32, 8, 1, 1031, 64, 700],   # Llama-1B heads, 22 live chunks
        [2, 14, 2, 1, 300, 64, 5, 299], # Qwen2.5-0.5B heads; 1 and 10 chunks
        [1, 4, 4, 3, 200, 16, 150],     # 3 query positions, 2 chunks
        [1, 2, 1, 1, 40, 128, 39],      # 32 lanes per key, 3 chunks
        # A batch-1 step whose cache is 2 to 8 chunks of 8 warps x 4 steps
        # merges in a cluster (KILN_CLUSTER_DIMS): all 4 heads a block, 8
        # chunks all live; a head a block, 5 of 8 chunks live (the other
        # blocks of the cluster meet at its barriers). The 40-slot case
        # above is a cluster of 2.
        [1, 32, 8, 1, 512, 64, 511],
        [1, 14, 2, 1, 500, 64, 300],
    ]),
    # The same op in bf16 (checked against the reference backend on the
    # same artifact, which rounds where the GPU rounds), decode steps of 2
    # to 8 rows with a mask: 4 query heads a kv head at batch 8, 7 at batch
    # 4, 8 at batch 2, and Llama-3-8B's head dim 128 at batch 2. Chunks of
    # 8 warps x 2 steps: 64 slots at D = 64, 32 at D = 128; positions at
    # their edges (63: one whole chunk live; 64: the second holds one key),
    # the last slot, and 0 (one key). (In session 11's call 2 larger shapes
    # of this class ran with chunks of 8 x 9 steps, a rule tried and
    # reverted: bench/RESULTS.md.)
    ("kv_attention_bf16", case_kv_attention_bf16, [
        [8, 8, 2, 1, 320, 64, 0, 63, 64, 127, 128, 319, 100, 250],
        [4, 14, 2, 1, 320, 64, 5, 63, 200, 319],
        [2, 16, 2, 1, 320, 64, 150, 319],
        [2, 8, 2, 1, 160, 128, 31, 159],  # D = 128
    ]),
    # [B, Hq, Hkv, T, D, interleaved, R, pos...]. kiln-fuse-kv-attention
    # fuses up to 8 batch rows (kFuseKvAttentionMaxBatch, since session 25;
    # more than one only where the attention does not run in clusters): at
    # 4 rows of 32 query heads and 8 rows of 8 the cluster grids would be
    # 192 and 160 blocks, past 132, so these fuse without clusters, their
    # rows at chunk edges (63, 64), the last slot and 0; at 2 rows the
    # attention runs in clusters and stays apart (kv_rope_append's graph).
    # At 3a97abc, when it fused any batch, the same kernel passed at B = 2
    # (positions 5 and 300; 0 and 63):
    # bench/gpu-correctness-2026-12-01-h200-3a97abc.log.
    ("kv_fused", case_kv_fused, [
        [4, 32, 8, 160, 64, 0, 64, 0, 63, 64, 159],
        [8, 8, 2, 320, 64, 0, 64, 0, 63, 64, 127, 128, 319, 100, 250],
        [1, 8, 2, 320, 64, 0, 64, 300],  # rotate-half; a cluster of 5
        [1, 8, 2, 320, 64, 0, 64, 150],  # 3 of the cluster's 5 chunks live
        [1, 8, 2, 320, 64, 0, 64, 5],    # one chunk, written directly
        [1, 32, 8, 512, 64, 0, 64, 300], # Llama-1B's heads: 2 a block, 128 blocks
        [1, 4, 4, 64, 16, 1, 8, 63],     # interleaved, half the head
    ]),
    # case_kv_fused's graph at 2 to 4 batch rows with the attention its own
    # kernel (--fuse-kv-attention-max-batch=1, which this class is compiled
    # with), where kiln-fuse-kv-attention (since session 16, by
    # default) merges the two rotaries and the append into one
    # (kiln::rotaryAt, kiln::kvAppendAt): rotate-half and interleaved, rows
    # at chunk edges (63, 64), the last slot and 0.
    ("kv_rope_append", case_kv_fused, [
        [2, 8, 2, 320, 64, 0, 64, 300, 5],
        [4, 8, 2, 160, 64, 0, 64, 0, 63, 64, 159],
        [3, 4, 4, 64, 16, 1, 8, 63, 1, 30],  # interleaved, half the head
    ]),
    ("activations", case_activations, [[3, 1001], [1, 1, 8192]]),
    # [M, K, N, bf16]: cuBLASLt gemms with GELU_BIAS / RELU + alpha + C /
    # alpha epilogues (f32: 8 and 5 rows, N not a multiple of 4 or 8;
    # bf16: 32 rows of a Llama-1B row), and the same epilogues in kiln's
    # GEMV kernels (one f32 row; 4 bf16 rows on the tensor cores).
    ("gemm_epilogue", case_gemm_epilogue, [[8, 64, 96, 0], [5, 200, 77, 0],
                                           [32, 2048, 40, 1], [1, 2048, 41, 0],
                                           [4, 896, 24, 1]]),
    ("chain", case_chain, [[1, 1, 64], [3, 5, 100], [2, 1, 8193]]),
    ("tables", case_tables, [[1, 1, 32], [32, 1, 64], [2, 7, 33], [4, 8, 160]]),
    ("embed", case_embed, [[1, 1, 64], [2, 7, 33], [4, 3, 2048]]),
    # [K, N, N2, prologue(, split)]: K a multiple of the f32 vector (4), N
    # and N2 not of the 8 columns per block (nor of the 8 / split columns
    # of a split kernel's block); K = 2048 is a Llama-1B row (split 2 by
    # default in f32, 8 KB), K = 8192 its down projection's (split 8);
    # forced splits with the shared-memory prologues, and split 4 on K = 200
    # (halved to 2: 200 is not a multiple of 4 x 4). N stays small where K
    # is long: the weights travel to the GPU machine.
    ("gemv", case_gemv, [[64, 96, 32, 0], [200, 77, 13, 0], [2048, 41, 13, 0],
                         [200, 77, 13, 1], [2048, 41, 13, 2], [8192, 9, 3, 0],
                         [2048, 9, 3, 0, 1], [200, 77, 13, 1, 4],
                         [2048, 9, 3, 2, 8], [64, 96, 32, 0, 2]]),
    # [M, K, N, N2, prologue(, split)], bf16: 8 rows of a Llama-1B row
    # (split 8) with the folded RMSNorm, N not a multiple of the 8-column
    # tile; 3 rows with the LayerNorm (shared memory); K = 200 (not a
    # multiple of a 32-element step, split 1); 5 rows of K = 8192 (split
    # 8, four tiles of steps a warp); Qwen2.5-0.5B's K = 896 (split 4: a
    # block holds two tiles; with N = 12 a tile of the k product (L = 1)
    # and one of gate/up (L = 2) share a block, and so its shared
    # partials); the [1]-scale RMSNorm with split forced to 1 and 2; 8
    # rows of Llama-3-8B's K = 4096 with the folded RMSNorm (64 KB of rows:
    # folded since session 11, no shared-memory bound); 4 rows with the
    # RMSNorm of a 16-bit export (round_normalized: not folded, normRow
    # into shared memory; prepared in session 11, not yet run on a GPU).
    ("gemv_mma", case_gemv_mma, [[8, 2048, 41, 13, 0], [3, 2048, 41, 13, 2],
                                 [2, 200, 77, 13, 0], [5, 8192, 9, 3, 0],
                                 [4, 896, 20, 7, 0], [4, 896, 12, 7, 0],
                                 [8, 2048, 9, 3, 1, 1],
                                 [6, 2048, 16, 8, 0, 2],
                                 [8, 4096, 9, 3, 0], [4, 2048, 16, 8, 3]]),
    # [M, K, N]: one row (kiln's one-row GEMV), 4 rows (on the tensor
    # cores), 8 rows of Qwen2.5-0.5B's K = 896 with N not a multiple of
    # the 8-column tile, and 32 rows (cuBLASLt's bf16 gemm after the
    # rounded norm's kernel).
    ("bf16_native", case_bf16_native, [[1, 2048, 40], [4, 2048, 48],
                                       [8, 896, 21], [32, 2048, 48]]),
    # A bf16 model's LayerNorm computed in f32 and rounded once, folded
    # into a layer_norm of bf16 (session 17; not yet run on a GPU).
    ("norm_widened", case_norm_widened, [[1, 2048, 40], [4, 896, 24],
                                         [32, 1000, 48]]),
    # f16 (since session 12 the CUDA backend emits __half): the bf16 classes'
    # shapes in f16 - a model in its own f16 types, the attention kernel on
    # f16 q/k/v (8 and 2 rows, head dims 64 and 128), and kiln-gemv's
    # tensor-core and one-row kernels after kiln-compile --precision f16
    # (folded RMSNorm, the rounded one, LayerNorm; case_gemv_mma's shapes).
    ("f16_native", lambda s: case_bf16_native(s, "f16"),
     [[1, 2048, 40], [4, 2048, 48], [8, 896, 21], [32, 2048, 48]]),
    ("kv_attention_f16", lambda s: case_kv_attention_bf16(s, "f16"),
     [[8, 8, 2, 1, 320, 64, 0, 63, 64, 127, 128, 319, 100, 250],
      [2, 8, 2, 1, 160, 128, 31, 159]]),
    ("gemv_mma_f16", case_gemv_mma, [[8, 2048, 41, 13, 0], [3, 2048, 41, 13, 2],
                                     [4, 2048, 16, 8, 3], [5, 8192, 9, 3, 0]]),
    ("gemv_f16", case_gemv_mma, [[1, 2048, 41, 13, 0], [1, 2048, 16, 8, 3]]),
    # [M, K, N, bf16]: 32 bf16 rows of a Llama-1B row (gemms merged on the
    # weights stored back to back, the SwiGLU through slice leaves), 4 f32
    # rows (kiln's GEMV takes one f32 row), and 16 bf16 rows of Qwen's 896.
    # Compiled with --merge-gemms (off by default; its CUDA path had not
    # run on a GPU when this class was added, session 12).
    ("merge_gemms", case_merge_gemms, [[32, 2048, 64, 1], [4, 64, 128, 0],
                                       [16, 896, 40, 1]]),
    # [M, N, K, block, bits, zero points, bias]: a Llama-1B row (K = 2048)
    # with odd N and a bias, 8 rows with float zero points and block 128,
    # 3 blocks a row (a padding nibble in the packed zero points), block 16
    # (two blocks per 16-byte piece), 8-bit weights, and 9 rows (the
    # one-thread-per-element kernel).
    ("nbits", case_nbits, [[1, 77, 2048, 32, 4, 1, 1], [8, 40, 2048, 128, 4, 2, 0],
                           [1, 33, 96, 32, 4, 1, 0], [2, 50, 512, 16, 4, 1, 0],
                           [1, 100, 256, 32, 8, 1, 1], [9, 20, 64, 32, 4, 0, 0]]),
    # [M, K, N, N2, block, bits, zero points, norm, bf16]: kiln-gemv's
    # merged kernels on int4 products (q/k siblings after the norm, SwiGLU,
    # a residual; one row: kNBitsGemvMergeMaxRows): a Llama-1B row with
    # packed zero points after an RMSNorm, float zero points after a
    # LayerNorm, 8-bit weights with none, a bf16 row (the model's own
    # types), and 8 rows (not merged: one kernel each).
    ("nbits_merged", case_nbits_merged,
     [[1, 2048, 77, 40, 32, 4, 1, 0, 0], [1, 256, 40, 24, 128, 4, 2, 2, 0],
      [1, 512, 33, 16, 32, 8, 0, 0, 0], [1, 2048, 64, 32, 32, 4, 1, 0, 1],
      [8, 256, 40, 24, 128, 4, 2, 2, 0]]),
]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit(f"prepare_kernels: FAILED: {' '.join(cmd)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("bundle")
    ap.add_argument("--arch", default="sm_90a")
    ap.add_argument("--classes", default=None,
                    help="comma-separated kernel classes to prepare (default: all)")
    a = ap.parse_args()
    known = [cls for cls, _, _ in CASES]
    only = a.classes.split(",") if a.classes else known
    unknown = [c for c in only if c not in known]
    if unknown:
        sys.exit(f"prepare_kernels: unknown classes {', '.join(unknown)}; "
                 f"known: {', '.join(known)}")
    extra = os.environ.get("KILN_FLAGS", "").split()
    kiln = lambda name: os.path.join(a.build, "bin", name)
    entries = 0
    for cls, make, shapes in CASES:
        if cls not in only:
            continue
        for index, shape in enumerate(shapes):
            name = f"kernel-{cls}-" + "x".join(str(int(d)) for d in shape)
            out = os.path.join(a.bundle, name)
            os.makedirs(os.path.join(out, "expected"), exist_ok=True)
            ir, inputs, *weights = make(shape)
            if weights:
                # Random weights beside the model, read when it compiles.
                wpath = os.path.abspath(os.path.join(out, "w.bin"))
                np.random.default_rng(7 + index).standard_normal(weights[0]).astype(
                    np.float32).tofile(wpath)
                ir = ir.replace("{WPATH}", wpath)
            # Arguments are bound by name, as an imported model's are.
            head, rest = ir.split(") ->", 1)
            for arg, *_ in inputs:
                head = re.sub(r"(%%%s: tensor<[^>]*>)" % arg,
                              r'\1 {kiln.name = "%s"}' % arg, head)
            ir = head + ") ->" + rest
            model = os.path.join(out, "model.mlir")
            open(model, "w").write(ir)
            rng = np.random.default_rng(1000 * entries + index)
            args = []
            for k, (arg, dims, *make_arr) in enumerate(inputs):
                arr = (make_arr[0](rng) if make_arr
                       else rng.standard_normal(dims).astype(np.float32))
                if cls in ("attention", "kv_attention", "kv_attention_bf16",
                           "kv_attention_f16") and arg == "m":
                    # An additive mask: 0 or -1e4 (never a whole masked row).
                    arr = np.where(rng.random(dims) < 0.2, -1e4, 0).astype(np.float32)
                    arr[..., 0] = 0
                path = os.path.join(out, f"input_{k}.pb")
                open(path, "wb").write(numpy_helper.from_array(arr, arg).SerializeToString())
                args += ["--input", path]
            if cls in ("gemv", "nbits", "nbits_merged"):
                # f32 dot products of K terms of unit scale, summed by the
                # GPU in another order than the reference: they differ by
                # about sqrt(K) * 2^-24 per unit of sum |terms| (~0.64 K),
                # which the SwiGLU epilogue multiplies by |up| (tens).
                # 1e-6 * K covers that (2e-3 at K = 2048); a wrong row or
                # element (errors of order 1) still fails.
                # (nbits: the same sums, of K = shape[2] terms.)
                k = {"gemv": shape[0], "nbits": shape[2]}.get(cls, shape[1])
                open(os.path.join(out, "tolerance"), "w").write(
                    f"--atol {1e-6 * k:.3g}\n")
            if cls == "merge_gemms":
                # As gemm_epilogue's: f32 products summed in another order;
                # bf16 a flipped rounding.
                open(os.path.join(out, "tolerance"), "w").write(
                    "--rtol 2e-2 --atol 2e-2\n" if shape[3] else
                    f"--atol {1e-6 * shape[1]:.3g}\n")
            if cls == "gemm_epilogue":
                # f32: products of order 1 summed in another order (cuBLASLt
                # may split K); bf16: as gemv_mma's, a flipped rounding of
                # the product or the result (1 ulp, under 1%).
                open(os.path.join(out, "tolerance"), "w").write(
                    "--rtol 2e-2 --atol 2e-2\n" if shape[3] else
                    f"--atol {1e-6 * shape[1]:.3g}\n")
            if cls in ("gemv_mma", "kv_attention_bf16", "bf16_native", "f16_native",
                       "kv_attention_f16", "gemv_mma_f16", "gemv_f16",
                       "norm_widened") or (
                           cls == "nbits_merged" and shape[8]):
                # bf16 against the reference backend on the same bf16
                # artifact (it rounds where the GPU rounds): what remains
                # is summation order, a flipped bf16 rounding (1 ulp,
                # under 1%) and, with the folded RMSNorm, x * scale
                # rounded to bf16 before the rsqrt (about 2^-9 of each
                # term, ~1e-3 on the products of order 1). A wrong row or
                # column is off by the output's own size.
                open(os.path.join(out, "tolerance"), "w").write(
                    "--rtol 2e-2 --atol 2e-2\n")
            split = ([f"--gemv-split-k={shape[4]}"]
                     if cls == "gemv" and len(shape) > 4 else
                     [f"--gemv-split-k={shape[5]}"]
                     if cls == "gemv_mma" and len(shape) > 5 else [])
            bf16 = (cls in ("gemv_mma", "kv_attention_bf16") or
                    (cls in ("gemm_epilogue", "merge_gemms") and shape[3]))
            precision = (["--precision", "bf16"] if bf16 else
                         ["--precision", "f16"] if cls in ("gemv_mma_f16", "gemv_f16")
                         else [])
            # 16-bit (lowered or in the model's own types): expected from
            # the reference backend on the artifact (it rounds where the
            # GPU rounds).
            bf16 = bool(precision) or cls in ("bf16_native", "f16_native",
                                              "kv_attention_f16",
                                              "norm_widened") or (
                                                  cls == "nbits_merged" and shape[8])
            if not bf16:
                run([kiln("kiln-run"), model, "--backend=ref", "--output-dir",
                     os.path.join(out, "expected")] + args)
            merge = ["--merge-gemms"] if cls == "merge_gemms" else []
            # kv_rope_append checks the rope-append kernel beside the
            # attention: since session 25 kiln-fuse-kv-attention fuses up
            # to 8 rows by default (or the attention runs in clusters), so
            # the class keeps the attention apart at every row count. A
            # KILN_FLAGS value given comes later and wins.
            apart = (["--fuse-kv-attention-max-batch=1"]
                     if cls == "kv_rope_append" else [])
            run([kiln("kiln-compile"), model, "-o", os.path.join(out, "model.kiln"),
                 "--arch", a.arch] + split + precision + merge + apart + extra)
            if bf16:
                run([kiln("kiln-run"), os.path.join(out, "model.kiln"), "--backend=ref",
                     "--output-dir", os.path.join(out, "expected")] + args)
            if weights:
                os.remove(wpath)  # the artifact holds them now
            print(f"prepared {name}")
            entries += 1
    print(f"prepare_kernels: {entries} entries in {a.bundle}")


if __name__ == "__main__":
    main()
