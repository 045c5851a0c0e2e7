#!/usr/bin/env python3
"""Runs kiln-run on a model folder in the ONNX backend-test layout.

    run_fixture.py MODEL_DIR [--data-set N] [--oracle shipped|onnx-reference]
                   [--model X.kiln] [kiln-run args...]
    run_fixture.py MODEL_DIR [--data-set N] --print-binds
    run_fixture.py MODEL_DIR [--data-set N] --write-oracle DIR

MODEL_DIR holds model.onnx (or pass --model X.kiln to run an artifact) and
test_data_set_N/{input,output}_K.pb (N is --data-set, default 0). Inputs are
passed with --input in order; expected outputs are either the shipped
output_K.pb files (`shipped`, default) or the outputs of ONNX's own reference
evaluator (`onnx-reference`, onnx.reference.ReferenceEvaluator) on the same
inputs, computed here, as an oracle independent of kiln. For that oracle,
Dropout nodes run in inference mode (training_mode forced to false), matching
what kiln compiles.

Symbolic dims are bound from the data set: for every graph input dim with a
dim_param, the value is that dim of the matching input_K.pb tensor (matched
the way kiln-run matches inputs: by tensor name when every file is named and
every name is a graph input, else in graph-input order). One name taking two
values is an error. When the model run is an .onnx file, each binding is
passed to kiln-run as `--bind NAME=VALUE`; a compiled artifact has its binds
baked in, so none are passed. `--print-binds` prints those words on one line
(an empty line when the model has no symbolic input dims) for kiln-compile.
An explicit `--bind NAME=V` among the kiln-run args is passed through; one that
contradicts the data set is an error.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile


class FixtureError(Exception):
    pass


def numbered(pattern):
    return sorted(glob.glob(pattern),
                  key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))


def load_graph(model_path):
    import onnx
    # Only the graph is needed here: leave external weight data on disk.
    return onnx.load(model_path, load_external_data=False).graph


def graph_inputs(graph):
    """The graph inputs that are run-time inputs (not initializers)."""
    inits = {t.name for t in graph.initializer}
    return [vi for vi in graph.input if vi.name not in inits]


def match_inputs(graph, input_paths):
    """[(graph input ValueInfo, TensorProto, path)], matched as kiln-run does."""
    import onnx
    vis = graph_inputs(graph)
    tensors = [onnx.load_tensor(p) for p in input_paths]
    if len(tensors) != len(vis):
        raise FixtureError(
            f"the data set has {len(tensors)} input files but the model has "
            f"{len(vis)} graph inputs ({', '.join(v.name for v in vis)})")
    by_name = {vi.name: vi for vi in vis}
    names = [t.name for t in tensors]
    if all(names) and all(n in by_name for n in names) and len(set(names)) == len(names):
        return [(by_name[t.name], t, p) for t, p in zip(tensors, input_paths)]
    return list(zip(vis, tensors, input_paths))


def derive_binds(graph, input_paths):
    """{dim_param: value} from the input tensors' shapes, in first-seen order."""
    binds = {}
    seen_at = {}
    for vi, tensor, path in match_inputs(graph, input_paths):
        if not vi.type.tensor_type.HasField("shape"):
            continue  # rank unknown: nothing to bind
        dims = vi.type.tensor_type.shape.dim
        shape = list(tensor.dims)
        if len(dims) != len(shape):
            raise FixtureError(
                f"graph input '{vi.name}' has rank {len(dims)} but "
                f"{os.path.basename(path)} has shape {shape}")
        for i, (d, n) in enumerate(zip(dims, shape)):
            if not d.HasField("dim_param") or not d.dim_param:
                continue
            where = f"dim {i} of '{vi.name}' ({os.path.basename(path)})"
            if d.dim_param in binds and binds[d.dim_param] != n:
                raise FixtureError(
                    f"contradictory values for symbolic dim '{d.dim_param}': "
                    f"{binds[d.dim_param]} at {seen_at[d.dim_param]}, {n} at {where}")
            if d.dim_param not in binds:
                binds[d.dim_param] = n
                seen_at[d.dim_param] = where
    return binds


def onnx_reference_outputs(model_path, input_paths, out_dir):
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
    feeds = {vi.name: numpy_helper.to_array(t)
             for vi, t, _ in match_inputs(graph, input_paths)}
    outs = ReferenceEvaluator(model).run(None, feeds)
    files = []
    for i, (vi, value) in enumerate(zip(graph.output, outs)):
        path = os.path.join(out_dir, f"output_{i}.pb")
        with open(path, "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(value), vi.name).SerializeToString())
        files.append(path)
    return files


def explicit_binds(rest):
    """--bind NAME=V / --bind=NAME=V words among the kiln-run args."""
    out = []
    i = 0
    while i < len(rest):
        w = rest[i]
        if w == "--bind" and i + 1 < len(rest):
            out.append(rest[i + 1])
            i += 2
            continue
        if w.startswith("--bind="):
            out.append(w[len("--bind="):])
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument("model_dir")
    ap.add_argument("--data-set", type=int, default=0, metavar="N",
                    help="use MODEL_DIR/test_data_set_N (default 0)")
    ap.add_argument("--oracle", choices=["shipped", "onnx-reference"], default="shipped")
    ap.add_argument("--model", help="model to run instead of MODEL_DIR/model.onnx")
    ap.add_argument("--kiln-run", default="kiln-run")
    ap.add_argument("--write-oracle", metavar="DIR",
                    help="write the onnx-reference outputs to DIR and exit")
    ap.add_argument("--print-binds", action="store_true",
                    help="print the --bind words for the data set on one line and exit")
    args, rest = ap.parse_known_args()
    data = os.path.join(args.model_dir, f"test_data_set_{args.data_set}")
    if not os.path.isdir(data):
        print(f"run_fixture.py: error: {data} does not exist", file=sys.stderr)
        return 2
    inputs = numbered(os.path.join(data, "input_*.pb"))
    onnx_model = os.path.join(args.model_dir, "model.onnx")
    try:
        binds = derive_binds(load_graph(onnx_model), inputs)
    except FixtureError as e:
        print(f"run_fixture.py: error: {data}: {e}", file=sys.stderr)
        return 2
    bind_words = []
    for name, value in binds.items():
        bind_words += ["--bind", f"{name}={value}"]
    if args.print_binds:
        print(" ".join(bind_words))
        return 0
    if args.write_oracle:
        os.makedirs(args.write_oracle, exist_ok=True)
        onnx_reference_outputs(onnx_model, inputs, args.write_oracle)
        return 0

    model = args.model or onnx_model
    if model.endswith(".onnx"):
        if args.model:  # another .onnx than the fixture's: bind from its graph
            try:
                binds = derive_binds(load_graph(model), inputs)
            except FixtureError as e:
                print(f"run_fixture.py: error: {model}: {e}", file=sys.stderr)
                return 2
        given = {}
        for word in explicit_binds(rest):
            name, _, value = word.partition("=")
            given[name] = value
        bind_words = []
        for name, value in binds.items():
            if name in given:
                if given[name] != str(value):
                    print(f"run_fixture.py: error: --bind {name}={given[name]} contradicts "
                          f"{data}, where '{name}' is {value}", file=sys.stderr)
                    return 2
                continue  # already among the kiln-run args
            bind_words += ["--bind", f"{name}={value}"]
    else:
        bind_words = []  # an artifact (or .mlir): its shapes are fixed already

    with tempfile.TemporaryDirectory() as tmp:
        if args.oracle == "shipped":
            expects = numbered(os.path.join(data, "output_*.pb"))
        else:
            expects = onnx_reference_outputs(onnx_model, inputs, tmp)
        cmd = [args.kiln_run, model] + bind_words + rest
        for p in inputs:
            cmd += ["--input", p]
        for p in expects:
            cmd += ["--expect", p]
        sys.stdout.flush()
        return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
