"""Helpers of the bf16 reference tests' scripts (rms_rounded.py,
norm_widened.py): numpy's rounding to bf16, and reading a kiln-run output."""
import numpy as np
import onnx
from onnx import numpy_helper


def bf16(a):
    """Round float64/float32 values to bf16 (nearest even), as float64."""
    f = np.asarray(a, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def load(path):
    """A TensorProto file (kiln-run --output-dir) as float64."""
    return numpy_helper.to_array(onnx.load_tensor(path)).astype(np.float64)
