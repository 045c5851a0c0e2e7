#!/usr/bin/env python3
"""Writes a stand-in peer's logits for check_precision.py --peer-logits:
the first ROWS rows (default all) of a float32 [L, vocab] logits file, each
value plus SHIFT.

    shift_logits.py UTILS_DIR IN.pb OUT.pb SHIFT [ROWS]
"""
import sys

sys.path.insert(0, sys.argv[1])
from check_generation import read_tensor, write_tensor  # noqa: E402

_, dims, flat = read_tensor(sys.argv[2])
shift = float(sys.argv[4])
rows = int(sys.argv[5]) if len(sys.argv) > 5 else dims[0]
vocab = dims[-1]
write_tensor(sys.argv[3], "logits", 1, [rows, vocab],
             [x + shift for x in flat[:rows * vocab]])
