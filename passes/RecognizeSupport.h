//===- RecognizeSupport.h - helpers the kiln-recognize patterns share -*- C++ -*-===//
//
// Internal to passes/: small matchers every idiom family of kiln-recognize
// (Recognize*.cpp) uses.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PASSES_RECOGNIZESUPPORT_H
#define KILN_PASSES_RECOGNIZESUPPORT_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"

#include <array>
#include <optional>
#include <utility>

namespace kiln::recognize {

/// The prefix of a near miss's match-failure reason: the idiom's structure
/// matched, but a condition that makes the rewrite exact does not hold, so
/// the graph stays as it is. kiln-recognize's `remarks` option (kiln-compile
/// --kiln-remarks) reports these, and only these, as remarks at the op.
inline constexpr llvm::StringLiteral kNearMiss = "near miss: ";

/// Fails the match at `op` as a near miss saying `why`.
inline llvm::LogicalResult nearMiss(mlir::PatternRewriter &rewriter,
                                    mlir::Operation *op,
                                    const llvm::Twine &why) {
  return rewriter.notifyMatchFailure(op, llvm::Twine(kNearMiss) + why);
}

/// The value of a constant with one float element (of any shape), if `v` is
/// one.
inline std::optional<double> scalarFloatConstant(mlir::Value v) {
  mlir::Attribute attr;
  if (!v || !mlir::matchPattern(v, mlir::m_Constant(&attr)))
    return std::nullopt;
  auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() != 1 ||
      !llvm::isa<mlir::FloatType>(dense.getElementType()))
    return std::nullopt;
  return (*dense.getValues<llvm::APFloat>().begin()).convertToDouble();
}

/// The static shape of a ranked tensor value.
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType()).getShape();
}

/// A kiln.constant of shape `shape` and float element type `elt`, every
/// element `value`.
inline mlir::Value splatConstant(mlir::OpBuilder &b, mlir::Location loc,
                                 llvm::ArrayRef<int64_t> shape, mlir::Type elt,
                                 double value) {
  return ConstantOp::create(
      b, loc,
      mlir::DenseElementsAttr::get(mlir::RankedTensorType::get(shape, elt),
                                   b.getFloatAttr(elt, value)));
}

/// The two orders of a commutative op's operands, `(a, b)` then `(b, a)`,
/// for a pattern that tries each operand in a role:
/// `for (auto [x, s] : bothOrders(mul.getLhs(), mul.getRhs()))`.
template <typename T>
inline std::array<std::pair<T, T>, 2> bothOrders(T a, T b) {
  return {std::make_pair(a, b), std::make_pair(b, a)};
}

} // namespace kiln::recognize

#endif // KILN_PASSES_RECOGNIZESUPPORT_H
