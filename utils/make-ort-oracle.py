#!/usr/bin/env python3
"""Writes generation oracles for a decoder ONNX model with ONNX Runtime (CPU,
fp32), in the layout of ../shared/models/hf-tiny-generate/<arch>/, so that
utils/check_precision.py can check a kiln artifact of the same model.

    make-ort-oracle.py MODEL.onnx OUTDIR [--prompt 4] [--new 12] [--seed 0]

MODEL.onnx is a decode graph in Hugging Face's dynamic layout (what
`kiln-compile --max-seq-len` rewrites into step functions): input_ids [B, S],
optional attention_mask [B, total] and position_ids [B, S],
past_key_values.<i>.{key,value} [B, heads, past, D], and outputs logits
[B, S, vocab] then present.<i>.{key,value} in the order of the pasts (as
utils/make-llama-1b-onnx.py --dynamic writes it). ONNX Runtime runs it one
token at a time with its own KV cache, as kiln's decode steps do:

- prompt_ids.pb int64 [1, P]: P ids drawn from numpy's default_rng(seed);
- greedy_ids.pb int64 [1, N] and greedy_logits.pb float32 [N, vocab]: the
  greedy continuation (argmax, the lowest id among equal maxima) and the
  logits that chose each token;
- forced_ids.pb int64 [1, P + N - 1] and forced_logits.pb float32
  [P + N - 1, vocab]: the same run seen as teacher forcing, row i the
  logits once tokens 0..i are in.

Prints the smallest top-2 gap of the greedy steps (check_precision.py skips
steps whose gap is within its bound). Needs numpy, onnx and onnxruntime.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("outdir")
    p.add_argument("--prompt", type=int, default=4, help="prompt tokens")
    p.add_argument("--new", type=int, default=12, help="greedy tokens")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.prompt < 1 or a.new < 1:
        sys.exit("make-ort-oracle: --prompt and --new must be at least 1")

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(a.model, options,
                                   providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = [o.name for o in session.get_outputs()]
    if "input_ids" not in inputs:
        sys.exit(f"make-ort-oracle: {a.model} has no input_ids input "
                 f"(inputs: {', '.join(inputs)})")
    pasts = [n for n in inputs if n.startswith("past_key_values.")]
    presents = [n for n in outputs if n.startswith("present")]
    if len(pasts) != len(presents) or not pasts or outputs[0] != "logits":
        sys.exit(f"make-ort-oracle: expected outputs logits then one present "
                 f"per past ({len(pasts)} pasts, outputs: {', '.join(outputs)})")

    def empty_past(info):
        # [batch, heads, past, D]: batch 1, no past, the other dims as given.
        shape = info.shape
        if len(shape) != 4 or not all(isinstance(d, int) for d in (shape[1], shape[3])):
            sys.exit(f"make-ort-oracle: past input {info.name} has shape "
                     f"{shape}; expected [batch, heads, past, head_dim] with "
                     f"fixed heads and head_dim")
        return np.zeros((1, shape[1], 0, shape[3]), dtype=np.float32)

    cache = {n: empty_past(inputs[n]) for n in pasts}
    vocab_rng = np.random.default_rng(a.seed)

    def step(token, position):
        feed = {"input_ids": np.array([[token]], dtype=np.int64)}
        if "attention_mask" in inputs:
            feed["attention_mask"] = np.ones((1, position + 1), dtype=np.int64)
        if "position_ids" in inputs:
            feed["position_ids"] = np.array([[position]], dtype=np.int64)
        feed.update(cache)
        results = session.run(None, feed)
        for name, value in zip(pasts, results[1:1 + len(pasts)]):
            cache[name] = value
        return np.asarray(results[0], dtype=np.float32).reshape(-1)

    # The vocabulary from one step on token 0 (its cache is then dropped).
    vocab = step(0, 0).size
    cache = {n: empty_past(inputs[n]) for n in pasts}
    prompt = [int(t) for t in vocab_rng.integers(0, vocab, a.prompt)]
    ids = list(prompt)
    logits = []
    for position in range(a.prompt + a.new - 1):
        row = step(ids[position], position)
        logits.append(row)
        if position >= a.prompt - 1:
            ids.append(int(np.argmax(row)))  # the lowest id among maxima
    # logits[i]: after tokens 0..i. Greedy token j was chosen by row P-1+j.
    n_prompt = len(prompt)
    greedy = ids[n_prompt:]
    greedy_logits = np.stack(logits[n_prompt - 1:n_prompt - 1 + len(greedy)])
    forced = ids[:-1]
    forced_logits = np.stack(logits[:len(forced)])
    os.makedirs(a.outdir, exist_ok=True)

    def save(name, array):
        onnx.save_tensor(numpy_helper.from_array(array, name),
                         os.path.join(a.outdir, name + ".pb"))

    save("prompt_ids", np.array([prompt], dtype=np.int64))
    save("greedy_ids", np.array([greedy], dtype=np.int64))
    save("greedy_logits", greedy_logits.astype(np.float32))
    save("forced_ids", np.array([forced], dtype=np.int64))
    save("forced_logits", forced_logits.astype(np.float32))
    gaps = [float(np.diff(np.sort(r)[-2:])[0]) for r in greedy_logits]
    print(f"make-ort-oracle: {a.outdir}: prompt {n_prompt}, greedy {len(greedy)}, "
          f"forced {len(forced)} tokens, vocab {greedy_logits.shape[1]}, "
          f"largest |logit| {float(np.abs(forced_logits).max()):.4g}, "
          f"smallest greedy top-2 gap {min(gaps):.4g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
