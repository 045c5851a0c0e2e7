//===- VerifyPlan.cpp - kiln-verify-plan pass -----------------------------===//
//
// Checks a function's memory plan (as written by kiln-plan-memory or by
// hand): every arena value has an aligned offset inside the arena, no two
// values live at the same time share bytes unless one is an alias of the
// other (a view at its operand's offset, kiln::viewSource) or written in
// place over it (a result at the offset of an operand whose storage dies at
// the op, where kiln::mayWriteInPlace allows it), and no output
// shares bytes with an input or another output. The reusable core is
// kiln::verifyMemoryPlan, which the driver also runs before code generation;
// the checks on the intervals are kiln::checkPlacement's (MemoryPlan.h).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/InPlace.h"
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

/// Prints the end `offset + size` of a byte range without overflowing (the
/// offset comes from an attribute and may be anything).
static std::string endOf(int64_t offset, int64_t size) {
  if (offset < 0)
    return std::to_string(offset + size);
  return std::to_string(static_cast<uint64_t>(offset) +
                        static_cast<uint64_t>(size));
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

  // The checks themselves are kiln::checkPlacement's; here each violation is
  // reported at the op (or function) it concerns.
  ArrayRef<PlannedBuffer> buffers = plan->buffers();
  SmallVector<std::optional<int64_t>> offsets;
  for (const PlannedBuffer &buffer : buffers)
    offsets.push_back(buffer.offset);
  for (const PlacementViolation &violation :
       checkPlacement(plan->intervals(), offsets, *arena, alignment,
                      plan->storageClasses())) {
    ok = false;
    const PlannedBuffer &b = buffers[violation.index];
    switch (violation.kind) {
    case PlacementViolation::Kind::Unplanned:
      errorAt(func, b.value) << describe(b.value) << " has no arena offset ("
                             << kArenaAttrName << ")";
      break;
    case PlacementViolation::Kind::Misaligned:
      errorAt(func, b.value)
          << describe(b.value) << " has offset " << *b.offset
          << ", which is not a non-negative multiple of " << alignment;
      break;
    case PlacementViolation::Kind::OutOfBounds:
      errorAt(func, b.value)
          << describe(b.value) << " occupies bytes [" << *b.offset << ", "
          << endOf(*b.offset, b.size) << "), past " << kArenaBytesAttrName
          << " = " << *arena;
      break;
    case PlacementViolation::Kind::Overlap: {
      const PlannedBuffer &a = buffers[violation.other];
      InFlightDiagnostic diag = errorAt(func, b.value);
      diag << describe(b.value) << " at bytes [" << *b.offset << ", "
           << endOf(*b.offset, b.size) << ") overlaps " << describe(a.value)
           << " at bytes [" << *a.offset << ", " << endOf(*a.offset, a.size)
           << ") while both are live";
      if (Operation *def = a.value.getDefiningOp())
        diag.attachNote(def->getLoc()) << "the other value is defined here";
      // A result over one of its own op's operands: say why it is not an
      // in-place write.
      auto result = dyn_cast<OpResult>(b.value);
      if (result && *a.offset == *b.offset && a.size == b.size)
        for (OpOperand &use : result.getOwner()->getOpOperands()) {
          if (use.get() != a.value)
            continue;
          if (!mayWriteInPlace(result.getOwner(), result.getResultNumber(),
                               use.getOperandNumber()))
            diag.attachNote() << "its kernel may not write it in place over "
                                 "operand #"
                              << use.getOperandNumber();
          else
            diag.attachNote() << "operand #" << use.getOperandNumber()
                              << " is an input, or its storage is read after "
                                 "the op or by another operand of it, so it "
                                 "cannot be written in place";
          break;
        }
      break;
    }
    }
  }

  // Aliases are exempt from the overlap check, so liveness alone no longer
  // keeps inputs and outputs apart: no returned value may share its storage
  // with an argument or another returned value (the runtime copies inputs in
  // before a step and outputs out after it; the manifest loader refuses
  // overlapping bindings).
  Operation *terminator = func.getBody().front().getTerminator();
  SmallVector<unsigned> classes = plan->storageClasses();
  DenseMap<unsigned, Value> ownerOfClass;
  auto classOf = [&](Value v) -> std::optional<unsigned> {
    if (const PlannedBuffer *b = plan->lookup(v))
      return classes[b - buffers.data()];
    return std::nullopt;
  };
  for (BlockArgument arg : func.getArguments())
    if (std::optional<unsigned> c = classOf(arg))
      ownerOfClass.try_emplace(*c, arg);
  for (auto [i, v] : llvm::enumerate(terminator->getOperands())) {
    std::optional<unsigned> c = classOf(v);
    if (!c)
      continue;
    auto [it, inserted] = ownerOfClass.try_emplace(*c, v);
    if (inserted || it->second == v)
      continue;
    terminator->emitOpError("returns value #")
        << i << " (" << describe(v) << "), an alias of the bytes of "
        << describe(it->second)
        << ", which is also an input or output; inputs and outputs must not "
           "share bytes";
    ok = false;
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
