#!/usr/bin/env python3
"""Makes the Hugging Face Optimum test model (test/Models/optimum-llama/).

A tiny random Llama (hidden 32, 2 layers, 4 heads, 2 kv heads, vocab 128)
is saved with transformers, exported by Optimum
(`optimum-cli export onnx --task text-generation-with-past`, the graph users
download from the Hub), and run with onnxruntime on CPU for three steps
whose inputs and outputs are written as ONNX TensorProtos:

  prefill/   batch 1, 5 tokens, empty past (past_sequence_length 0)
  decode/    batch 1, 1 token, the prefill's present as past (past 5)
  decode-b2/ batch 2, 1 token, past 3 of random keys/values, the second
             row's first past position masked out

The graph's attention mask is `[batch_size, past_sequence_length +
sequence_length]`: kiln evaluates that dim from the base names
(docs/importer.md, "Derived dims").

Needs (not in CI): pip install optimum-onnx onnxruntime "transformers<4.58"
torch. Usage: make-optimum-test-model.py OUT_DIR
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper


def save_step(out_dir, step, feeds, outputs, output_names):
    d = os.path.join(out_dir, step)
    os.makedirs(d, exist_ok=True)
    for name, value in feeds.items():
        t = numpy_helper.from_array(value, name)
        with open(os.path.join(d, f"input_{name}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    for name, value in zip(output_names, outputs):
        t = numpy_helper.from_array(value, name)
        with open(os.path.join(d, f"output_{name}.pb"), "wb") as f:
            f.write(t.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="output directory (model.onnx + step dirs)")
    args = ap.parse_args()

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    import onnxruntime as ort

    torch.manual_seed(13)
    config = LlamaConfig(hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=128,
                         max_position_embeddings=64, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    with tempfile.TemporaryDirectory() as tmp:
        hf = os.path.join(tmp, "hf")
        model.save_pretrained(hf)
        exported = os.path.join(tmp, "onnx")
        cli = [os.path.join(os.path.dirname(sys.executable), "optimum-cli"),
               "export", "onnx", "--model", hf, "--task",
               "text-generation-with-past", exported]
        subprocess.run(cli, check=True)
        os.makedirs(args.out, exist_ok=True)
        # One file: the weights are small enough to stay inline.
        m = onnx.load(os.path.join(exported, "model.onnx"))
        onnx.save(m, os.path.join(args.out, "model.onnx"))

    path = os.path.join(args.out, "model.onnx")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    out_names = [o.name for o in sess.get_outputs()]
    layers, kv, hd = config.num_hidden_layers, config.num_key_value_heads, 8
    rng = np.random.default_rng(13)

    def feeds_for(ids, mask, past):
        b, s = ids.shape
        p = past[0].shape[2]
        f = {"input_ids": ids, "attention_mask": mask}
        if "position_ids" in names:
            pos = np.cumsum(mask, axis=1) - 1
            pos[mask == 0] = 1
            f["position_ids"] = pos[:, p:p + s].astype(np.int64)
        for l in range(layers):
            f[f"past_key_values.{l}.key"] = past[2 * l]
            f[f"past_key_values.{l}.value"] = past[2 * l + 1]
        return {k: v for k, v in f.items() if k in names}

    empty = [np.zeros((1, kv, 0, hd), np.float32)] * (2 * layers)
    ids = rng.integers(0, 128, (1, 5)).astype(np.int64)
    feeds = feeds_for(ids, np.ones((1, 5), np.int64), empty)
    outs = sess.run(None, feeds)
    save_step(args.out, "prefill", feeds, outs, out_names)

    present = outs[1:]
    feeds = feeds_for(rng.integers(0, 128, (1, 1)).astype(np.int64),
                      np.ones((1, 6), np.int64), present)
    outs = sess.run(None, feeds)
    save_step(args.out, "decode", feeds, outs, out_names)

    past = [rng.standard_normal((2, kv, 3, hd)).astype(np.float32)
            for _ in range(2 * layers)]
    mask = np.ones((2, 4), np.int64)
    mask[1, 0] = 0
    feeds = feeds_for(rng.integers(0, 128, (2, 1)).astype(np.int64), mask,
                      past)
    outs = sess.run(None, feeds)
    save_step(args.out, "decode-b2", feeds, outs, out_names)
    print("inputs:", [(i.name, i.shape) for i in sess.get_inputs()])
    print("outputs:", [(o.name, o.shape) for o in sess.get_outputs()])
    print("model bytes:", os.path.getsize(path))


if __name__ == "__main__":
    main()
