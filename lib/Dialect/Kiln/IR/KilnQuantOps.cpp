//===- KilnQuantOps.cpp - the quantised-weight ops ------------------------===//
//
// Inference and checks of kiln.matmul_nbits: the packed 4-bit weight, its
// per-block scales and optional zero points must have exactly the sizes the
// K, N and block_size attributes name, so the reference backend and the CUDA
// kernel can index them without further checks.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace kiln;

namespace {
RankedTensorType rankedOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
} // namespace

LogicalResult MatmulNBitsOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &results) {
  const char *op = "'kiln.matmul_nbits' op ";
  auto x = rankedOf(adaptor.getInput()), w = rankedOf(adaptor.getWeight()),
       s = rankedOf(adaptor.getScales());
  int64_t k = adaptor.getK(), n = adaptor.getN();
  int64_t bits = adaptor.getBits(), block = adaptor.getBlockSize();
  if (bits != 4 && bits != 8)
    return emitOptionalError(loc, op, "bits must be 4 or 8, got ", bits);
  if (block < 16 || !llvm::isPowerOf2_64(block))
    return emitOptionalError(loc, op,
                             "block_size must be a power of two >= 16, got ",
                             block);
  if (x.getRank() < 1 || x.getShape().back() != k)
    return emitOptionalError(loc, op, "input ", shapeText(x.getShape()),
                             " must end in K = ", k);
  int64_t blocks = (k + block - 1) / block;
  SmallVector<int64_t> wShape = {n, blocks, block * bits / 8};
  if (w.getShape() != ArrayRef<int64_t>(wShape))
    return emitOptionalError(loc, op, "weight must be ", shapeText(wShape),
                             " (N, ceil(K / block_size), block_size * bits / 8), got ",
                             shapeText(w.getShape()));
  if (s.getElementType() != x.getElementType() ||
      s.getShape() != ArrayRef<int64_t>{n * blocks})
    return emitOptionalError(loc, op, "scales must be [", n * blocks,
                             "] of the input's element type, got ",
                             shapeText(s.getShape()));
  if (Value zp = adaptor.getZeroPoints()) {
    auto z = rankedOf(zp);
    if (z.getElementType().isUnsignedInteger(8)) {
      int64_t bytes = n * ((blocks * bits + 7) / 8);
      if (z.getShape() != ArrayRef<int64_t>{bytes})
        return emitOptionalError(loc, op, "packed zero_points must be [",
                                 bytes, "] (N * ceil(n_blocks * bits / 8)), got ",
                                 shapeText(z.getShape()));
    } else if (z.getElementType() != x.getElementType() ||
               z.getShape() != ArrayRef<int64_t>{n * blocks}) {
      return emitOptionalError(loc, op, "float zero_points must be [",
                               n * blocks,
                               "] of the input's element type, got ",
                               shapeText(z.getShape()));
    }
  }
  if (Value bias = adaptor.getBias()) {
    auto bt = rankedOf(bias);
    if (bt.getElementType() != x.getElementType() ||
        bt.getShape() != ArrayRef<int64_t>{n})
      return emitOptionalError(loc, op, "bias must be [", n,
                               "] of the input's element type, got ",
                               shapeText(bt.getShape()));
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = n;
  results.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}
