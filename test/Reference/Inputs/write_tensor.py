#!/usr/bin/env python3
"""write_tensor.py OUT.pb NAME SHAPE DTYPE: writes arange(n) as a TensorProto."""
import sys
import numpy as np
from onnx import numpy_helper

out, name, shape, dtype = sys.argv[1:5]
dims = [int(d) for d in shape.split("x")]
np_type = {"f32": np.float32, "i64": np.int64, "i32": np.int32}[dtype]
arr = np.arange(int(np.prod(dims))).reshape(dims).astype(np_type)
open(out, "wb").write(numpy_helper.from_array(arr, "" if name == "-" else name).SerializeToString())
