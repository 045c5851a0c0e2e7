#!/usr/bin/env python3
"""Writes models whose large initializers live inline (raw_data) or in an
external-data file, plus small and integer initializers that must become
constants. Usage: make_weight_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build():
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.standard_normal((64, 32)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((32, 48)).astype(np.float16), "w2")
    b = numpy_helper.from_array(np.arange(32, dtype=np.float32), "bias")
    shape = numpy_helper.from_array(np.array([2, -1], np.int64), "shape")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "bias"], ["hb"]),
        helper.make_node("Cast", ["hb"], ["h16"], to=TensorProto.FLOAT16),
        helper.make_node("MatMul", ["h16", "w2"], ["y0"]),
        helper.make_node("Reshape", ["y0", "shape"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "weights",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [2, 96])],
        [w1, w2, b, shape])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    return m


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    onnx.save(build(), os.path.join(out, "inline.onnx"))
    onnx.save(build(), os.path.join(out, "external.onnx"),
              save_as_external_data=True, all_tensors_to_one_file=True,
              location="external.onnx.data", size_threshold=1024)


if __name__ == "__main__":
    main()
