#!/usr/bin/env python3
"""Builds a Llama-3.2-1B-shaped decode graph (hidden 2048, 16 layers, vocab
128256, intermediate 8192, 32 heads, 8 kv heads, head dim 64) in ONNX opset
18, with every weight in one external-data file. The data file is created
sparse with truncate (all zeros), so building it costs no disk time; it is
for measuring import time and memory, not numerics.

Usage: make-llama-1b-onnx.py OUTDIR [--past 7] [--layers 16]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HIDDEN, INTER, VOCAB = 2048, 8192, 128256
HEADS, KV_HEADS = 32, 8
HEAD_DIM = HIDDEN // HEADS


class Builder:
    def __init__(self, data_file):
        self.nodes, self.inits, self.offset = [], [], 0
        self.data_file = data_file
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out],
                                           name=f"/{out}", **attrs))
        return out

    def weight(self, name, shape):
        t = TensorProto()
        t.name, t.data_type = name, TensorProto.FLOAT
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        length = int(np.prod(shape)) * 4
        for k, v in (("location", self.data_file), ("offset", str(self.offset)),
                     ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.offset += length
        self.inits.append(t)
        return name

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


def layer(b, i, x, cos, sin, past_k, past_v, outputs):
    p = f"model.layers.{i}"
    h = rms_norm(b, x, b.weight(f"{p}.input_layernorm.weight", [HIDDEN]))
    heads = lambda t, n: b.op("Transpose", [b.op("Reshape", [
        t, b.const([1, 1, n, HEAD_DIM])])], perm=[0, 2, 1, 3])
    q = heads(b.op("MatMul", [h, b.weight(f"{p}.self_attn.q_proj.weight", [HIDDEN, HIDDEN])]), HEADS)
    k = heads(b.op("MatMul", [h, b.weight(f"{p}.self_attn.k_proj.weight", [HIDDEN, KV_HEADS * HEAD_DIM])]), KV_HEADS)
    v = heads(b.op("MatMul", [h, b.weight(f"{p}.self_attn.v_proj.weight", [HIDDEN, KV_HEADS * HEAD_DIM])]), KV_HEADS)
    q, k = rotate(b, q, cos, sin), rotate(b, k, cos, sin)
    k = b.op("Concat", [past_k, k], axis=2)
    v = b.op("Concat", [past_v, v], axis=2)
    outputs += [k, v]
    rep = HEADS // KV_HEADS

    def repeat(t):
        u = b.op("Unsqueeze", [t, b.const([2])])
        e = b.op("Expand", [u, b.const([1, KV_HEADS, rep, 1, 1])])
        return b.op("Reshape", [e, b.const([1, HEADS, -1, HEAD_DIM])])

    kt = b.op("Transpose", [repeat(k)], perm=[0, 1, 3, 2])
    s = b.op("Mul", [b.op("MatMul", [q, kt]), b.const(HEAD_DIM ** -0.5, np.float32)])
    a = b.op("MatMul", [b.op("Softmax", [s], axis=-1), repeat(v)])
    a = b.op("Reshape", [b.op("Transpose", [a], perm=[0, 2, 1, 3]), b.const([1, 1, HIDDEN])])
    x = b.op("Add", [x, b.op("MatMul", [a, b.weight(f"{p}.self_attn.o_proj.weight", [HIDDEN, HIDDEN])])])
    h = rms_norm(b, x, b.weight(f"{p}.post_attention_layernorm.weight", [HIDDEN]))
    g = b.op("MatMul", [h, b.weight(f"{p}.mlp.gate_proj.weight", [HIDDEN, INTER])])
    u = b.op("MatMul", [h, b.weight(f"{p}.mlp.up_proj.weight", [HIDDEN, INTER])])
    silu = b.op("Mul", [g, b.op("Sigmoid", [g])])
    d = b.op("MatMul", [b.op("Mul", [silu, u]), b.weight(f"{p}.mlp.down_proj.weight", [INTER, HIDDEN])])
    return b.op("Add", [x, d])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--past", type=int, default=7)
    ap.add_argument("--layers", type=int, default=16)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    data = "model.onnx.data"
    b = Builder(data)
    f32 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, 1]),
              f32("cos", [1, 1, 1, HEAD_DIM]), f32("sin", [1, 1, 1, HEAD_DIM])]
    x = b.op("Gather", [b.weight("model.embed_tokens.weight", [VOCAB, HIDDEN]), "input_ids"])
    presents = []
    for i in range(args.layers):
        pk, pv = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        inputs += [f32(pk, [1, KV_HEADS, "past_len", HEAD_DIM]),
                   f32(pv, [1, KV_HEADS, "past_len", HEAD_DIM])]
        x = layer(b, i, x, "cos", "sin", pk, pv, presents)
    x = rms_norm(b, x, b.weight("model.norm.weight", [HIDDEN]))
    logits = b.op("MatMul", [x, b.weight("lm_head.weight", [HIDDEN, VOCAB])])
    b.nodes.append(helper.make_node("Identity", [logits], ["logits"]))
    outputs = [f32("logits", [1, 1, VOCAB])]
    for i, name in enumerate(presents):
        kind = "key" if i % 2 == 0 else "value"
        out = f"present.{i // 2}.{kind}"
        b.nodes.append(helper.make_node("Identity", [name], [out]))
        outputs.append(f32(out, [1, KV_HEADS, "total_len", HEAD_DIM]))
    graph = helper.make_graph(b.nodes, "llama-1b-shaped", inputs, outputs, b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, os.path.join(args.outdir, "model.onnx"))
    with open(os.path.join(args.outdir, data), "wb") as f:
        f.truncate(b.offset)  # sparse: no bytes written
    print(f"{len(b.nodes)} nodes, {len(b.inits)} initializers, "
          f"{b.offset / 2**30:.2f} GiB of (sparse) weights")


if __name__ == "__main__":
    main()
