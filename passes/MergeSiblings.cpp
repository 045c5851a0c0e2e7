//===- MergeSiblings.cpp - kiln-merge-siblings pass -----------------------===//
//
// Horizontal fusion of elementwise kernels. kiln-form-fusions groups a
// producer into its consumers; two elementwise fusions that read the same
// input but feed different consumers (a rotary table's cos and sin, both
// computed from the positions and inv_freq) stay two kernels. This pass
// merges such siblings into one fusion yielding both results: one launch,
// the shared input read by one kernel. Run last among the fused-level
// passes, after kiln-gemv has taken the elementwise epilogues it wants.
//
// Two rules, both matched structurally on fusions of one block where every
// input of the later one is defined before the earlier one (so neither
// reads the other and the merged fusion can stand where the earlier one
// stood; for the independent rule, ops free of memory effects that define
// the later one's inputs between them, such as a reshape of a function
// argument or a kiln.weight, move up first); each output is computed as
// before:
//  - siblings: bodies of scalar maps only (ElementwiseOpInterface,
//    kiln.cast, kiln.where) whose yielded values all have one shape, the
//    same for both, reading at least one common value;
//  - small independent launches (option `independent`, on by default):
//    bodies of scalar maps and gathers or slices of their arguments (the
//    leaves codegen's fused kernels read) whose every yielded value has at
//    most kMergeIndependentMaxElements elements, in any shapes, with or
//    without a common input. A decode step starts with three such kernels
//    (the rotary table, the mask, the embedding row), each a launch
//    boundary of its own; merged, they are one kernel of one loop per
//    shape (codegen/EmitFused.cpp).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/FusionMerge.h"
#include "kiln/Transforms/LaunchConfig.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMERGESIBLINGS
#include "kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The shape every value `fusion` yields has, if its body holds only scalar
/// maps and its yielded values share one shape.
std::optional<ArrayRef<int64_t>> elementwiseShape(FusionOp fusion) {
  Block &body = fusion.getBody().front();
  for (Operation &op : body.without_terminator())
    if (!isScalarMap(&op) ||
        op.getNumResults() != 1)
      return std::nullopt;
  ValueRange yields = fusion.getYield().getValues();
  if (yields.empty())
    return std::nullopt;
  ArrayRef<int64_t> shape = cast<ShapedType>(yields[0].getType()).getShape();
  for (Value v : yields)
    if (cast<ShapedType>(v.getType()).getShape() != shape)
      return std::nullopt;
  return shape;
}

/// Whether `fusion` is a small elementwise launch for the independent rule:
/// its body holds scalar maps and gathers or slices of its block arguments,
/// and every value it yields has at most kMergeIndependentMaxElements
/// elements.
bool isSmallElementwise(FusionOp fusion) {
  Block &body = fusion.getBody().front();
  for (Operation &op : body.without_terminator()) {
    if (isa<GatherOp, SliceOp>(op)) {
      if (!llvm::all_of(op.getOperands(),
                        [](Value v) { return isa<BlockArgument>(v); }))
        return false;
      continue;
    }
    if (!isScalarMap(&op) || op.getNumResults() != 1)
      return false;
  }
  ValueRange yields = fusion.getYield().getValues();
  return !yields.empty() && llvm::all_of(yields, [](Value v) {
    auto t = cast<ShapedType>(v.getType());
    return t.hasStaticShape() &&
           t.getNumElements() <= kMergeIndependentMaxElements;
  });
}

/// Whether `v` is defined before `op` (a block argument of the function, or
/// an op earlier in `op`'s block).
bool definedBefore(Value v, Operation *op) {
  if (isa<BlockArgument>(v))
    return true; // The function's arguments (fusions are in its body).
  Operation *def = v.getDefiningOp();
  return def->getBlock() == op->getBlock() && def->isBeforeInBlock(op);
}

/// For the independent rule: the ops to move before `first` so that `v`
/// is defined there, appended to `hoist` (operands first); false if `v`
/// is defined after `first` by an op with memory effects or regions (a
/// kiln.reshape of a function argument, a kiln.weight or a kiln.constant
/// move; another kernel does not).
bool hoistable(Value v, Operation *first,
               llvm::SetVector<Operation *> &hoist) {
  if (definedBefore(v, first))
    return true;
  Operation *def = v.getDefiningOp();
  if (hoist.contains(def))
    return true;
  if (def->getBlock() != first->getBlock() || def->getNumRegions() ||
      !isMemoryEffectFree(def))
    return false;
  for (Value operand : def->getOperands())
    if (!hoistable(operand, first, hoist))
      return false;
  hoist.insert(def);
  return true;
}

/// Merges the first pair of siblings found in `block`, then (with
/// `independent`) the first pair of small independent launches; false if
/// none.
bool mergeOnePair(Block &block, bool independent) {
  // The elementwise fusions with their index spaces, each body walked once.
  SmallVector<std::pair<FusionOp, ArrayRef<int64_t>>> fusions;
  SmallVector<FusionOp> small;
  for (Operation &op : block)
    if (auto f = dyn_cast<FusionOp>(op)) {
      if (std::optional<ArrayRef<int64_t>> shape = elementwiseShape(f))
        fusions.push_back({f, *shape});
      if (independent && isSmallElementwise(f))
        small.push_back(f);
    }
  for (size_t i = 0; i < fusions.size(); ++i) {
    FusionOp first = fusions[i].first;
    ArrayRef<int64_t> shape = fusions[i].second;
    llvm::SmallPtrSet<Value, 8> firstInputs(first.getInputs().begin(),
                                            first.getInputs().end());
    for (size_t j = i + 1; j < fusions.size(); ++j) {
      FusionOp second = fusions[j].first;
      if (fusions[j].second != shape)
        continue;
      ValueRange inputs = second.getInputs();
      if (llvm::none_of(inputs, [&](Value v) { return firstInputs.contains(v); }))
        continue;
      if (!llvm::all_of(inputs, [&](Value v) { return definedBefore(v, first); }))
        continue;
      if (mergeFusions({first, second}, first,
                       [](FusionOp) { return true; }))
        return true;
    }
  }
  for (size_t i = 0; i < small.size(); ++i)
    for (size_t j = i + 1; j < small.size(); ++j) {
      FusionOp first = small[i], second = small[j];
      llvm::SetVector<Operation *> hoist;
      if (!llvm::all_of(second.getInputs(), [&](Value v) {
            return hoistable(v, first, hoist);
          }))
        continue;
      for (Operation *op : hoist)
        op->moveBefore(first);
      if (mergeFusions({first, second}, first,
                       [](FusionOp) { return true; }))
        return true;
    }
  return false;
}

struct KilnMergeSiblingsPass
    : kiln::impl::KilnMergeSiblingsBase<KilnMergeSiblingsPass> {
  using Base::Base;
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      while (mergeOnePair(block, independent)) {
      }
  }
};

} // namespace
