//===- KilnFusedOps.cpp - kiln.fusion, kiln.yield and kiln.gemm -----------===//
//
// Verifiers and result-type inference for the fused-level ops: the region op
// that becomes one kernel (kiln.fusion and its terminator) and the cuBLASLt
// library call (kiln.gemm). Every diagnostic is located at the op.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace kiln;

static std::string dimsStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape))
    s += (i ? "x" : "") + std::to_string(d);
  return s + "]";
}

bool kiln::isStridedBatch(ArrayRef<int64_t> dims, ArrayRef<int64_t> batch) {
  if (dims.size() > batch.size())
    return false;
  SmallVector<int64_t> padded(batch.size() - dims.size(), 1);
  llvm::append_range(padded, dims);
  if (ArrayRef<int64_t>(padded) == batch)
    return true;
  return llvm::all_of(dims, [](int64_t d) { return d == 1; });
}

//===----------------------------------------------------------------------===//
// FusionOp
//===----------------------------------------------------------------------===//

YieldOp kiln::yieldOf(Region &body) {
  if (body.empty() || body.front().empty())
    return nullptr;
  return dyn_cast<YieldOp>(body.front().back());
}

YieldOp FusionOp::getYield() { return yieldOf(getBody()); }

LogicalResult FusionOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("has ")
           << getInputs().size() << " inputs but its body has "
           << body.getNumArguments() << " block arguments";
  for (auto [i, in, arg] : llvm::enumerate(getInputs(), body.getArguments()))
    if (in.getType() != arg.getType())
      return emitOpError("block argument #")
             << i << " has type " << arg.getType() << ", input #" << i
             << " has type " << in.getType();
  return success();
}

LogicalResult FusionOp::verifyRegions() {
  // The block's terminator is checked before this runs (MLIR reports a
  // block with no terminator), and kiln.yield is the only kiln terminator.
  for (Operation &op : getBody().front()) {
    if (isa<YieldOp>(op))
      continue;
    if (!isa_and_present<KilnDialect>(op.getDialect()))
      return emitOpError("body op '")
             << op.getName() << "' is not a graph-level kiln op";
    if (isa<FusionOp, GemmOp>(op))
      return emitOpError("body holds '")
             << op.getName() << "': fusions and library calls do not nest";
    if (isa<WeightOp>(op))
      return emitOpError(
          "body holds a kiln.weight: weights are operands of the fusion");
  }
  YieldOp yield = getYield();
  if (!yield)
    return failure(); // reported above, as a foreign terminator
  if (yield.getValues().size() != getNumResults())
    return emitOpError("yields ")
           << yield.getValues().size() << " values but has " << getNumResults()
           << " results";
  for (auto [i, v, t] : llvm::enumerate(yield.getValues(), getResultTypes()))
    if (v.getType() != t)
      return emitOpError("yields ")
             << v.getType() << " as result #" << i << " of type " << t;
  return success();
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto a = cast<ShapedType>(adaptor.getA().getType());
  auto b = cast<ShapedType>(adaptor.getB().getType());
  if (a.getRank() < 2 || b.getRank() < 2)
    return emitOptionalError(loc,
                             "'kiln.gemm' op operands must have rank "
                             ">= 2, got ",
                             a.getRank(), " and ", b.getRank());
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(
        loc, "'kiln.gemm' op a and b have different element types");
  bool t = adaptor.getTransposeB();
  ArrayRef<int64_t> as = a.getShape(), bs = b.getShape();
  int64_t m = as[as.size() - 2], k = as.back();
  int64_t kb = t ? bs.back() : bs[bs.size() - 2];
  int64_t n = t ? bs[bs.size() - 2] : bs.back();
  if (k != kb)
    return emitOptionalError(loc,
                             "'kiln.gemm' op contraction dims differ: "
                             "a K = ",
                             k, ", b K = ", kb);
  auto batch = broadcastShapes(as.drop_back(2), bs.drop_back(2));
  if (failed(batch))
    return emitOptionalError(
        loc, "'kiln.gemm' op batch dims ", dimsStr(as.drop_back(2)), " and ",
        dimsStr(bs.drop_back(2)), " are not broadcast-compatible");
  // The buffer form writes its `outs` operand and has no result.
  if (isa<MemRefType>(a) || adaptor.getOut())
    return success();
  SmallVector<int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(n);
  results.push_back(RankedTensorType::get(shape, a.getElementType()));
  return success();
}

ShapedType GemmOp::getProductType() {
  if (Value out = getOut())
    return cast<ShapedType>(out.getType());
  return cast<ShapedType>(getResult().getType());
}

LogicalResult GemmOp::verify() {
  // The two forms do not mix: all tensors and a result, or all buffers and
  // `outs`.
  bool buffers = isa<MemRefType>(getA().getType());
  for (Value v : getOperation()->getOperands())
    if (isa<MemRefType>(v.getType()) != buffers)
      return emitOpError("mixes tensor and buffer operands");
  if (buffers && !getOut())
    return emitOpError("on buffers needs an `outs` buffer");
  auto at = cast<ShapedType>(getA().getType());
  auto bt = cast<ShapedType>(getB().getType());
  // Ranks, element types, K and broadcast compatibility are inferReturnTypes'
  // to report; this checks what holds once they are right.
  if (at.getRank() < 2 || bt.getRank() < 2)
    return success();
  ArrayRef<int64_t> aDims = at.getShape().drop_back(2);
  ArrayRef<int64_t> bDims = bt.getShape().drop_back(2);
  FailureOr<SmallVector<int64_t>> batch = broadcastShapes(aDims, bDims);
  if (failed(batch))
    return success();
  ShapedType result = getProductType();
  if (buffers) {
    bool transB = getTransposeB();
    SmallVector<int64_t> shape = *batch;
    shape.push_back(at.getShape()[at.getRank() - 2]);
    shape.push_back(transB ? bt.getShape()[bt.getRank() - 2]
                           : bt.getShape().back());
    if (result.getShape() != ArrayRef<int64_t>(shape) ||
        result.getElementType() != at.getElementType())
      return emitOpError("outs must be ")
             << dimsStr(shape) << " of " << at.getElementType() << ", got "
             << result;
  }
  for (auto [name, dims] :
       {std::pair<StringRef, ArrayRef<int64_t>>{"a", aDims},
        std::pair<StringRef, ArrayRef<int64_t>>{"b", bDims}})
    if (!isStridedBatch(dims, *batch))
      return emitOpError("batch dims of ")
             << name << " " << dimsStr(dims) << " are neither the result's "
             << dimsStr(*batch)
             << " nor all 1, which a strided batched GEMM cannot read";
  int64_t n =
      getTransposeB() ? bt.getShape()[bt.getRank() - 2] : bt.getShape().back();
  if (Value bias = getBias()) {
    auto biasType = cast<ShapedType>(bias.getType());
    if (biasType.getElementType() != at.getElementType())
      return emitOpError("bias element type ")
             << biasType.getElementType() << " differs from a's "
             << at.getElementType();
    if (biasType.getRank() != 1 || biasType.getShape()[0] != n)
      return emitOpError("bias must be [")
             << n << "], got " << dimsStr(biasType.getShape());
  }
  if (Value residual = getResidual()) {
    auto r = cast<ShapedType>(residual.getType());
    if (r.getShape() != result.getShape() ||
        r.getElementType() != result.getElementType())
      return emitOpError("residual must have the result's type ")
             << result << ", got " << residual.getType();
  }
  return success();
}

void GemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!hasBufferSemantics())
    return; // The tensor form is a value: no effects.
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (operand.get() == getOut() &&
        operand.getOperandNumber() == getOperation()->getNumOperands() - 1)
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           BufferResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           BufferResource::get());
  }
}

Speculation::Speculatability GemmOp::getSpeculatability() {
  return hasBufferSemantics() ? Speculation::NotSpeculatable
                              : Speculation::Speculatable;
}
