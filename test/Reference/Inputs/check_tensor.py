#!/usr/bin/env python3
"""check_tensor.py FILE.pb SHAPE double|neg: asserts FILE == 2*arange(n) (or
-arange(n)) of SHAPE, the result of x + x (or -x) on write_tensor.py's input."""
import sys
import numpy as np
import onnx
from onnx import numpy_helper

path, shape, what = sys.argv[1:4]
dims = [int(d) for d in shape.split("x")]
got = numpy_helper.to_array(onnx.load_tensor(path))
base = np.arange(int(np.prod(dims))).reshape(dims).astype(np.float32)
if what not in ("double", "neg"):
    sys.exit(f"unknown expectation '{what}'")
want = 2 * base if what == "double" else -base
if got.shape != want.shape or not np.array_equal(got, want):
    sys.exit(f"{path}: got {got!r}, want {want!r}")
