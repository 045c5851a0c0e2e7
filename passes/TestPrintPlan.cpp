//===- TestPrintPlan.cpp - kiln-test-print-plan pass ----------------------===//
//
// Prints the kiln::MemoryPlan analysis of each function: the arena size, its
// lower bound and (when the plan is computed, not read back) the placement
// strategy that won, then one line per arena value (`offset = O, size = S,
// live = [a, b]`, then `, alias of V` for an alias or `, in place of operand
// #k, storage of V` for a result written over an operand, V the value owning
// its bytes), so lit tests can check the planner with FileCheck.
// Modelled on Triton's TestAllocation.
//
//===----------------------------------------------------------------------===//

#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace kiln {
#define GEN_PASS_DEF_KILNTESTPRINTPLAN
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

namespace {
struct KilnTestPrintPlanPass
    : kiln::impl::KilnTestPrintPlanBase<KilnTestPrintPlanPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    FailureOr<kiln::MemoryPlan> plan =
        fromAttributes ? kiln::MemoryPlan::fromAttributes(func)
                       : kiln::MemoryPlan::compute(
                             func, kiln::MemoryPlanOptions{
                                       kiln::kArenaAlignment, inPlace});
    if (failed(plan))
      return signalPassFailure();
    raw_ostream &os = llvm::outs();
    os << "plan @" << func.getSymName() << ": arena_bytes = ";
    if (plan->arenaBytes())
      os << *plan->arenaBytes();
    else
      os << "none";
    os << ", lower_bound = "
       << kiln::arenaLowerBound(plan->storageIntervals(),
                                kiln::kArenaAlignment);
    if (plan->strategy())
      os << ", strategy = " << plan->strategy()->name();
    os << "\n";
    auto describe = [&](Value value) {
      if (auto arg = dyn_cast<BlockArgument>(value)) {
        os << "arg #" << arg.getArgNumber();
        return;
      }
      auto result = cast<OpResult>(value);
      os << result.getOwner()->getName() << " #" << result.getResultNumber();
    };
    for (const kiln::PlannedBuffer &buffer : plan->buffers()) {
      os << "  ";
      describe(buffer.value);
      os << ": offset = ";
      if (buffer.offset)
        os << *buffer.offset;
      else
        os << "none";
      os << ", size = " << buffer.size << ", live = [" << buffer.firstLive
         << ", " << buffer.lastLive << "]";
      if (buffer.aliasOf) {
        os << ", alias of ";
        describe(plan->buffers()[*buffer.aliasOf].value);
      }
      if (buffer.inPlaceOf) {
        os << ", in place of operand #" << *buffer.inPlaceOperand
           << ", storage of ";
        describe(plan->buffers()[*buffer.inPlaceOf].value);
      }
      os << "\n";
    }
    markAllAnalysesPreserved();
  }
};
} // namespace
