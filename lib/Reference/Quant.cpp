//===- Quant.cpp - reference kernels of the quantised-weight ops ----------===//
//
// kiln.matmul_nbits as ONNX Runtime's MatMulNBits means it at accuracy
// levels 0 and 1: every weight element is dequantised to f32,
// `(q - zero_point) * scale` (4- or 8-bit q, the zero point 2^(bits-1)
// when absent), then multiplied as an f32 matmul (the sum
// accumulated in double, as every reference dot product is). The packed
// bytes are read as the op's verifier fixed their sizes.
//
//===----------------------------------------------------------------------===//

#include "RefKernels.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::ref;
using namespace kiln::ref::kern;

namespace {

/// The f32 weight row `n` of a kiln.matmul_nbits, dequantised into `row`
/// (K elements).
void dequantiseRow(MatmulNBitsOp op, ArrayRef<Tensor> in, int64_t n,
                   std::vector<float> &row) {
  const Tensor &w = in[1], &scales = in[2];
  const Tensor *zp = op.getZeroPoints() ? &in[3] : nullptr;
  int64_t k = op.getK(), block = op.getBlockSize(), bits = op.getBits();
  int64_t blocks = op.getNumBlocks(), blob = block * bits / 8;
  int64_t zpBytes = (blocks * bits + 7) / 8, mask = (1 << bits) - 1;
  // Element e of a packed row: bits [e * bits, (e + 1) * bits) of its bytes,
  // low bits first.
  auto unpack = [&](const std::vector<int64_t> &bytes, int64_t base,
                    int64_t e) {
    int64_t bit = e * bits;
    return (bytes[base + bit / 8] >> (bit % 8)) & mask;
  };
  for (int64_t kk = 0; kk < k; ++kk) {
    int64_t j = kk / block;
    int64_t q = unpack(w.i, (n * blocks + j) * blob, kk % block);
    float zero = float(int64_t(1) << (bits - 1));
    if (zp && zp->kind == Kind::F32)
      zero = zp->f[n * blocks + j];
    else if (zp)
      zero = float(unpack(zp->i, n * zpBytes, j));
    row[kk] = (float(q) - zero) * scales.f[n * blocks + j];
  }
}

Result matmulNBits(MatmulNBitsOp op, ArrayRef<Tensor> in) {
  const Tensor &x = in[0];
  const Tensor *bias = nullptr;
  if (op.getBias())
    bias = &in[op.getZeroPoints() ? 4 : 3];
  Tensor out = resultLike(op);
  int64_t k = op.getK(), n = op.getN();
  int64_t m = k == 0 ? 0 : int64_t(x.f.size()) / k;
  std::vector<float> row(k);
  for (int64_t j = 0; j < n; ++j) {
    dequantiseRow(op, in, j, row);
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      const float *px = x.f.data() + i * k;
      for (int64_t p = 0; p < k; ++p)
        acc += (double)px[p] * row[p];
      float y = float(acc);
      if (bias)
        y += bias->f[j];
      out.f[i * n + j] = y;
    }
  }
  return SmallVector<Tensor>{std::move(out)};
}

} // namespace

std::optional<Result> kern::evalQuant(Operation *op, ArrayRef<Tensor> in) {
  if (auto q = dyn_cast<MatmulNBitsOp>(op))
    return matmulNBits(q, in);
  return std::nullopt;
}
