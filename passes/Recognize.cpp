//===- Recognize.cpp - kiln-recognize pass --------------------------------===//
//
// Rewrites exporter idioms into the dialect's high-level ops (Recognize.h)
// with the greedy driver; the kiln ops' folders run too, so shapes and
// constants the idioms need are folded first. With `remarks`, a listener on
// the driver turns the patterns' near misses into remarks.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/Recognize.h"

#include "RecognizeSupport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

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
/// Reports the patterns' near misses (recognize::nearMiss) as remarks, once
/// per op and reason.
struct NearMissRemarks : RewriterBase::Listener {
  void notifyMatchFailure(
      Location loc,
      function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic reason(loc, DiagnosticSeverity::Remark);
    reasonCallback(reason);
    std::string text = reason.str();
    StringRef why(text);
    if (!why.consume_front(kiln::recognize::kNearMiss))
      return;
    std::string key;
    llvm::raw_string_ostream os(key);
    os << loc << "\n" << why;
    if (seen.insert(key).second)
      emitRemark(loc) << "kiln-recognize: not rewritten: " << why;
  }
  llvm::StringSet<> seen;
};

struct KilnRecognizePass : kiln::impl::KilnRecognizeBase<KilnRecognizePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    kiln::populateRecognizePatterns(patterns);
    NearMissRemarks listener;
    GreedyRewriteConfig config;
    if (remarks)
      config.setListener(&listener);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      getOperation()->emitWarning() << "kiln-recognize did not converge";
  }
};
} // namespace
