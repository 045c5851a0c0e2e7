#!/usr/bin/env python3
"""Runs kiln-run on a model folder in the ONNX backend-test layout.

    run_fixture.py MODEL_DIR [--oracle shipped|onnx-reference] [kiln-run args...]

MODEL_DIR holds model.onnx (or pass --model X.kiln to run an artifact) and
test_data_set_0/{input,output}_N.pb. Inputs are passed with --input in order;
expected outputs are either the shipped output_N.pb files (`shipped`, default)
or the outputs of ONNX's own reference evaluator (`onnx-reference`,
onnx.reference.ReferenceEvaluator) on the same inputs, computed here, as an
oracle independent of kiln. For that oracle, Dropout nodes run in inference
mode (training_mode forced to false), matching what kiln compiles.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile


def onnx_reference_outputs(model_path, inputs, out_dir):
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(model_path)
    graph = model.graph
    # Dropout(data, ratio, training_mode): force inference mode.
    for node in graph.node:
        if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
            name = node.input[2] + "__kiln_inference"
            graph.initializer.append(numpy_helper.from_array(np.array(False), name))
            node.input[2] = name
    feeds = {}
    for vi, path in zip(graph.input, inputs):
        feeds[vi.name] = numpy_helper.to_array(onnx.load_tensor(path))
    outs = ReferenceEvaluator(model).run(None, feeds)
    files = []
    for i, (vi, value) in enumerate(zip(graph.output, outs)):
        path = os.path.join(out_dir, f"output_{i}.pb")
        with open(path, "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(value), vi.name).SerializeToString())
        files.append(path)
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("--oracle", choices=["shipped", "onnx-reference"], default="shipped")
    ap.add_argument("--model", help="model to run instead of MODEL_DIR/model.onnx")
    ap.add_argument("--kiln-run", default="kiln-run")
    ap.add_argument("--write-oracle", metavar="DIR",
                    help="write the onnx-reference outputs to DIR and exit")
    args, rest = ap.parse_known_args()
    data = os.path.join(args.model_dir, "test_data_set_0")
    inputs = sorted(glob.glob(os.path.join(data, "input_*.pb")),
                    key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
    onnx_model = os.path.join(args.model_dir, "model.onnx")
    if args.write_oracle:
        os.makedirs(args.write_oracle, exist_ok=True)
        onnx_reference_outputs(onnx_model, inputs, args.write_oracle)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.oracle == "shipped":
            expects = sorted(glob.glob(os.path.join(data, "output_*.pb")),
                             key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
        else:
            expects = onnx_reference_outputs(onnx_model, inputs, tmp)
        cmd = [args.kiln_run, args.model or onnx_model] + rest
        for p in inputs:
            cmd += ["--input", p]
        for p in expects:
            cmd += ["--expect", p]
        sys.stdout.flush()
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
