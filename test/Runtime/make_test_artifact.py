#!/usr/bin/env python3
"""Writes a small hand-made kiln artifact (format v3) plus inputs and expected
outputs, to prove the CUDA runtime without the compiler.

    make_test_artifact.py OUTDIR [--fatbin=nvcc|fake] [--arch sm_90] [--kv]

OUTDIR/model.kiln/   manifest.txt, kernels.cu, kernels.fatbin, weights.bin,
                     scheduled.mlir (a placeholder: there is no IR; the file
                     only has to match its manifest record)
OUTDIR/x.pb          input 0 (TensorProto, named "x")
OUTDIR/x2.npy        input 1 (.npy, unnamed: binds in order)
OUTDIR/y.pb, z.pb    expected outputs, computed with numpy

The model:
    t0 = x + w_add                  (kernel kiln_add_f32_32)
    t1 = t0 * 0.5                   (kernel kiln_scale_f32_32)
    y  = t1 @ w1 + b1               (gemm 4x16x8, bias epilogue)
    z[b] = x2[b] @ w2^T, b < 2      (batched gemm 4x16x8, transB, B broadcast)

--fatbin=fake writes placeholder bytes instead of running nvcc (enough for the
host-side checks of lit tests on machines without nvcc or a GPU).

--kv also writes OUTDIR/kv.kiln, a format-4 artifact with a KV cache region
(kv_cache 1 layer, 1 kv head, head_dim 4, max_batch 1, max_seq 4: 128 bytes)
and two functions, for the executor's multi-function and KV paths
(runtime/unittests/ExecutorApiTest.cpp runs it when KILN_TEST_KV_ARTIFACT
names it):
    append (step 1 1): kv.key[slot pos] = x; y = sum over the 4 key slots
    peek: y = the same sum; z = key slot 0 (a 1x4 row, k:0) @ w_eye (gemm
          with a KV-region A operand)
"""

import argparse
import os
import struct
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "utils"))
import kiln_artifact  # noqa: E402  (utils/kiln_artifact.py)

KERNELS_CU = r"""// Hand-written kernels for the kiln runtime test artifact.
// Shapes are baked in, as in generated code: every tensor has 32 elements.
extern "C" __global__ void kiln_add_f32_32(const float *a, const float *b,
                                           float *out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < 32)
    out[i] = a[i] + b[i];
}

extern "C" __global__ void kiln_scale_f32_32(const float *in, float *out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < 32)
    out[i] = in[i] * 0.5f;
}
"""


KV_KERNELS_CU = r"""// Hand-written kernels for the kiln runtime KV test artifact: the key
// block of a 1-layer, 1-head, head_dim 4, max_batch 1, max_seq 4 cache.
extern "C" __global__ void kiln_kv_put(const long long *tokens,
                                       const long long *pos, const float *x,
                                       float *kv) {
  int i = threadIdx.x;
  (void)tokens;
  if (i < 4 && pos[0] >= 0 && pos[0] < 4)
    kv[pos[0] * 4 + i] = x[i];
}

extern "C" __global__ void kiln_kv_sum(const float *kv, float *y) {
  int i = threadIdx.x;
  if (i < 4) {
    float s = 0;
    for (int slot = 0; slot < 4; ++slot)
      s += kv[slot * 4 + i];
    y[i] = s;
  }
}
"""


def compile_fatbin(args, cu, fatbin):
    """nvcc -fatbin for args.arch, or placeholder bytes with --fatbin=fake."""
    if args.fatbin == "nvcc":
        nvcc = "nvcc"
        if not any(
            os.access(os.path.join(p, "nvcc"), os.X_OK)
            for p in os.environ.get("PATH", "").split(os.pathsep)
        ):
            nvcc = "/usr/local/cuda/bin/nvcc"
        cc = args.arch[3:]
        subprocess.run(
            [nvcc, "-fatbin", f"-gencode=arch=compute_{cc},code=[sm_{cc},compute_{cc}]",
             cu, "-o", fatbin],
            check=True,
        )
    else:
        with open(fatbin, "wb") as f:
            f.write(b"not a fatbin: placeholder for host-side tests\n")


def write_kv_artifact(args):
    """OUTDIR/kv.kiln (see --kv in the module doc)."""
    kiln = os.path.join(args.outdir, "kv.kiln")
    os.makedirs(kiln, exist_ok=True)
    eye = np.eye(4, dtype=np.float32)
    with open(os.path.join(kiln, "weights.bin"), "wb") as f:
        f.write(eye.astype("<f4").tobytes())
    cu = os.path.join(kiln, "kernels.cu")
    with open(cu, "w") as f:
        f.write(KV_KERNELS_CU)
    compile_fatbin(args, cu, os.path.join(kiln, "kernels.fatbin"))
    with open(os.path.join(kiln, "scheduled.mlir"), "w") as f:
        f.write("// hand-made artifact: no scheduled IR\n")
    manifest = [
        "# hand-made by test/Runtime/make_test_artifact.py --kv",
        "kiln-artifact 4",
        f"arch {args.arch}",
        "arena_bytes 1024",
        "kv_cache 1 1 4 1 4 f32 128",
        "weights_file weights.bin 0 -",
        "kernels_file kernels.fatbin 0 -",
        "ir_file scheduled.mlir 0 -",
        "weight 0 w_eye f32 4x4 0 64",
        "function append 2",
        "step 1 1",
        "input 0 ids i64 1x1 0 8 role tokens",
        "input 1 kv_pos i64 1 256 8 role kv_pos",
        "input 2 x f32 4 512 16",
        "output 0 logits f32 1x1x4 768 16 role logits",
        "launch kernel kiln_kv_put 1 1 1 32 1 1 0 4 a:0 a:256 a:512 k:0",
        "launch kernel kiln_kv_sum 1 1 1 32 1 1 0 2 k:0 a:768",
        "end",
        # peek reuses append's arena bytes: functions never run at once.
        "function peek 2",
        "output 0 y f32 4 0 16",
        "output 1 z f32 1x4 256 16",
        "launch kernel kiln_kv_sum 1 1 1 32 1 1 0 2 k:0 a:0",
        "launch gemm 1 4 4 1 k:0 w:0 a:256 - 4 0 4 0",
        "end",
    ]
    with open(os.path.join(kiln, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    kiln_artifact.seal(kiln)
    print(f"wrote {kiln}")


def tensor_proto(name, array):
    """Serializes `array` as an ONNX TensorProto with raw_data (wire format)."""
    codes = {np.float32: 1, np.int64: 7, np.int32: 6}

    def varint(v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    buf = bytearray()
    for d in array.shape:
        buf += varint(1 << 3) + varint(d)
    buf += varint(2 << 3) + varint(codes[array.dtype.type])
    if name:
        nb = name.encode()
        buf += varint((8 << 3) | 2) + varint(len(nb)) + nb
    raw = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    buf += varint((9 << 3) | 2) + varint(len(raw)) + raw
    return bytes(buf)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("--fatbin", choices=["nvcc", "fake"], default="nvcc")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--kv", action="store_true",
                        help="also write OUTDIR/kv.kiln (format 4, KV cache)")
    args = parser.parse_args()

    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 8), dtype=np.float32)
    x2 = rng.standard_normal((2, 4, 8), dtype=np.float32)
    w_add = rng.standard_normal((4, 8), dtype=np.float32)
    w1 = rng.standard_normal((8, 16), dtype=np.float32)
    b1 = rng.standard_normal((16,), dtype=np.float32)
    w2 = rng.standard_normal((16, 8), dtype=np.float32)  # N x K: used as w2^T

    y = ((x + w_add) * np.float32(0.5)) @ w1 + b1
    z = np.stack([x2[b] @ w2.T for b in range(2)])

    kiln = os.path.join(args.outdir, "model.kiln")
    os.makedirs(kiln, exist_ok=True)

    # weights.bin: every weight at a 256-byte-aligned offset.
    weights = bytearray()
    records = []
    for wid, (name, arr) in enumerate(
        [("w_add", w_add), ("w1", w1), ("b1", b1), ("w2", w2)]
    ):
        weights += b"\0" * (-len(weights) % 256)
        raw = arr.astype("<f4").tobytes()
        shape = "x".join(str(d) for d in arr.shape)
        records.append(f"weight {wid} {name} f32 {shape} {len(weights)} {len(raw)}")
        weights += raw
    with open(os.path.join(kiln, "weights.bin"), "wb") as f:
        f.write(weights)

    cu = os.path.join(kiln, "kernels.cu")
    fatbin = os.path.join(kiln, "kernels.fatbin")
    with open(cu, "w") as f:
        f.write(KERNELS_CU)
    compile_fatbin(args, cu, fatbin)
    fatbin_bytes = os.path.getsize(fatbin)
    with open(os.path.join(kiln, "scheduled.mlir"), "w") as f:
        f.write("// hand-made artifact: no scheduled IR\n")

    # Arena: x @0, t0 @256, t1 @512, y @768, x2 @1024, z @1280 (512 bytes).
    manifest = [
        "# hand-made by test/Runtime/make_test_artifact.py",
        "kiln-artifact 4",
        f"arch {args.arch}",
        "arena_bytes 1792",
        # Sizes and hashes are filled in by kiln_artifact.seal below.
        "weights_file weights.bin 0 -",
        "kernels_file kernels.fatbin 0 -",
        "ir_file scheduled.mlir 0 -",
        *records,
        "function main 4",
        "input 0 x f32 4x8 0 128",
        "input 1 x2 f32 2x4x8 1024 256",
        "output 0 y f32 4x16 768 256",
        "output 1 z f32 2x4x16 1280 512",
        "launch kernel kiln_add_f32_32 1 1 1 64 1 1 0 3 a:0 w:0 a:256",
        "launch kernel kiln_scale_f32_32 1 1 1 32 1 1 0 2 a:256 a:512",
        "launch gemm 4 16 8 1 a:512 w:1 a:768 w:2 0 0 0 0",
        "launch gemm 4 16 8 2 a:1024 w:3 a:1280 - 32 0 64 1",
        "end",
    ]
    with open(os.path.join(kiln, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    kiln_artifact.seal(kiln)

    with open(os.path.join(args.outdir, "x.pb"), "wb") as f:
        f.write(tensor_proto("x", x))
    np.save(os.path.join(args.outdir, "x2.npy"), x2)
    with open(os.path.join(args.outdir, "y.pb"), "wb") as f:
        f.write(tensor_proto("y", y.astype(np.float32)))
    with open(os.path.join(args.outdir, "z.pb"), "wb") as f:
        f.write(tensor_proto("z", z.astype(np.float32)))
    # A deliberately wrong expectation, for the FAIL path.
    with open(os.path.join(args.outdir, "y_wrong.pb"), "wb") as f:
        f.write(tensor_proto("y", (y + np.float32(1.0)).astype(np.float32)))
    print(f"wrote {kiln} ({len(weights)} weight bytes, {fatbin_bytes} fatbin bytes)")
    if args.kv:
        write_kv_artifact(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
