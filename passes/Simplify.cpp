//===- Simplify.cpp - kiln-simplify pass ----------------------------------===//
//
// Runs the kiln ops' folders and canonicalisation patterns to a fixed point.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_KILNSIMPLIFY
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

void kiln::populateSimplifyPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  for (RegisteredOperationName name : ctx->getRegisteredOperations())
    if (name.getDialectNamespace() == KilnDialect::getDialectNamespace())
      name.getCanonicalizationPatterns(patterns, ctx);
}

namespace {
struct KilnSimplifyPass : kiln::impl::KilnSimplifyBase<KilnSimplifyPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kiln::populateSimplifyPatterns(patterns);
    GreedyRewriteConfig config;
    config.setMaxIterations(maxIterations);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      getOperation()->emitWarning()
          << "kiln-simplify did not converge in " << maxIterations.getValue()
          << " iterations";
  }
};
} // namespace
