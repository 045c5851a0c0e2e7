#!/usr/bin/env python3
"""Makes generation oracles for a past/present decoder from onnxruntime.

    make-genai-generation-oracle.py MODEL_DIR [--seed N] [--head-dim D]

MODEL_DIR holds model.onnx: a decoder whose inputs are `input_ids` [B, S],
`attention_mask` [B, total] and past keys/values [B, Hkv, past, D], whose
outputs are the logits [B, S, V] and the presents, in the same order as the
pasts (ONNX Runtime GenAI's model builder writes that interface; see
utils/make-genai-test-models.py). Writes MODEL_DIR/generate/, in the format of
../shared/models/hf-tiny-generate (utils/check_generation.py reads both):

- prompt_ids.pb int64 [1, 8] (random ids, the given seed) and greedy_ids.pb
  int64 [1, 24]: the prompt in one step (past 0), then 23 one-token steps,
  each choosing the argmax; greedy_logits.pb float32 [24, V] holds the
  logits that chose each token.
- forced_ids.pb int64 [1, 32] (random ids) and forced_logits.pb float32
  [32, V]: the logits after each given token, fed one step at a time.

onnxruntime runs on the CPU EP with graph optimisations off
(ORT_DISABLE_ALL), so no rewrite changes the numerics. Prints the smallest
gap between the top two greedy logits (the margin a reimplementation's
rounding has). Needs onnx, onnxruntime and numpy (PyPI); CI reads the
committed output.
"""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--head-dim", type=int, default=0,
                    help="the past's head size (default: from "
                    "test_data_set_0/input_2.pb)")
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    path = os.path.join(args.model_dir, "model.onnx")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    inputs = sess.get_inputs()
    pasts = [i for i in inputs if len(i.shape) == 4]
    if not pasts or [i.name for i in inputs[:2]] != ["input_ids",
                                                     "attention_mask"]:
        sys.exit(f"{path}: expected input_ids, attention_mask and past "
                 f"keys/values, got {[i.name for i in inputs]}")
    kv_heads = pasts[0].shape[1]
    model = onnx.load(path)
    vocab = model.graph.output[0].type.tensor_type.shape.dim[2].dim_value
    # The head size (a named dim in the builder's models): --head-dim, else
    # the past of the model directory's first test data set.
    head_dim = args.head_dim
    if not head_dim:
        past0 = os.path.join(args.model_dir, "test_data_set_0", "input_2.pb")
        t = onnx.TensorProto()
        with open(past0, "rb") as f:
            t.ParseFromString(f.read())
        head_dim = t.dims[3]

    def step(ids, past):
        """Feeds ids [1, S] after `past` (list of arrays); returns the logits
        [S, V] and the presents."""
        total = ids.shape[1] + past[0].shape[2]
        feed = {"input_ids": ids.astype(np.int64),
                "attention_mask": np.ones((1, total), np.int64)}
        for info, value in zip(pasts, past):
            feed[info.name] = value
        out = sess.run(None, feed)
        return out[0][0], out[1:]

    def empty_past():
        return [np.zeros((1, kv_heads, 0, head_dim), np.float32)] * len(pasts)

    rng = np.random.default_rng(args.seed)
    prompt = rng.integers(0, vocab, size=(1, 8), dtype=np.int64)
    forced = rng.integers(0, vocab, size=(1, 32), dtype=np.int64)

    # Greedy: the prompt in one step, then one token per step.
    logits, past = step(prompt, empty_past())
    greedy, greedy_logits = [], []
    row = logits[-1]
    for _ in range(24):
        token = int(np.argmax(row))
        greedy.append(token)
        greedy_logits.append(row.copy())
        if len(greedy) == 24:
            break
        logits, past = step(np.array([[token]], np.int64), past)
        row = logits[-1]
    gaps = [np.partition(r, -2)[-1] - np.partition(r, -2)[-2]
            for r in greedy_logits]

    # Teacher-forced: one given token per step.
    past, forced_logits = empty_past(), []
    for t in range(forced.shape[1]):
        logits, past = step(forced[:, t:t + 1], past)
        forced_logits.append(logits[-1].copy())

    out = os.path.join(args.model_dir, "generate")
    os.makedirs(out, exist_ok=True)
    tensors = {
        "prompt_ids": prompt,
        "greedy_ids": np.array([greedy], np.int64),
        "greedy_logits": np.stack(greedy_logits).astype(np.float32),
        "forced_ids": forced,
        "forced_logits": np.stack(forced_logits).astype(np.float32),
    }
    for name, value in tensors.items():
        with open(os.path.join(out, name + ".pb"), "wb") as f:
            f.write(numpy_helper.from_array(value, name).SerializeToString())
    print(f"{out}: greedy {greedy}")
    print(f"smallest top-2 gap over the greedy steps: {min(gaps):.7f}")


if __name__ == "__main__":
    main()
