//===- InPlace.cpp - which kernels may write over an input ----------------===//
//
// Implements kiln::mayWriteInPlace and kiln::kernelMayWriteInPlace: the ops
// whose kernel reads element i of an input before writing element i of a
// result, and nothing else of that input, so the two may share bytes (and
// kiln.gemm's residual, which cuBLASLt may overwrite with its result). The
// list is by op kind (one table, below) plus a check of the types; the
// reasons are in InPlace.h. A kernel body of several elementwise ops (a
// fusion) is checked use by use.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/InPlace.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>

using namespace mlir;
using namespace kiln;

/// Bytes one element of `type` takes in memory (i1 is one byte), for a
/// statically shaped tensor or memref of ints or floats.
static std::optional<int64_t> staticElementBytes(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasStaticShape() ||
      !shaped.getElementType().isIntOrFloat())
    return std::nullopt;
  return (shaped.getElementType().getIntOrFloatBitWidth() + 7) / 8;
}

/// True if `operand` and `result` lay out the same elements at the same
/// bytes: the same static shape and the same element byte width.
static bool sameElementLayout(Value operand, Value result) {
  std::optional<int64_t> in = staticElementBytes(operand.getType());
  std::optional<int64_t> out = staticElementBytes(result.getType());
  return in && out && *in == *out &&
         cast<ShapedType>(operand.getType()).getShape() ==
             cast<ShapedType>(result.getType()).getShape();
}

bool kiln::mayWriteInPlace(Operation *op, unsigned resultIndex,
                           unsigned operandIndex) {
  if (!op || resultIndex >= op->getNumResults() ||
      operandIndex >= op->getNumOperands())
    return false;
  Value operand = op->getOperand(operandIndex);
  Value result = op->getResult(resultIndex);
  if (isScalarMap(op))
    return sameElementLayout(operand, result);
  if (isa<ScatterNDOp>(op))
    return resultIndex == 0 && operandIndex == 0 &&
           sameElementLayout(operand, result);
  if (auto fusion = dyn_cast<FusionOp>(op))
    return sameElementLayout(operand, result) &&
           kernelMayWriteInPlace(fusion.getBody(), resultIndex, operandIndex);
  // cuBLASLt reads C (the residual) and writes D with the same layout; it
  // allows C == D.
  if (auto gemm = dyn_cast<GemmOp>(op))
    return gemm.getResidual() && resultIndex == 0 &&
           gemm.getResidualMutable()[0].getOperandNumber() == operandIndex &&
           sameElementLayout(operand, result);
  return false;
}

/// The rule for a body of several ops: each thread computes element i of
/// every op and reads element i of `arg` only if every op is elementwise,
/// every use of `arg` is by an op whose result has `arg`'s shape (no
/// broadcast read, which other threads would share) and element byte
/// width, and every yielded value has `arg`'s shape; `yielded` must lay
/// out its elements on `arg`'s bytes.
static bool fusedKernelMayWriteInPlace(Block &block, Value yielded,
                                       Value arg) {
  if (!sameElementLayout(arg, yielded))
    return false;
  Operation *terminator = &block.back();
  for (Operation &op : block.without_terminator())
    if (!isScalarMap(&op) || op.getNumResults() != 1)
      return false;
  ArrayRef<int64_t> shape = cast<ShapedType>(arg.getType()).getShape();
  for (Value v : terminator->getOperands())
    if (cast<ShapedType>(v.getType()).getShape() != shape)
      return false;
  bool used = false;
  for (OpOperand &use : arg.getUses()) {
    Operation *user = use.getOwner();
    if (user == terminator || !sameElementLayout(arg, user->getResult(0)))
      return false;
    used = true;
  }
  return used;
}

bool kiln::kernelMayWriteInPlace(Region &body, unsigned resultIndex,
                                 unsigned argIndex) {
  if (!body.hasOneBlock())
    return false;
  Block &block = body.front();
  if (block.empty() || argIndex >= block.getNumArguments())
    return false;
  Operation *terminator = &block.back();
  if (!terminator->hasTrait<OpTrait::IsTerminator>() ||
      resultIndex >= terminator->getNumOperands())
    return false;
  Value arg = block.getArgument(argIndex);
  Value yielded = terminator->getOperand(resultIndex);
  // A copy kernel writes back exactly the bytes it read.
  if (yielded == arg)
    return sameElementLayout(arg, yielded);
  // Several ops: a fused elementwise kernel (one thread per element of one
  // index space).
  if (&block.front() != terminator->getPrevNode())
    return fusedKernelMayWriteInPlace(block, yielded, arg);
  // Otherwise exactly one op, whose result is the yielded value.
  Operation *op = &block.front();
  auto result = dyn_cast<OpResult>(yielded);
  if (!result || result.getOwner() != op)
    return false;
  // The argument may feed several operands: each of them must allow it (a
  // broadcast use of the same bytes would be read by many threads).
  bool used = false;
  for (OpOperand &use : op->getOpOperands()) {
    if (use.get() != arg)
      continue;
    if (!mayWriteInPlace(op, result.getResultNumber(),
                         use.getOperandNumber()))
      return false;
    used = true;
  }
  return used;
}
