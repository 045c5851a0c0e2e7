#!/usr/bin/env python3
"""Runs kiln-compile on a fixture's model.onnx, bound to one test data set.

    compile_fixture.py MODEL_DIR [--data-set N] [--kiln-compile PATH] [kiln-compile args...]

Every symbolic graph-input dim of MODEL_DIR/model.onnx is bound (`--bind
NAME=VALUE`) from the shapes of MODEL_DIR/test_data_set_N's input files, as
`run_fixture.py --print-binds` does; the other arguments (-o, --arch, ...) go
to kiln-compile as they are. For lit RUN lines, whose shell has no command
substitution to splice in `run_fixture.py --print-binds`.
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_fixture  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument("model_dir")
    ap.add_argument("--data-set", type=int, default=0, metavar="N")
    ap.add_argument("--kiln-compile", default="kiln-compile")
    args, rest = ap.parse_known_args()
    data = os.path.join(args.model_dir, f"test_data_set_{args.data_set}")
    if not os.path.isdir(data):
        print(f"compile_fixture.py: error: {data} does not exist", file=sys.stderr)
        return 2
    model = os.path.join(args.model_dir, "model.onnx")
    inputs = run_fixture.numbered(os.path.join(data, "input_*.pb"))
    try:
        binds = run_fixture.derive_binds(run_fixture.load_graph(model), inputs)
    except run_fixture.FixtureError as e:
        print(f"compile_fixture.py: error: {data}: {e}", file=sys.stderr)
        return 2
    cmd = [args.kiln_compile, model]
    for name, value in binds.items():
        cmd += ["--bind", f"{name}={value}"]
    cmd += rest
    sys.stdout.flush()
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
