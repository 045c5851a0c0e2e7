//===- Quant.cpp - reference kernels of the quantised-weight ops ----------===//
//
// kiln.matmul_nbits as ONNX Runtime's MatMulNBits means it at accuracy
// levels 0 and 1: every weight element is dequantised to f32,
// `(q - zero_point) * scale`, then multiplied as an f32 matmul (the sum
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
  int64_t k = op.getK(), block = op.getBlockSize();
  int64_t blocks = op.getNumBlocks(), blob = block / 2;
  int64_t zpBytes = (blocks + 1) / 2;
  for (int64_t kk = 0; kk < k; ++kk) {
    int64_t j = kk / block, p = kk % block;
    int64_t byte = w.i[(n * blocks + j) * blob + p / 2];
    int64_t q = (p % 2 == 0) ? (byte & 0xF) : ((byte >> 4) & 0xF);
    float zero = 8.0f;
    if (zp && zp->kind == Kind::F32) {
      zero = zp->f[n * blocks + j];
    } else if (zp) {
      int64_t z = zp->i[n * zpBytes + j / 2];
      zero = float((j % 2 == 0) ? (z & 0xF) : ((z >> 4) & 0xF));
    }
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
