#!/usr/bin/env python3
"""Checks that kiln passes do not change a fixture's numbers.

    differential_passes.py [--bind N=V] [--kiln-bin DIR] MODEL_DIR WORK_DIR

Symbolic dims not given with --bind are bound from the shapes of
test_data_set_0's inputs (utils/run_fixture.py's rule).

Imports MODEL_DIR/model.onnx, runs it on the reference backend with the
fixture's test_data_set_0 inputs, then runs pipeline prefixes through
kiln-opt on the reference backend:

- kiln-simplify; kiln-simplify + kiln-form-fusions (the fused level);
  kiln-simplify + kiln-plan-memory: bit-identical to the imported graph
  (kiln-run --expect ... --rtol 0 --atol 0);
- kiln-graph-pipeline (kiln-simplify + kiln-recognize, which replaces
  idioms by high-level ops): within 1e-5 absolute / 1e-4 relative;
- the whole kiln-compile-pipeline (the scheduled level): bit-identical to
  kiln-graph-pipeline's outputs.

Prints one line per stage; exits non-zero on the first difference.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_fixture  # noqa: E402  (derive_binds)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.stdout.write(r.stdout)
        sys.stderr.write(r.stderr)
        sys.exit(f"failed: {' '.join(cmd)}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("work_dir")
    ap.add_argument("--bind", action="append", default=[])
    ap.add_argument("--kiln-bin", default="")
    a = ap.parse_args()
    tool = lambda name: os.path.join(a.kiln_bin, name) if a.kiln_bin else name
    os.makedirs(a.work_dir, exist_ok=True)
    inputs = sorted(glob.glob(os.path.join(a.model_dir, "test_data_set_0", "input_*.pb")),
                    key=lambda p: int(re.search(r"_(\d+)\.pb$", p).group(1)))
    # Symbolic dims not bound by hand are bound from the data set's input
    # shapes, as run_fixture.py does.
    model = os.path.join(a.model_dir, "model.onnx")
    given = {b.split("=", 1)[0] for b in a.bind}
    derived = run_fixture.derive_binds(run_fixture.load_graph(model), inputs)
    bind_words = a.bind + [f"{k}={v}" for k, v in derived.items() if k not in given]
    binds = sum((["--bind", b] for b in bind_words), [])
    graph = os.path.join(a.work_dir, "graph.mlir")
    run([tool("kiln-import"), model, "-o", graph] + binds)
    in_args = sum((["--input", p] for p in inputs), [])
    base = os.path.join(a.work_dir, "graph-out")
    run([tool("kiln-run"), graph, "--backend=ref", "--output-dir", base] + in_args)
    expect = sum((["--expect", p] for p in sorted(
        glob.glob(os.path.join(base, "output_*.pb")),
        key=lambda p: int(re.search(r"_(\d+)\.pb$", p).group(1)))), [])
    count = lambda path: len(re.findall(r"= kiln\.", open(path).read()))

    def outputs_of(path, name):
        """Runs `path` on the reference backend and returns --expect args
        for its outputs (a baseline for later stages)."""
        out_dir = os.path.join(a.work_dir, name + "-out")
        run([tool("kiln-run"), path, "--backend=ref", "--output-dir", out_dir] + in_args)
        return sum((["--expect", p] for p in sorted(
            glob.glob(os.path.join(out_dir, "output_*.pb")),
            key=lambda p: int(re.search(r"_(\d+)\.pb$", p).group(1)))), [])

    # Each stage: its passes, and what it must match. Rewrites that keep the
    # arithmetic (folding, fusion, planning, scheduling) must match bit for
    # bit; kiln-recognize replaces decomposed idioms by one op (a norm, an
    # attention) whose arithmetic differs in rounding, so it must match the
    # imported graph within 1e-5 absolute / 1e-4 relative, and everything
    # after it must match the recognized graph bit for bit.
    exact = ["--rtol", "0", "--atol", "0"]
    close = ["--rtol", "1e-4", "--atol", "1e-5"]
    recognized = None
    stages = [
        ("kiln-simplify", "builtin.module(kiln-simplify)"),
        ("kiln-simplify,kiln-form-fusions",
         "builtin.module(kiln-simplify,func.func(kiln-form-fusions))"),
        ("kiln-simplify,kiln-plan-memory",
         "builtin.module(kiln-simplify,func.func(kiln-plan-memory))"),
        ("kiln-graph-pipeline", "builtin.module(kiln-graph-pipeline)"),
        ("kiln-compile-pipeline", "builtin.module(kiln-compile-pipeline)"),
        # kiln-merge-gemms (off by default): the same, with sibling gemms
        # merged on weights stored back to back.
        ("kiln-compile-pipeline{merge-gemms}",
         "builtin.module(kiln-compile-pipeline{merge-gemms=1})"),
    ]
    for name, pipeline in stages:
        out = os.path.join(a.work_dir, name.replace(",", "+") + ".mlir")
        run([tool("kiln-opt"), graph, "--pass-pipeline=" + pipeline, "-o", out])
        if name == "kiln-graph-pipeline":
            report = run([tool("kiln-run"), out, "--backend=ref"] + close + in_args + expect)
        elif name.startswith("kiln-compile-pipeline"):
            report = run([tool("kiln-run"), out, "--backend=ref"] + exact + in_args + recognized)
        else:
            report = run([tool("kiln-run"), out, "--backend=ref"] + exact + in_args + expect)
        if "FAIL" in report:
            sys.stdout.write(report)
            sys.exit(f"{name}: outputs differ")
        text = open(out).read()
        if name == "kiln-simplify,kiln-form-fusions":
            fusions = len(re.findall(r"= kiln\.fusion ", text))
            gemms = len(re.findall(r"= kiln\.gemm ", text))
            if not fusions + gemms:
                sys.exit(f"{name}: no kiln.fusion or kiln.gemm formed")
            print(f"{name}: {fusions} fusions, {gemms} gemms, outputs bit-identical")
        elif name == "kiln-simplify,kiln-plan-memory":
            arena = re.search(r"kiln.arena_bytes = (\d+)", text).group(1)
            print(f"{name}: arena {arena} bytes, outputs bit-identical")
        elif name == "kiln-graph-pipeline":
            # What was recognized, by op kind.
            kinds = ["rms_norm", "layer_norm", "silu", "gelu", "rotary", "attention"]
            found = ", ".join(
                "%d %s" % (len(re.findall(r"= kiln\." + k + " ", text)), k)
                for k in kinds)
            print(f"{name}: {count(graph)} -> {count(out)} ops ({found}), "
                  "outputs within 1e-5/1e-4")
            recognized = outputs_of(out, "recognized")
        elif name == "kiln-compile-pipeline{merge-gemms}":
            gemms = len(re.findall(r"kiln\.gemm .* outs ", text))
            merged = len(re.findall(r"= kiln\.concat ", text))
            print(f"{name}: {gemms} gemms, {merged} on weights stored back to back, "
                  "outputs bit-identical to kiln-graph-pipeline's")
        elif name == "kiln-compile-pipeline":
            # The scheduled level: the reference backend runs every launch
            # through one byte array per region at the planned offsets.
            launches = len(re.findall(r"kiln\.launch @", text))
            gemms = len(re.findall(r"kiln\.gemm .* outs ", text))
            arena = re.search(r"kiln\.arena : memref<(\d+)xi8>", text).group(1)
            if "kiln.graph {" not in text or not launches:
                sys.exit(f"{name}: no kiln.graph with launches")
            print(f"{name}: {launches} launches, {gemms} gemms, arena {arena} bytes, "
                  "outputs bit-identical to kiln-graph-pipeline's")
        else:
            print(f"{name}: {count(graph)} -> {count(out)} ops, outputs bit-identical")

if __name__ == "__main__":
    sys.exit(main())
