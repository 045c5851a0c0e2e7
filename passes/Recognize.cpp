//===- Recognize.cpp - kiln-recognize pass --------------------------------===//
//
// Rewrites exporter idioms into the dialect's high-level ops (Recognize.h)
// with the greedy driver; the kiln ops' folders run too, so shapes and
// constants the idioms need are folded first.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_KILNRECOGNIZE
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

void kiln::populateRecognizePatterns(RewritePatternSet &patterns) {
  populateRecognizeNormPatterns(patterns);
  populateRecognizeActivationPatterns(patterns);
  populateRecognizeRotaryPatterns(patterns);
  populateRecognizeAttentionPatterns(patterns);
}

namespace {
struct KilnRecognizePass : kiln::impl::KilnRecognizeBase<KilnRecognizePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kiln::populateRecognizePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      getOperation()->emitWarning() << "kiln-recognize did not converge";
  }
};
} // namespace
