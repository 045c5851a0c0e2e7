//===- EmitQuant.cpp - CUDA for the quantised-weight ops ------------------===//
//
// kiln.matmul_nbits: for decode (kiln::isNBitsGemv: at most 8 rows, packed
// rows of whole 16-byte pieces) kiln::matmulNBitsGemv, one warp per output
// column streaming the packed weights once for all rows; otherwise
// kiln::matmulNBits, one thread per output element. Both read the packed 4-
// or 8-bit weights and dequantise them on the fly, summing in fp32 (f64 for
// f64). The zero point (2^(bits-1), a packed uint8 value or a float) and the
// optional bias are lambdas the emitter writes, so one template serves every
// operand combination.
//
//===----------------------------------------------------------------------===//

#include "EmitterSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/LaunchConfig.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::codegen;

std::string kiln::codegen::nbitsZeroPoint(Operation *operation, StringRef in,
                                          StringRef n, StringRef j,
                                          StringRef accType) {
  auto op = cast<MatmulNBitsOp>(operation);
  int64_t bits = op.getBits();
  std::string cast = "(" + accType.str() + ")";
  Value zp = op.getZeroPoints();
  if (!zp)
    return cast + std::to_string(1 << (bits - 1));
  int64_t rowBytes = (op.getNumBlocks() * bits + 7) / 8;
  // n and j are identifiers or parenthesised expressions.
  std::string nn = n.str(), jj = j.str();
  if (eltOf(zp).isUnsignedInteger(8) && bits == 8)
    return cast + in.str() + "[" + nn + " * " + std::to_string(rowBytes) +
           " + " + jj + "]";
  if (eltOf(zp).isUnsignedInteger(8))
    return cast + "((" + in.str() + "[" + nn + " * " +
           std::to_string(rowBytes) + " + " + jj + " / 2] >> ((" + jj +
           " & 1) * 4)) & 15)";
  return cast + in.str() + "[" + nn + " * " +
         std::to_string(op.getNumBlocks()) + " + " + jj + "]";
}

static LogicalResult emitMatmulNBits(EmitContext &ctx, MatmulNBitsOp op) {
  int64_t k = op.getK(), n = op.getN(), block = op.getBlockSize();
  int64_t m = product(shapeOf(op.getInput())) / k;
  if (k % block != 0)
    return op.emitOpError("K = ")
           << k << " is not a multiple of block_size = " << block
           << "; the CUDA kernel needs whole blocks";
  SmallVector<Value> inputs = {op.getInput(), op.getWeight(), op.getScales()};
  auto acc = [&](Value v) -> FailureOr<std::string> {
    FailureOr<std::string> t = ctx.typeOf(v, op);
    if (failed(t))
      return failure();
    return *t == "double" ? std::string("double") : std::string("float");
  };
  FailureOr<std::string> accType = acc(op.getInput());
  if (failed(accType))
    return failure();
  std::string zero = "[](int64_t, int64_t) { return " +
                     nbitsZeroPoint(op, "", "n", "j", *accType) + "; }";
  if (op.getZeroPoints()) {
    std::string in = "in" + std::to_string(inputs.size());
    inputs.push_back(op.getZeroPoints());
    zero = "[&](int64_t n, int64_t j) { return " +
           nbitsZeroPoint(op, in, "n", "j", *accType) + "; }";
  }
  std::string bias = "[](int64_t) { return (" + *accType + ")0; }";
  if (Value b = op.getBias()) {
    std::string in = "in" + std::to_string(inputs.size());
    inputs.push_back(b);
    bias = "[&](int64_t n) { return (" + *accType + ")" + in + "[n]; }";
  }
  std::string body;
  llvm::raw_string_ostream os(body);
  bool gemv = isNBitsGemv(op);
  int64_t bits = op.getBits();
  // The GEMV subtracts an integer zero point exactly in one step; a float
  // one (IntZero = false) after the weight is converted.
  bool floatZero = op.getZeroPoints() && !eltOf(op.getZeroPoints()).isInteger();
  os << "  kiln::" << (gemv ? "matmulNBitsGemv" : "matmulNBits") << "<" << m
     << ", " << n << ", " << k << ", " << block << ", " << bits;
  if (gemv)
    os << ", " << nbitsGemvColumns(k * bits / 8)
       << (floatZero ? ", false" : "");
  os << ">(in0, in1, in2, out0,\n      "
     << zero << ",\n      " << bias << ");\n";
  return ctx.simpleKernel(op, inputs, {op.getResult()}, body);
}

std::optional<LogicalResult> kiln::codegen::emitQuantOp(EmitContext &ctx,
                                                        Operation *op) {
  if (auto q = dyn_cast<MatmulNBitsOp>(op))
    return emitMatmulNBits(ctx, q);
  return std::nullopt;
}
