#!/usr/bin/env python3
"""Turns an ONNX textual model (onnx.parser syntax) into a binary .onnx file.

Lines starting with `//` (lit RUN / CHECK lines) are stripped first.
Usage: onnxtext2model.py input.onnxtext output.onnx
"""
import sys

import onnx
import onnx.parser


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = "".join(
            line for line in f if not line.lstrip().startswith("//"))
    model = onnx.parser.parse_model(text)
    onnx.save(model, dst)


if __name__ == "__main__":
    main()
