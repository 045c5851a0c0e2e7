#!/usr/bin/env python3
"""PyTorch's logits for an oracle's teacher-forced ids, on the weights of a
utils/make-llama-1b-onnx.py model: the peer's own numerics at a dtype.

    torch-forced-logits.py MODEL.onnx ORACLE_DIR OUT.pb [--dtype bf16]
                           [--device cuda] [--head-dim 64] [--rope-theta 500000]

MODEL.onnx is a Llama-style graph written by utils/make-llama-1b-onnx.py
(Hugging Face weight names; projections stored [in, out] for MatMul), with
its external data. This builds transformers' LlamaForCausalLM with the
same shapes (read from the weights; head dim and rope theta as the script
uses them), loads the weights (projections transposed to [out, in]),
converts the model to --dtype, and runs ORACLE_DIR/forced_ids.pb (int64
[1, L], as utils/make-ort-oracle.py writes it) through it in one causal
forward pass. OUT.pb gets the float32 logits [L, vocab], the layout of the
oracle's forced_logits.pb, for utils/check_precision.py --peer-logits:
how far PyTorch itself, in bf16, is from the fp32 oracle on each row.

Needs torch, transformers, onnx and numpy (the GPU machine has them).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_generation import read_tensor, write_tensor  # noqa: E402

_FLOAT = 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("oracle_dir")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["bf16", "fp16", "fp32"], default="bf16")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--rope-theta", type=float, default=500000.0)
    a = ap.parse_args()

    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import LlamaConfig, LlamaForCausalLM

    model = onnx.load(a.model, load_external_data=True)
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer
               if t.name.startswith(("model.", "lm_head."))}
    if "model.embed_tokens.weight" not in weights or "lm_head.weight" not in weights:
        sys.exit("torch-forced-logits: %s has no Llama weights of "
                 "make-llama-1b-onnx.py's names" % a.model)
    vocab, hidden = weights["model.embed_tokens.weight"].shape
    layers = 1 + max(int(n.split(".")[2]) for n in weights if n.startswith("model.layers."))
    inter = weights["model.layers.0.mlp.gate_proj.weight"].shape[1]
    kv_out = weights["model.layers.0.self_attn.k_proj.weight"].shape[1]
    config = LlamaConfig(
        vocab_size=int(vocab), hidden_size=int(hidden), intermediate_size=int(inter),
        num_hidden_layers=layers, num_attention_heads=int(hidden) // a.head_dim,
        num_key_value_heads=int(kv_out) // a.head_dim, head_dim=a.head_dim,
        rms_norm_eps=1e-5, rope_theta=a.rope_theta, rope_scaling=None,
        max_position_embeddings=4096, tie_word_embeddings=False,
        attention_bias=False, mlp_bias=False)
    state = {}
    for name, w in weights.items():
        t = torch.from_numpy(np.array(w))  # a writable copy: torch warns otherwise
        # MatMul weights are [in, out]; nn.Linear holds [out, in].
        state[name] = t.t().contiguous() if name.endswith("proj.weight") or \
            name == "lm_head.weight" else t
    with torch.device("meta"):
        net = LlamaForCausalLM(config)
    missing, unexpected = net.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not m.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        sys.exit("torch-forced-logits: weights missing %s, unexpected %s"
                 % (missing[:4], unexpected[:4]))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[a.dtype]
    rotary = [m for m in net.modules() if hasattr(m, "inv_freq")]
    for m in rotary:  # a buffer made on meta: set after the move below
        m.inv_freq = torch.zeros(a.head_dim // 2)
        if hasattr(m, "original_inv_freq"):
            m.original_inv_freq = m.inv_freq
    net = net.to(device=a.device, dtype=dtype).eval()
    # The rotary frequencies in f32, as the graph (and kiln) compute them.
    inv = 1.0 / (a.rope_theta ** (torch.arange(0, a.head_dim, 2, dtype=torch.float32)
                                  / a.head_dim))
    for m in rotary:
        m.inv_freq = inv.to(a.device)
        if hasattr(m, "original_inv_freq"):
            m.original_inv_freq = m.inv_freq
    _, dims, ids = read_tensor(os.path.join(a.oracle_dir, "forced_ids.pb"))
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long, device=a.device)
        logits = net(input_ids=x).logits[0].float().cpu()
    rows, width = logits.shape
    write_tensor(a.out, "logits", _FLOAT, [rows, width], logits.reshape(-1).tolist())
    print("torch-forced-logits: %s, %d rows of %d logits (%s, %s, torch %s)"
          % (a.out, rows, width, a.dtype, a.device, torch.__version__))


if __name__ == "__main__":
    main()
