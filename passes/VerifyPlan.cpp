//===- VerifyPlan.cpp - kiln-verify-plan pass -----------------------------===//
//
// Checks a function's memory plan (as written by kiln-plan-memory or by
// hand): every arena value has an aligned offset inside the arena and no two
// values live at the same time share bytes. The reusable core is
// kiln::verifyMemoryPlan, which the driver also runs before code generation.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/MemoryPlan.h"
#include "kiln/Transforms/Passes.h"

using namespace mlir;
using namespace kiln;

namespace kiln {
#define GEN_PASS_DEF_KILNVERIFYPLAN
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

/// Describes a planned value for a diagnostic: "argument #i" or "result #i".
static std::string describe(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    return "argument #" + std::to_string(arg.getArgNumber());
  auto result = cast<OpResult>(value);
  return "result #" + std::to_string(result.getResultNumber()) + " of '" +
         result.getOwner()->getName().getStringRef().str() + "'";
}

/// Emits an error at the op defining `value`, or at `func` for an argument.
static InFlightDiagnostic errorAt(func::FuncOp func, Value value) {
  if (Operation *def = value.getDefiningOp())
    return def->emitOpError();
  return func.emitOpError();
}

LogicalResult kiln::verifyMemoryPlan(func::FuncOp func, int64_t alignment) {
  FailureOr<MemoryPlan> plan = MemoryPlan::fromAttributes(func);
  if (failed(plan))
    return failure();
  bool ok = true;
  std::optional<int64_t> arena = plan->arenaBytes();
  if (!arena) {
    func.emitOpError("has no ") << kArenaBytesAttrName << " (not planned)";
    return failure();
  }
  for (Operation &op : func.getBody().front())
    if (isWeightLike(&op) && op.hasAttr(kArenaAttrName)) {
      op.emitOpError("lives in weights.bin and must not have a ")
          << kArenaAttrName << " offset";
      ok = false;
    }

  ArrayRef<PlannedBuffer> buffers = plan->buffers();
  for (const PlannedBuffer &buffer : buffers) {
    if (!buffer.offset) {
      errorAt(func, buffer.value)
          << describe(buffer.value) << " has no arena offset ("
          << kArenaAttrName << ")";
      ok = false;
      continue;
    }
    int64_t offset = *buffer.offset;
    if (offset < 0 || (alignment > 0 && offset % alignment != 0)) {
      errorAt(func, buffer.value)
          << describe(buffer.value) << " has offset " << offset
          << ", which is not a non-negative multiple of " << alignment;
      ok = false;
    }
    if (offset + buffer.size > *arena) {
      errorAt(func, buffer.value)
          << describe(buffer.value) << " occupies bytes [" << offset << ", "
          << offset + buffer.size << "), past " << kArenaBytesAttrName
          << " = " << *arena;
      ok = false;
    }
  }
  for (auto [i, a] : llvm::enumerate(buffers)) {
    for (const PlannedBuffer &b : buffers.drop_front(i + 1)) {
      if (!a.liveOverlaps(b) || !a.bytesOverlap(b))
        continue;
      InFlightDiagnostic diag = errorAt(func, b.value);
      diag << describe(b.value) << " at bytes [" << *b.offset << ", "
           << *b.offset + b.size << ") overlaps " << describe(a.value)
           << " at bytes [" << *a.offset << ", " << *a.offset + a.size
           << ") while both are live";
      if (Operation *def = a.value.getDefiningOp())
        diag.attachNote(def->getLoc()) << "the other value is defined here";
      ok = false;
    }
  }
  return success(ok);
}

namespace {
struct KilnVerifyPlanPass : kiln::impl::KilnVerifyPlanBase<KilnVerifyPlanPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (failed(verifyMemoryPlan(func, alignment)))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace
