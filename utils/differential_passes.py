#!/usr/bin/env python3
"""Checks that kiln passes do not change a fixture's numbers.

    differential_passes.py [--bind N=V] [--kiln-bin DIR] MODEL_DIR WORK_DIR

Symbolic dims not given with --bind are bound from the shapes of
test_data_set_0's inputs (utils/run_fixture.py's rule).

Imports MODEL_DIR/model.onnx, runs it on the reference backend with the
fixture's test_data_set_0 inputs, then runs each pipeline prefix
(kiln-simplify; kiln-simplify + kiln-form-fusions, the fused level;
kiln-simplify + kiln-plan-memory; the whole kiln-compile-pipeline, the
scheduled level) through kiln-opt and
requires its outputs to equal the imported graph's bit for bit
(kiln-run --expect ... --rtol 0 --atol 0). Prints one line per pipeline;
exits non-zero on the first difference.
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
    for passes in (["kiln-simplify"], ["kiln-simplify", "kiln-form-fusions"],
                   ["kiln-simplify", "kiln-plan-memory"], ["kiln-compile-pipeline"]):
        name = ",".join(passes)
        out = os.path.join(a.work_dir, name.replace(",", "+") + ".mlir")
        run([tool("kiln-opt"), graph, "--pass-pipeline=builtin.module(" +
             ",".join(p if p in ("kiln-simplify", "kiln-compile-pipeline")
                      else "func.func(" + p + ")" for p in passes) + ")",
             "-o", out])
        report = run([tool("kiln-run"), out, "--backend=ref", "--rtol", "0", "--atol", "0"] +
                     in_args + expect)
        if "FAIL" in report:
            sys.stdout.write(report)
            sys.exit(f"{name}: outputs differ from the imported graph's")
        if "kiln-form-fusions" in passes:
            text = open(out).read()
            fusions = len(re.findall(r"= kiln\.fusion ", text))
            gemms = len(re.findall(r"= kiln\.gemm ", text))
            if not fusions + gemms:
                sys.exit(f"{name}: no kiln.fusion or kiln.gemm formed")
            print(f"{name}: {fusions} fusions, {gemms} gemms, outputs bit-identical")
        elif "kiln-compile-pipeline" in passes:
            # The scheduled level: the reference backend runs every launch
            # through one byte array per region at the planned offsets.
            text = open(out).read()
            launches = len(re.findall(r"kiln\.launch @", text))
            gemms = len(re.findall(r"kiln\.gemm .* outs ", text))
            arena = re.search(r"kiln\.arena : memref<(\d+)xi8>", text).group(1)
            if "kiln.graph {" not in text or not launches:
                sys.exit(f"{name}: no kiln.graph with launches")
            print(f"{name}: {launches} launches, {gemms} gemms, arena {arena} bytes, "
                  "outputs bit-identical")
        elif "kiln-plan-memory" in passes:
            arena = re.search(r"kiln.arena_bytes = (\d+)", open(out).read()).group(1)
            print(f"{name}: arena {arena} bytes, outputs bit-identical")
        else:
            print(f"{name}: {count(graph)} -> {count(out)} ops, outputs bit-identical")


if __name__ == "__main__":
    sys.exit(main())
