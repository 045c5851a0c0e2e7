#!/usr/bin/env python3
"""Writes the ONNX backend node tests as model.onnx + test_data_set_N/*.pb.

The onnx wheel ships the node test *cases* (onnx/backend/test/case/node) but
not always their serialized data, so kiln materialises them itself in the
standard layout that `kiln-node-tests` walks:

    OUT/test_<name>/model.onnx
    OUT/test_<name>/OPTYPE        (the op type, for single-node tests)
    OUT/test_<name>/test_data_set_<i>/input_<j>.pb, output_<j>.pb

Cases whose inputs or outputs are not plain tensors (sequences, maps,
optionals) are written with a SKIP marker file so the runner counts them as
unsupported rather than silently dropping them.
"""
import argparse
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper
import onnx.backend.test.case.node as node_cases


def write_tensor(path, value, name):
    if isinstance(value, TensorProto):
        t = value
    else:
        t = numpy_helper.from_array(np.asarray(value), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--filter", default="", help="only cases containing this")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    cases = node_cases.collect_testcases(None)
    if os.path.exists(args.output):
        shutil.rmtree(args.output)
    os.makedirs(args.output)
    written = skipped = 0
    for case in cases:
        if args.filter and args.filter not in case.name:
            continue
        out = os.path.join(args.output, case.name)
        os.makedirs(out)
        with open(os.path.join(out, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        graph = case.model.graph
        if len(graph.node) == 1:
            with open(os.path.join(out, "OPTYPE"), "w") as f:
                f.write(graph.node[0].op_type + "\n")
        tensor_only = all(
            v.type.HasField("tensor_type") for v in list(graph.input) + list(graph.output)
        )
        if not tensor_only:
            with open(os.path.join(out, "SKIP"), "w") as f:
                f.write("non-tensor inputs or outputs (sequence/map/optional)\n")
            skipped += 1
            continue
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(out, f"test_data_set_{i}")
            os.makedirs(ds)
            for j, v in enumerate(inputs):
                write_tensor(os.path.join(ds, f"input_{j}.pb"), v, graph.input[j].name)
            for j, v in enumerate(outputs):
                write_tensor(os.path.join(ds, f"output_{j}.pb"), v, graph.output[j].name)
        written += 1
    print(f"wrote {written} node tests ({skipped} with non-tensor values) to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
