//===- KilnIndexOps.cpp - ops that select or accumulate along an axis -----===//
//
// Type inference and verifiers of kiln.gather_elements, kiln.arg_max,
// kiln.arg_min, kiln.cumsum and kiln.top_k (KilnIndexOps.td). Every
// diagnostic is emitted at the op and says what was expected.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;

namespace {
RankedTensorType rtt(Value v) { return cast<RankedTensorType>(v.getType()); }

std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

/// `axis` must be in [0, rank).
LogicalResult checkAxis(std::optional<Location> loc, StringRef opName,
                        int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "'", opName, "' op axis ", axis,
                             " is out of range [0, ", rank, ")");
  return success();
}
} // namespace

LogicalResult GatherElementsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  auto data = rtt(adaptor.getData()), idx = rtt(adaptor.getIndices());
  StringRef name = getOperationName();
  if (failed(checkAxis(loc, name, (int64_t)adaptor.getAxis(), data.getRank())))
    return failure();
  if (idx.getRank() != data.getRank())
    return emitOptionalError(loc, "'", name, "' op indices have rank ",
                             idx.getRank(), ", expected the data's rank ",
                             data.getRank());
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != (int64_t)adaptor.getAxis() && idx.getDimSize(d) > data.getDimSize(d))
      return emitOptionalError(loc, "'", name, "' op indices shape ",
                               shapeStr(idx.getShape()),
                               " is larger than the data shape ",
                               shapeStr(data.getShape()), " in dim ", d);
  results.push_back(RankedTensorType::get(idx.getShape(), data.getElementType()));
  return success();
}

namespace {
LogicalResult inferArgReduce(std::optional<Location> loc, StringRef name,
                             RankedTensorType in, int64_t axis, bool keepdims,
                             SmallVectorImpl<Type> &results) {
  if (failed(checkAxis(loc, name, axis, in.getRank())))
    return failure();
  if (in.getDimSize(axis) == 0)
    return emitOptionalError(loc, "'", name, "' op reduces an empty axis ",
                             axis, " (nothing to select)");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (d != axis)
      shape.push_back(in.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  results.push_back(
      RankedTensorType::get(shape, IntegerType::get(in.getContext(), 64)));
  return success();
}
} // namespace

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  return inferArgReduce(loc, getOperationName(), rtt(adaptor.getInput()),
                        (int64_t)adaptor.getAxis(), adaptor.getKeepdims(),
                        results);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  return inferArgReduce(loc, getOperationName(), rtt(adaptor.getInput()),
                        (int64_t)adaptor.getAxis(), adaptor.getKeepdims(),
                        results);
}

template <typename OpTy> static LogicalResult verifyCumAxis(OpTy op) {
  int64_t rank = op.getInput().getType().getRank();
  if ((int64_t)op.getAxis() < 0 || (int64_t)op.getAxis() >= rank)
    return op.emitOpError("axis ") << (int64_t)op.getAxis()
                                   << " is out of range [0, " << rank << ")";
  return success();
}

LogicalResult CumsumOp::verify() { return verifyCumAxis(*this); }
LogicalResult CumprodOp::verify() { return verifyCumAxis(*this); }

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto in = rtt(adaptor.getInput());
  StringRef name = getOperationName();
  int64_t axis = (int64_t)adaptor.getAxis(), k = (int64_t)adaptor.getK();
  if (failed(checkAxis(loc, name, axis, in.getRank())))
    return failure();
  if (k < 0 || k > in.getDimSize(axis))
    return emitOptionalError(loc, "'", name, "' op k = ", k,
                             " is out of range [0, ", in.getDimSize(axis),
                             "] (the size of axis ", axis, ")");
  SmallVector<int64_t> shape(in.getShape());
  shape[axis] = k;
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  results.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  auto data = rtt(adaptor.getData()), idx = rtt(adaptor.getIndices()),
       upd = rtt(adaptor.getUpdates());
  StringRef name = getOperationName();
  int64_t axis = (int64_t)adaptor.getAxis();
  if (failed(checkAxis(loc, name, axis, data.getRank())))
    return failure();
  if (idx.getShape() != upd.getShape() ||
      upd.getElementType() != data.getElementType())
    return emitOptionalError(loc, "'", name, "' op updates must be ",
                             shapeStr(idx.getShape()),
                             " (the indices' shape) of the data's element "
                             "type, got ",
                             shapeStr(upd.getShape()));
  if (idx.getRank() != data.getRank())
    return emitOptionalError(loc, "'", name, "' op indices have rank ",
                             idx.getRank(), ", expected the data's rank ",
                             data.getRank());
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != axis && idx.getDimSize(d) > data.getDimSize(d))
      return emitOptionalError(loc, "'", name, "' op indices shape ",
                               shapeStr(idx.getShape()),
                               " is larger than the data shape ",
                               shapeStr(data.getShape()), " in dim ", d);
  results.push_back(data);
  return success();
}
