#!/usr/bin/env python3
"""Builds a Llama-3.2-1B-shaped decode graph (hidden 2048, 16 layers, vocab
128256, intermediate 8192, 32 heads, 8 kv heads, head dim 64) in ONNX opset
18, with every weight in one external-data file. --shape qwen05b builds the
same Llama-style graph with the Qwen2.5-0.5B shapes of
../shared/bench/peer_decode.py (hidden 896, 24 layers, vocab 151936,
intermediate 4864, 14 heads, 2 kv heads, head dim 64; like the peer's
model, no q/k/v bias and an untied lm head), --shape llama8b its Llama-3-8B
shapes (hidden 4096, 32 layers, vocab 128256, intermediate 14336, 32 heads,
8 kv heads, head dim 128; 32 GB of fp32 weights).

Without --random the data file is created sparse with truncate (all zeros),
so building it costs no disk time; that model is for measuring import time
and memory, not numerics. With --random SEED every weight is drawn from
np.random.default_rng(SEED) (normal, scale 0.02; the RMSNorm weights
1 + 0.02 * normal), generated in chunks and written straight to the data
file (about 6 GB for 16 layers, roughly 20 s). With --rng torch the same
distributions are drawn by PyTorch (torch.Generator seeded with SEED, on
the GPU when there is one) instead: other numbers than numpy's for the
same seed, but many times faster, for the 32 GB of --shape llama8b on the
GPU machine (test/GPU/bench_decode.sh's RNG=torch).

Without --dynamic the graph is the batch-1 step of the first version:
input_ids [1, 1], cos and sin [1, 1, 1, 64] inputs, past keys/values
[1, 8, past_len, 64]. With --dynamic it has the layout of Hugging Face's
dynamic decoder exports, which `kiln-compile --max-seq-len N
--batch-buckets ...` rewrites into step functions over a KV cache
(docs/kv-cache.md):

  input_ids       int64 [batch, 1]
  attention_mask  int64 [batch, total_len]   (0 -> -1e9 added to the scores)
  position_ids    int64 [batch, 1]           (rotary cos/sin computed in the
                                              graph: freqs = pos * inv_freq,
                                              emb = concat(freqs, freqs))
  past_key_values.L.{key,value}  f32 [batch, 8, past_len, 64]
  -> logits [batch, 1, 128256], present.L.{key,value} [batch, 8, total_len, 64]

With --int4 every projection and the lm head is ONNX Runtime's
com.microsoft MatMulNBits (4-bit, block 32, packed uint8 zero points, f32
scales; random bytes with --random), as ONNX Runtime GenAI's int4 models
have; the embedding table and norms stay f32.

Usage: make-llama-1b-onnx.py OUTDIR [--shape llama1b|qwen05b|llama8b] [--past 7]
                             [--layers N] [--dynamic] [--random SEED]
                             [--rng numpy|torch] [--int4]
"""
import argparse
import os
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

# The shapes of ../shared/bench/peer_decode.py's configurations.
SHAPES = {
    "llama1b": dict(hidden=2048, layers=16, heads=32, kv_heads=8, inter=8192, vocab=128256),
    "qwen05b": dict(hidden=896, layers=24, heads=14, kv_heads=2, inter=4864, vocab=151936),
    "llama8b": dict(hidden=4096, layers=32, heads=32, kv_heads=8, inter=14336, vocab=128256),
}
HIDDEN, INTER, VOCAB = 2048, 8192, 128256
HEADS, KV_HEADS = 32, 8
HEAD_DIM = HIDDEN // HEADS


def set_shape(name):
    global HIDDEN, INTER, VOCAB, HEADS, KV_HEADS, HEAD_DIM
    c = SHAPES[name]
    HIDDEN, INTER, VOCAB = c["hidden"], c["inter"], c["vocab"]
    HEADS, KV_HEADS = c["heads"], c["kv_heads"]
    HEAD_DIM = HIDDEN // HEADS
    return c["layers"]
ROPE_THETA = 500000.0
# Random weights are generated and written this many floats at a time.
CHUNK = 1 << 24


class NumpyDraw:
    """--rng numpy: np.random.default_rng(seed)."""
    chunk = CHUNK

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, n):
        return self.rng.standard_normal(n, dtype=np.float32)

    def bytes(self, n):
        return self.rng.integers(0, 256, n, dtype=np.uint8)


class TorchDraw:
    """--rng torch: torch.Generator(seed), on the GPU when there is one;
    the same distributions as NumpyDraw, other numbers."""
    chunk = CHUNK * 4

    def __init__(self, seed):
        import torch
        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(seed)

    def normal(self, n):
        t = self.torch.randn(n, generator=self.gen, device=self.device,
                             dtype=self.torch.float32)
        return t.cpu().numpy()

    def bytes(self, n):
        t = self.torch.randint(0, 256, (n,), generator=self.gen,
                               device=self.device, dtype=self.torch.uint8)
        return t.cpu().numpy()


class Builder:
    def __init__(self, data_file, rng):
        self.nodes, self.inits, self.offset = [], [], 0
        self.data_file = data_file
        self.count = 0
        # With --random: the open data file and the generator.
        self.rng, self.out = rng, None
        self.int4 = False

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out],
                                           name=f"/{out}", **attrs))
        return out

    def weight(self, name, shape, norm=False, kind="f32"):
        """An external-data initializer: f32 weights (normal * 0.02, or
        1 + that for a norm), or for --int4 "u8" (random bytes: packed
        4-bit weights or zero points) and "scale" (f32 block scales,
        0.005 + 0.001 * normal)."""
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.UINT8 if kind == "u8" else TensorProto.FLOAT
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        count = int(np.prod(shape))
        length = count * (1 if kind == "u8" else 4)
        for k, v in (("location", self.data_file), ("offset", str(self.offset)),
                     ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        if self.out is not None:
            self.write_random(count, norm, kind)
        self.offset += length
        self.inits.append(t)
        return name

    def write_random(self, count, norm, kind="f32"):
        left = count
        while left:
            n = min(left, self.rng.chunk)
            if kind == "u8":
                self.rng.bytes(n).tofile(self.out)
            else:
                chunk = self.rng.normal(n)
                if kind == "scale":
                    chunk = chunk * np.float32(0.001) + np.float32(0.005)
                else:
                    chunk *= 0.02
                    if norm:
                        chunk += 1.0
                chunk.tofile(self.out)
            left -= n

    def proj(self, x, name, k, n):
        """x [..., k] times the projection `name` [k, n]: a MatMul by an f32
        weight, or with --int4 ONNX Runtime's MatMulNBits (4-bit, block 32,
        packed uint8 zero points, f32 scales), as GenAI's int4 models have."""
        if not self.int4:
            return self.op("MatMul", [x, self.weight(name, [k, n])])
        blocks = k // 32
        w = self.weight(name, [n, blocks, 16], kind="u8")
        sc = self.weight(name + ".scales", [n, blocks], kind="scale")
        zp = self.weight(name + ".zero_points", [n, (blocks + 1) // 2], kind="u8")
        out = self.name("matmulnbits")
        self.nodes.append(helper.make_node(
            "MatMulNBits", [x, w, sc, zp], [out], name=f"/{out}",
            domain="com.microsoft", K=k, N=n, bits=4, block_size=32))
        return out

    def const(self, values, dtype=np.int64):
        name = self.name("const")
        self.inits.append(onnx.numpy_helper.from_array(
            np.array(values, dtype=dtype), name))
        return name


def rms_norm(b, x, weight):
    sq = b.op("Pow", [x, b.const(2.0, np.float32)])
    mean = b.op("ReduceMean", [sq, b.const([-1])], keepdims=1)
    eps = b.op("Add", [mean, b.const(1e-5, np.float32)])
    inv = b.op("Reciprocal", [b.op("Sqrt", [eps])])
    return b.op("Mul", [b.op("Mul", [x, inv]), weight])


def rotate(b, x, cos, sin):
    half = HEAD_DIM // 2
    x1 = b.op("Slice", [x, b.const([0]), b.const([half]), b.const([3])])
    x2 = b.op("Slice", [x, b.const([half]), b.const([HEAD_DIM]), b.const([3])])
    rot = b.op("Concat", [b.op("Neg", [x2]), x1], axis=3)
    return b.op("Add", [b.op("Mul", [x, cos]), b.op("Mul", [rot, sin])])


def rotary(b, position_ids):
    """cos, sin [batch, 1, 1, HEAD_DIM] from int64 position_ids [batch, 1],
    as Hugging Face's LlamaRotaryEmbedding computes them."""
    inv = 1.0 / ROPE_THETA ** (np.arange(0, HEAD_DIM, 2, dtype=np.float32) / HEAD_DIM)
    pos = b.op("Unsqueeze", [b.op("Cast", [position_ids], to=TensorProto.FLOAT),
                             b.const([2])])                     # [B, 1, 1]
    freqs = b.op("Mul", [pos, b.const(inv.astype(np.float32), np.float32)])
    emb = b.op("Concat", [freqs, freqs], axis=2)                # [B, 1, D]
    emb = b.op("Unsqueeze", [emb, b.const([1])])                # [B, 1, 1, D]
    return b.op("Cos", [emb]), b.op("Sin", [emb])


def additive_mask(b, attention_mask):
    """[batch, 1, 1, total] float: 0 where attention_mask is 1, -1e9 where 0."""
    zero = b.op("Equal", [attention_mask, b.const([0])])
    add = b.op("Where", [zero, b.const([-1e9], np.float32),
                         b.const([0.0], np.float32)])
    return b.op("Unsqueeze", [add, b.const([1, 2])])


def layer(b, i, x, cos, sin, past_k, past_v, outputs, mask, batch):
    p = f"model.layers.{i}"
    h = rms_norm(b, x, b.weight(f"{p}.input_layernorm.weight", [HIDDEN], norm=True))
    # Reshape 0 copies the input's dim (the batch and the one new token).
    lead = [0, 0] if batch is None else [1, 1]
    heads = lambda t, n: b.op("Transpose", [b.op("Reshape", [
        t, b.const(lead + [n, HEAD_DIM])])], perm=[0, 2, 1, 3])
    q = heads(b.proj(h, f"{p}.self_attn.q_proj.weight", HIDDEN, HIDDEN), HEADS)
    k = heads(b.proj(h, f"{p}.self_attn.k_proj.weight", HIDDEN, KV_HEADS * HEAD_DIM), KV_HEADS)
    v = heads(b.proj(h, f"{p}.self_attn.v_proj.weight", HIDDEN, KV_HEADS * HEAD_DIM), KV_HEADS)
    q, k = rotate(b, q, cos, sin), rotate(b, k, cos, sin)
    k = b.op("Concat", [past_k, k], axis=2)
    v = b.op("Concat", [past_v, v], axis=2)
    outputs += [k, v]
    rep = HEADS // KV_HEADS

    def repeat(t):
        u = b.op("Unsqueeze", [t, b.const([2])])
        e = b.op("Expand", [u, b.const([1, KV_HEADS, rep, 1, 1])])
        return b.op("Reshape", [e, b.const([lead[0], HEADS, -1, HEAD_DIM])])

    kt = b.op("Transpose", [repeat(k)], perm=[0, 1, 3, 2])
    s = b.op("Mul", [b.op("MatMul", [q, kt]), b.const(HEAD_DIM ** -0.5, np.float32)])
    if mask is not None:
        s = b.op("Add", [s, mask])
    a = b.op("MatMul", [b.op("Softmax", [s], axis=-1), repeat(v)])
    a = b.op("Reshape", [b.op("Transpose", [a], perm=[0, 2, 1, 3]),
                         b.const(lead + [HIDDEN])])
    x = b.op("Add", [x, b.proj(a, f"{p}.self_attn.o_proj.weight", HIDDEN, HIDDEN)])
    h = rms_norm(b, x, b.weight(f"{p}.post_attention_layernorm.weight", [HIDDEN], norm=True))
    g = b.proj(h, f"{p}.mlp.gate_proj.weight", HIDDEN, INTER)
    u = b.proj(h, f"{p}.mlp.up_proj.weight", HIDDEN, INTER)
    silu = b.op("Mul", [g, b.op("Sigmoid", [g])])
    d = b.proj(b.op("Mul", [silu, u]), f"{p}.mlp.down_proj.weight", INTER, HIDDEN)
    return b.op("Add", [x, d])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--past", type=int, default=7,
                    help="without --dynamic: unused (past_len is symbolic); kept for compatibility")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="llama1b",
                    help="model shapes (default llama1b)")
    ap.add_argument("--layers", type=int, default=None,
                    help="transformer layers (default: the shape's, 16 for llama1b)")
    ap.add_argument("--dynamic", action="store_true",
                    help="symbolic batch, position_ids and attention_mask inputs (HF layout)")
    ap.add_argument("--random", type=int, metavar="SEED", default=None,
                    help="random weights from default_rng(SEED) instead of sparse zeros")
    ap.add_argument("--rng", choices=["numpy", "torch"], default="numpy",
                    help="with --random: numpy's default_rng (default) or a "
                    "torch.Generator, on the GPU when there is one (faster; other numbers)")
    ap.add_argument("--int4", action="store_true",
                    help="every projection and the lm head as com.microsoft "
                    "MatMulNBits (4-bit, block 32, packed zero points)")
    args = ap.parse_args()
    layers = set_shape(args.shape)
    if args.layers is not None:
        layers = args.layers
    os.makedirs(args.outdir, exist_ok=True)
    start = time.time()
    data = "model.onnx.data"
    data_path = os.path.join(args.outdir, data)
    draw = NumpyDraw if args.rng == "numpy" else TorchDraw
    rng = draw(args.random) if args.random is not None else None
    b = Builder(data, rng)
    b.int4 = args.int4
    if rng is not None:
        b.out = open(data_path, "wb")
    batch = "batch" if args.dynamic else 1
    f32 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
    i64 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.INT64, s)
    inputs = [i64("input_ids", [batch, 1])]
    mask = None
    if args.dynamic:
        inputs += [i64("attention_mask", [batch, "total_len"]),
                   i64("position_ids", [batch, 1])]
        cos, sin = rotary(b, "position_ids")
        mask = additive_mask(b, "attention_mask")
    else:
        inputs += [f32("cos", [1, 1, 1, HEAD_DIM]), f32("sin", [1, 1, 1, HEAD_DIM])]
        cos, sin = "cos", "sin"
    x = b.op("Gather", [b.weight("model.embed_tokens.weight", [VOCAB, HIDDEN]), "input_ids"])
    presents = []
    for i in range(layers):
        pk, pv = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        inputs += [f32(pk, [batch, KV_HEADS, "past_len", HEAD_DIM]),
                   f32(pv, [batch, KV_HEADS, "past_len", HEAD_DIM])]
        x = layer(b, i, x, cos, sin, pk, pv, presents, mask,
                  None if args.dynamic else 1)
    x = rms_norm(b, x, b.weight("model.norm.weight", [HIDDEN], norm=True))
    logits = b.proj(x, "lm_head.weight", HIDDEN, VOCAB)
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"]))
    outputs = [f32("logits", [batch, 1, VOCAB])]
    for i, name in enumerate(presents):
        kind = "key" if i % 2 == 0 else "value"
        out = f"present.{i // 2}.{kind}"
        b.nodes.append(helper.make_node("Identity", [name], [out]))
        outputs.append(f32(out, [batch, KV_HEADS, "total_len", HEAD_DIM]))
    graph = helper.make_graph(b.nodes, f"{args.shape}-shaped", inputs, outputs, b.inits)
    opsets = [helper.make_opsetid("", 18)]
    if args.int4:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, os.path.join(args.outdir, "model.onnx"))
    if b.out is not None:
        b.out.close()
        kind = f"random ({args.rng}, seed {args.random})"
    else:
        with open(data_path, "wb") as f:
            f.truncate(b.offset)  # sparse: no bytes written
        kind = "(sparse)"
    assert os.path.getsize(data_path) == b.offset
    print(f"{len(b.nodes)} nodes, {len(b.inits)} initializers, "
          f"{b.offset / 2**30:.2f} GiB of {kind} weights, "
          f"{time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
