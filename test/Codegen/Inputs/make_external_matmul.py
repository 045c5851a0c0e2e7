#!/usr/bin/env python3
"""make_external_matmul.py DIR: DIR/sub/model.onnx (y = x @ w, w in the
external-data file sub/model.onnx.data), DIR/x.pb and the expected DIR/y.pb."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(os.path.join(out, "sub"), exist_ok=True)
w = (np.arange(64 * 32, dtype=np.float32).reshape(64, 32) % 17 - 8) / 8
x = (np.arange(2 * 64, dtype=np.float32).reshape(2, 64) % 5 - 2) / 4
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 32])],
    [numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
model.ir_version = 8
onnx.save_model(model, os.path.join(out, "sub", "model.onnx"),
                save_as_external_data=True, all_tensors_to_one_file=True,
                location="model.onnx.data", size_threshold=0)
for name, arr in (("x", x), ("y", x @ w)):
    with open(os.path.join(out, name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(arr.astype(np.float32), name).SerializeToString())
