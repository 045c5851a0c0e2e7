#!/usr/bin/env python3
"""Checks that every kiln.weight in an imported module points at the exact
bytes of the ONNX initializer it names. Usage: check_weights.py MODEL IR
"""
import re
import sys

import onnx
from onnx import numpy_helper

WEIGHT = re.compile(r'kiln\.weight "([^"]+)" \{length = (\d+) : i64, '
                    r'offset = (\d+) : i64, path = "([^"]+)"\}')


def main():
    model = onnx.load(sys.argv[1])
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    count = 0
    with open(sys.argv[2]) as f:
        for name, length, offset, path in WEIGHT.findall(f.read()):
            with open(path, "rb") as w:
                w.seek(int(offset))
                data = w.read(int(length))
            expected = inits[name].tobytes()
            if data != expected:
                sys.exit(f"weight {name}: bytes at {path}+{offset} differ")
            count += 1
    print(f"OK {count} weights")


if __name__ == "__main__":
    main()
