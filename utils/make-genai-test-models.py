#!/usr/bin/env python3
"""Makes the ONNX Runtime GenAI test models of test/Models/genai-llama-*.

    make-genai-test-models.py OUT_DIR

Needs (PyPI): onnxruntime-genai (0.18), onnxruntime, transformers>=5,
onnx_ir, onnx, torch. CI does not run this script; it reads the committed
output.

1. A tiny random Llama (hidden 64, 2 layers, 4 heads, 2 kv heads, head 16,
   intermediate 96, vocab 128; seed 0) saved with save_pretrained.
2. ONNX Runtime GenAI's model builder on it, for the CPU EP:
   `-p fp32 -e cpu` (genai-llama-fp32) and `-p int4 -e cpu` with
   block_size=32, accuracy_level=1 and is_symmetric=false
   (genai-llama-int4: MatMulNBits with packed uint8 zero points).
   accuracy_level=1 is MatMulNBits' fp32 semantics: weights dequantised to
   fp32, fp32 matmul, which is what kiln's reference implements. The
   committed int4 models were then moved to accuracy_level 0 (the op's
   default, which the tests compare against) by
   utils/genai-accuracy-level0.py, which recomputed their outputs, and
   their generation oracles made by utils/make-genai-generation-oracle.py.
   The same for a tiny random Qwen2 of the same shape (q/k/v biases: an
   Add after the qkv MatMulNBits), int4 only (genai-qwen2-int4); its
   down_proj (K = 96) has 3 blocks a row, an odd count, so its packed zero
   points end in a padding nibble.
3. The weights are stored inline (no external-data file) and the model
   re-saved as model.onnx.
4. Three steps run with onnxruntime (CPU EP, ORT_DISABLE_ALL so no graph
   rewrite changes the numerics), written in the ONNX backend-test layout
   (test_data_set_N/input_K.pb, output_K.pb, K in graph order):
     0: prefill, batch 1, 5 tokens, empty past (past = 0);
     1: decode, batch 1, 1 token, past = set 0's present (5);
     2: decode, batch 2, 1 token, past 6 (random keys/values), row 0 with
        all 7 positions valid and row 1 with 5 (seqlens_k = 4: its cache
        rows 5 and 6 are padding that GroupQueryAttention ignores and
        zeroes in present).
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np


def make_hf_model(path, arch="llama"):
    import torch
    from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config,
                              Qwen2ForCausalLM)
    torch.manual_seed(0)
    # intermediate != vocab: the builder takes any Linear with vocab_size
    # outputs for the LM head.
    shape = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=128,
                 max_position_embeddings=64, rms_norm_eps=1e-5,
                 tie_word_embeddings=False)
    if arch == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**shape)).eval()
    else:
        model = LlamaForCausalLM(LlamaConfig(**shape)).eval()
    # Larger than the default init so the logits are not all near zero.
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.2)
    model.save_pretrained(path)
    # The builder also saves a tokenizer: a word-level one over the 128 ids.
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {f"t{i}": i for i in range(128)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="t0",
                            bos_token="t1", eos_token="t2",
                            pad_token="t0").save_pretrained(path)


def build(hf_dir, out_dir, precision, extra):
    cache = tempfile.mkdtemp()
    cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder",
           "-i", hf_dir, "-o", out_dir, "-p", precision, "-e", "cpu",
           "-c", cache]
    if extra:
        cmd += ["--extra_options"] + extra
    subprocess.run(cmd, check=True)
    shutil.rmtree(cache, ignore_errors=True)


def inline_weights(model_dir):
    import onnx
    path = os.path.join(model_dir, "model.onnx")
    model = onnx.load(path, load_external_data=True)
    for t in model.graph.initializer:
        t.ClearField("data_location")
        del t.external_data[:]
    for f in os.listdir(model_dir):
        if f != "model.onnx":
            p = os.path.join(model_dir, f)
            (shutil.rmtree if os.path.isdir(p) else os.remove)(p)
    onnx.save(model, path)


def run_steps(model_dir):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
    path = os.path.join(model_dir, "model.onnx")
    graph = onnx.load(path).graph
    inits = {t.name for t in graph.initializer}
    inputs = [i.name for i in graph.input if i.name not in inits]
    outputs = [o.name for o in graph.output]
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    layers = sum(1 for n in inputs if n.endswith(".key"))
    kv_heads, head = 2, 16
    rng = np.random.default_rng(1)

    def feeds(ids, mask, past):
        f = {"input_ids": ids.astype(np.int64),
             "attention_mask": mask.astype(np.int64)}
        for i in range(layers):
            f[f"past_key_values.{i}.key"] = past[2 * i]
            f[f"past_key_values.{i}.value"] = past[2 * i + 1]
        return f

    def write(n, f, res):
        d = os.path.join(model_dir, f"test_data_set_{n}")
        os.makedirs(d, exist_ok=True)
        for k, name in enumerate(inputs):
            t = numpy_helper.from_array(f[name], name)
            open(os.path.join(d, f"input_{k}.pb"), "wb").write(
                t.SerializeToString())
        for k, (name, value) in enumerate(zip(outputs, res)):
            t = numpy_helper.from_array(value, name)
            open(os.path.join(d, f"output_{k}.pb"), "wb").write(
                t.SerializeToString())

    empty = [np.zeros((1, kv_heads, 0, head), np.float32)] * (2 * layers)
    ids = rng.integers(0, 128, (1, 5))
    f0 = feeds(ids, np.ones((1, 5)), empty)
    r0 = sess.run(outputs, f0)
    write(0, f0, r0)
    present = {n: v for n, v in zip(outputs, r0)}
    past = []
    for i in range(layers):
        past += [present[f"present.{i}.key"], present[f"present.{i}.value"]]
    f1 = feeds(rng.integers(0, 128, (1, 1)), np.ones((1, 6)), past)
    write(1, f1, sess.run(outputs, f1))
    past2 = [rng.normal(0, 1, (2, kv_heads, 6, head)).astype(np.float32)
             for _ in range(2 * layers)]
    mask = np.ones((2, 7))
    mask[1, 5:] = 0
    f2 = feeds(rng.integers(0, 128, (2, 1)), mask, past2)
    write(2, f2, sess.run(outputs, f2))


def main():
    out = sys.argv[1]
    int4 = ["block_size=32", "accuracy_level=1", "is_symmetric=false"]
    for arch, models in [("llama", [("genai-llama-fp32", "fp32", []),
                                    ("genai-llama-int4", "int4", int4)]),
                         ("qwen2", [("genai-qwen2-int4", "int4", int4)])]:
        hf = tempfile.mkdtemp()
        make_hf_model(hf, arch)
        for name, precision, extra in models:
            d = os.path.join(out, name)
            shutil.rmtree(d, ignore_errors=True)
            build(hf, d, precision, extra)
            inline_weights(d)
            run_steps(d)
        shutil.rmtree(hf, ignore_errors=True)


if __name__ == "__main__":
    main()
