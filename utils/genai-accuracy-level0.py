#!/usr/bin/env python3
"""Moves an int4 test model of test/Models to MatMulNBits accuracy_level 0.

    genai-accuracy-level0.py MODEL_DIR

Issue 13 asks for int4 outputs compared against accuracy_level 0, the op's
default (unset) meaning; ONNX Runtime GenAI's builder wrote these models at
accuracy_level=1 (utils/make-genai-test-models.py). Both are fp32 compute on
the CPU EP. This sets accuracy_level = 0 on every MatMulNBits of
MODEL_DIR/model.onnx, runs every MODEL_DIR/test_data_set_N with onnxruntime
(CPU EP, ORT_DISABLE_ALL, as the builder script does) and rewrites its
output_K.pb, printing how far each data set's outputs moved. Run it after
make-genai-test-models.py, and make-genai-generation-oracle.py after it.
Needs onnx, onnxruntime and numpy (PyPI); CI reads the committed output.
"""
import glob
import os
import sys

import numpy as np


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    d = sys.argv[1]
    path = os.path.join(d, "model.onnx")
    model = onnx.load(path)
    changed = 0
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = [a for a in node.attribute if a.name != "accuracy_level"]
        del node.attribute[:]
        node.attribute.extend(attrs + [helper.make_attribute("accuracy_level", 0)])
        changed += 1
    if not changed:
        sys.exit(f"{path}: no MatMulNBits node")
    onnx.save(model, path)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    outs = [o.name for o in sess.get_outputs()]

    def read(p):
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t)

    for ds in sorted(glob.glob(os.path.join(d, "test_data_set_*"))):
        feed = {n: read(os.path.join(ds, f"input_{k}.pb")) for k, n in enumerate(names)}
        moved = 0.0
        for k, value in enumerate(sess.run(None, feed)):
            p = os.path.join(ds, f"output_{k}.pb")
            old = read(p)
            if value.size:
                moved = max(moved, float(np.max(np.abs(value - old))))
            with open(p, "wb") as f:
                f.write(numpy_helper.from_array(value, outs[k]).SerializeToString())
        print(f"{ds}: outputs at accuracy_level 0, max change {moved:.3g}")
    print(f"{path}: {changed} MatMulNBits at accuracy_level 0")


if __name__ == "__main__":
    main()
