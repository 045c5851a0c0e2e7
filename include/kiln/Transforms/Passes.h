//===- Passes.h - kiln pass entry points ------------------------*- C++ -*-===//
//
// Declares every kiln pass and the pattern-population functions behind them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TRANSFORMS_PASSES_H
#define KILN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

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

/// Adds the graph-level passes of kiln-compile (after import, before
/// planning) to `pm`, which must run on a module.
void buildGraphPipeline(mlir::OpPassManager &pm);

/// Adds planning and its verifier (on every function) to `pm`.
void buildSchedulePipeline(mlir::OpPassManager &pm);

/// Adds everything kiln-compile runs between loading and code emission:
/// buildGraphPipeline, then buildSchedulePipeline. The one definition of the
/// pipeline; registered as `kiln-compile-pipeline`.
void buildCompilePipeline(mlir::OpPassManager &pm);

/// Registers `kiln-compile-pipeline` and `kiln-graph-pipeline` for
/// `--pass-pipeline` and as `kiln-opt` flags.
void registerKilnPipelines();

/// Adds the kiln ops' canonicalisation patterns to `patterns`.
void populateSimplifyPatterns(mlir::RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "kiln/Transforms/Passes.h.inc"

} // namespace kiln

#endif // KILN_TRANSFORMS_PASSES_H
