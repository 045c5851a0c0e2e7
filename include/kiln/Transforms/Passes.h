//===- Passes.h - kiln pass entry points ------------------------*- C++ -*-===//
//
// Declares every kiln pass and the pattern-population functions behind them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_PASSES_H
#define KILN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace kiln {

#define GEN_PASS_DECL
#include "kiln/Transforms/Passes.h.inc"

/// Checks the memory plan stored in `func`'s kiln.arena attributes: every
/// arena value planned, aligned to `alignment`, inside kiln.arena_bytes, and
/// no two values live at the same time overlapping. Reports each violation
/// at the op (or function) concerned.
llvm::LogicalResult verifyMemoryPlan(mlir::func::FuncOp func,
                                     int64_t alignment = 256);

/// Adds the kiln ops' canonicalisation patterns to `patterns`.
void populateSimplifyPatterns(mlir::RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "kiln/Transforms/Passes.h.inc"

} // namespace kiln

#endif // KILN_TRANSFORMS_PASSES_H
