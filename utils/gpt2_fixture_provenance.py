#!/usr/bin/env python3
"""Where do the GPT-2 fixtures' shipped outputs come from?

kiln (and ONNX's ReferenceEvaluator) miss the shipped outputs of the three
hf-tiny GPT-2 fixtures by 0.1-0.5, while they match Llama and Qwen2 to 1e-7.
The hypothesis (docs/reference.md): the outputs were taken from a model built
with `GPT2LMHeadModel(config)`, which starts in training mode, so GPT-2's
dropouts (embeddings, attention, residual; p = 0.1) were live. Llama and Qwen2
have no dropout at p > 0, so they are unaffected.

This script tests that with PyTorch and transformers (the GPU machine has
both): it rebuilds the model (torch.manual_seed(0), the README's config),
loads the ONNX initializers into it, and runs each
fixture's inputs in eval() and in train() mode. It prints, per output, the max
abs difference of eval-mode PyTorch from kiln's reference backend and from the
shipped file, and of train-mode runs from the shipped file.

  gpt2_fixture_provenance.py FIXTURES_DIR KILN_OUTPUTS_DIR

FIXTURES_DIR holds gpt2-*/ fixture folders; KILN_OUTPUTS_DIR/<fixture>/
holds kiln-run --backend=ref --output-dir files (output_<i>.pb).
"""
import glob
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def numbered(pattern):
    return sorted(glob.glob(pattern), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))


def build_model():
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=512, n_embd=64, n_layer=2, n_head=4,
                     n_positions=256)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    return GPT2LMHeadModel(cfg)


def load_weights(model, onnx_path):
    """Copies the ONNX initializers into the model.

    Named ones ('m.<param>') go to their parameter; an unnamed [hidden, vocab]
    matrix is the tied LM head, transposed (the TorchScript export). Params
    the export folded away keep their Hugging Face initial values (LayerNorm
    1/0, biases 0), which is what a freshly built model holds. Returns the
    number loaded and the largest change they made to the rebuilt model.
    """
    state = model.state_dict()
    loaded, changed = 0, 0.0
    with torch.no_grad():
        for init in onnx.load(onnx_path).graph.initializer:
            a = numpy_helper.to_array(init)
            name = init.name[2:] if init.name.startswith("m.") else None
            if name not in state and a.shape == tuple(state["lm_head.weight"].shape[::-1]) \
                    and init.name.startswith("onnx::MatMul"):
                name, a = "lm_head.weight", a.T
            if name not in state or tuple(state[name].shape) != a.shape:
                continue
            t = torch.from_numpy(np.ascontiguousarray(a))
            changed = max(changed, float((state[name] - t).abs().max()))
            state[name].copy_(t)
            loaded += 1
    return loaded, changed


def run(model, inputs, decode):
    inputs = [np.array(x) for x in inputs]  # writable copies for torch
    with torch.no_grad():
        if not decode:
            out = model(input_ids=torch.from_numpy(inputs[0]), use_cache=False)
            return [out.logits.numpy()]
        from transformers import DynamicCache

        cache = DynamicCache()
        layers = (len(inputs) - 2) // 2
        for layer in range(layers):
            cache.update(torch.from_numpy(inputs[2 + 2 * layer]),
                         torch.from_numpy(inputs[3 + 2 * layer]), layer)
        out = model(input_ids=torch.from_numpy(inputs[0]),
                    position_ids=torch.from_numpy(inputs[1]),
                    past_key_values=cache, use_cache=True)
        res = [out.logits.numpy()]
        pkv = out.past_key_values
        for layer in range(layers):
            if hasattr(pkv, "layers"):
                k, v = pkv.layers[layer].keys, pkv.layers[layer].values
            else:
                k, v = pkv.key_cache[layer], pkv.value_cache[layer]
            res += [k.numpy(), v.numpy()]
        return res


def maxdiff(a, b):
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def main():
    fixtures, kiln_dir = sys.argv[1], sys.argv[2]
    import transformers

    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    for fdir in sorted(glob.glob(os.path.join(fixtures, "gpt2-*"))):
        name = os.path.basename(fdir)
        decode = "decode" in name
        model = build_model()
        n, worst = load_weights(model, os.path.join(fdir, "model.onnx"))
        print(f"== {name}: loaded {n} initializers into the model (largest "
              f"change from the seed-0 rebuild {worst:.3g})")
        inputs = [load_pb(p) for p in numbered(f"{fdir}/test_data_set_0/input_*.pb")]
        shipped = [load_pb(p) for p in numbered(f"{fdir}/test_data_set_0/output_*.pb")]
        kiln = [load_pb(p) for p in numbered(f"{kiln_dir}/{name}/output_*.pb")]
        model.eval()
        ev = run(model, inputs, decode)
        for i, (e, s) in enumerate(zip(ev, shipped)):
            k = f"{maxdiff(e, kiln[i]):.3g}" if i < len(kiln) else "n/a"
            print(f"  output_{i}: eval-mode torch vs kiln ref {k}; "
                  f"vs shipped {maxdiff(e, s):.3g}")
        model.train()
        for seed in range(3):
            torch.manual_seed(seed)
            tr = run(model, inputs, decode)
            print(f"  train-mode torch (seed {seed}) vs shipped, output_0: "
                  f"{maxdiff(tr[0], shipped[0]):.3g}; vs eval-mode "
                  f"{maxdiff(tr[0], ev[0]):.3g}")


if __name__ == "__main__":
    main()
