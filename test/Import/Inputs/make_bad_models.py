#!/usr/bin/env python3
"""Writes malformed or unsupported ONNX models for the importer's error tests.

Usage: make_bad_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def external_weight(name, location, shape):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(shape)
    t.data_location = TensorProto.EXTERNAL
    n = int(np.prod(shape)) * 4
    for k, v in (("location", location), ("offset", "0"), ("length", str(n))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    save = lambda m, n: onnx.save(m, os.path.join(out, n))

    save(model([helper.make_node("Relu", ["nobody_makes_this"], ["y"],
                                 name="reader")],
               [f32("x", [4])], [f32("y", [4])]), "dangling.onnx")
    save(model([helper.make_node("Relu", ["x", ], ["a"], name="n0"),
                helper.make_node("Add", ["a", "c"], ["b"], name="n1"),
                helper.make_node("Relu", ["b"], ["c"], name="n2")],
               [f32("x", [4])], [f32("b", [4])]), "cycle.onnx")

    good = model([helper.make_node("Relu", ["x"], ["y"])], [f32("x", [4])],
                 [f32("y", [4])]).SerializeToString()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(good[: len(good) // 2])
    with open(os.path.join(out, "garbage.onnx"), "wb") as f:
        f.write(b"\xff\xff\xff\xff\x0f not a model at all")

    mm = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    save(model(mm, [f32("x", [1, 64])], [f32("y", [1, 64])],
               [external_weight("w", "missing.bin", [64, 64])]),
         "missing-ext.onnx")
    with open(os.path.join(out, "short.bin"), "wb") as f:
        f.write(b"\0" * 100)
    save(model(mm, [f32("x", [1, 64])], [f32("y", [1, 64])],
               [external_weight("w", "short.bin", [64, 64])]),
         "short-ext.onnx")

    save(model([helper.make_node("Identity", ["x"], ["y"])],
               [helper.make_tensor_value_info("x", TensorProto.STRING, [2])],
               [helper.make_tensor_value_info("y", TensorProto.STRING, [2])]),
         "bad-dtype.onnx")
    save(model([helper.make_node("Relu", ["x"], ["y"])],
               [f32("x", [1, "seq"])], [f32("y", [1, "seq"])]),
         "dynamic.onnx")
    save(model([helper.make_node("Shape", ["s"], ["shp"]),
                helper.make_node("Reshape", ["x", "s"], ["y"],
                                 name="reshape")],
               [f32("x", [2, 3]), helper.make_tensor_value_info(
                   "s", TensorProto.INT64, [2])], [f32("y", [3, 2])]),
         "nonconst.onnx")
    w = helper.make_tensor("w", TensorProto.FLOAT, [100000],
                           np.zeros(100000, np.float32).tolist())
    save(model([helper.make_node("Add", ["x", "w"], ["y"])],
               [f32("x", [100000])], [f32("y", [100000])], [w]),
         "typed-large.onnx")


if __name__ == "__main__":
    main()
