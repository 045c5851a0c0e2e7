#!/usr/bin/env python3
"""Writes models whose external data points where a model downloaded from a
hub must not be allowed to read, plus layouts that must keep working.

    make_untrusted_models.py OUTDIR

Each OUTDIR/<case>.onnx holds one initializer `w` (64x32 float32, a weight)
and one `b` (32 float32, small enough to become a constant), both stored as
external data at the location that names the case:

  escape        ../../../../../../etc/passwd        refused: leaves the folder
  edge          sub/../../w.bin                     refused: climbs out after going in
  absolute      /etc/passwd                         refused: absolute
  dir           adir (a directory)                  refused: not a regular file
  fifo          afifo (a FIFO; opening it would block) refused, without hanging
  device        zero (a symlink to /dev/zero)       refused: a character device
  badoffset     offset "12abc"                      refused: not an integer
  negoffset     offset "-4"                         refused: negative
  inside        sub/../w.bin                        accepted: stays inside
OUTDIR/x.pb is an input for them. OUTDIR/hf/models--kiln--tiny/snapshots/0123abc/ is a Hugging Face cache
snapshot: model.onnx and w.bin there are symbolic links into ../../blobs/,
which must be accepted.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def external(arr, name, location, offset="0"):
    t = numpy_helper.from_array(arr, name)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset),
                       ("length", str(arr.nbytes))):
        entry = t.external_data.add()
        entry.key = key
        entry.value = value
    return t


def model(location, offset="0"):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    b = np.arange(32, dtype=np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("Add", ["h", "b"], ["y"])]
    graph = helper.make_graph(
        nodes, "untrusted",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 32])],
        [external(w, "w", location, offset),
         external(b, "b", location, str(int(offset) + w.nbytes)
                  if offset.lstrip("-").isdigit() else offset)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    return m, w.tobytes() + b.tobytes()


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "sub"), exist_ok=True)
    os.makedirs(os.path.join(out, "adir"), exist_ok=True)
    if not os.path.exists(os.path.join(out, "afifo")):
        os.mkfifo(os.path.join(out, "afifo"))
    if not os.path.lexists(os.path.join(out, "zero")):
        os.symlink("/dev/zero", os.path.join(out, "zero"))
    cases = {
        "escape": ("../../../../../../etc/passwd", "0"),
        "edge": ("sub/../../w.bin", "0"),
        "absolute": ("/etc/passwd", "0"),
        "dir": ("adir", "0"),
        "fifo": ("afifo", "0"),
        "device": ("zero", "0"),
        "badoffset": ("w.bin", "12abc"),
        "negoffset": ("w.bin", "-4"),
        "inside": ("sub/../w.bin", "0"),
    }
    data = None
    for case, (location, offset) in cases.items():
        m, data = model(location, offset)
        onnx.save(m, os.path.join(out, case + ".onnx"))
    with open(os.path.join(out, "w.bin"), "wb") as f:
        f.write(data)

    x = np.random.default_rng(1).standard_normal((4, 64)).astype(np.float32)
    onnx.save_tensor(numpy_helper.from_array(x, "x"), os.path.join(out, "x.pb"))

    # A Hugging Face cache snapshot: every file a link into ../../blobs/.
    repo = os.path.join(out, "hf", "models--kiln--tiny")
    snap = os.path.join(repo, "snapshots", "0123abc")
    blobs = os.path.join(repo, "blobs")
    os.makedirs(snap, exist_ok=True)
    os.makedirs(blobs, exist_ok=True)
    m, data = model("w.bin")
    for name, blob, payload in (("model.onnx", "9f1e", m.SerializeToString()),
                                ("w.bin", "7c2d", data)):
        with open(os.path.join(blobs, blob), "wb") as f:
            f.write(payload)
        link = os.path.join(snap, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join("..", "..", "blobs", blob), link)


if __name__ == "__main__":
    main()
