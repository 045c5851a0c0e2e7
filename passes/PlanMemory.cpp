//===- PlanMemory.cpp - kiln-plan-memory pass -----------------------------===//
//
// Thin pass over kiln::MemoryPlan: computes liveness and the placement of
// every arena value of a function (views aliased, elementwise results written
// in place over dead operands unless in-place=false; greedy by size and a few
// other orders, the smallest arena kept; docs/memory-plan.md) and writes the
// plan as attributes
// (the scheduled level, docs/scheduled-ir.md).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_KILNPLANMEMORY
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

namespace {
struct KilnPlanMemoryPass
    : kiln::impl::KilnPlanMemoryBase<KilnPlanMemoryPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (alignment <= 0 || !llvm::isPowerOf2_64(alignment)) {
      func.emitError() << "kiln-plan-memory: alignment must be a positive "
                          "power of two, got "
                       << alignment;
      return signalPassFailure();
    }
    kiln::MemoryPlanOptions options;
    options.alignment = alignment;
    options.inPlace = inPlace;
    FailureOr<kiln::MemoryPlan> plan = kiln::MemoryPlan::compute(func, options);
    if (failed(plan))
      return signalPassFailure();
    plan->apply(func);
  }
};
} // namespace
