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
// Matched structurally: two fusions of one block whose bodies hold only
// scalar maps (ElementwiseOpInterface, kiln.cast, kiln.where) and whose
// yielded values all have one shape, the same for both; they read at least
// one common value, and every input of the later one is defined before the
// earlier one (so neither reads the other and the merged fusion can stand
// where the earlier one stood). Each output is computed as before.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Transforms/FusionMerge.h"
#include "kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

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

/// Whether `v` is defined before `op` (a block argument of the function, or
/// an op earlier in `op`'s block).
bool definedBefore(Value v, Operation *op) {
  if (isa<BlockArgument>(v))
    return true; // The function's arguments (fusions are in its body).
  Operation *def = v.getDefiningOp();
  return def->getBlock() == op->getBlock() && def->isBeforeInBlock(op);
}

/// Merges the first pair of siblings found in `block`; false if none.
bool mergeOnePair(Block &block) {
  // The elementwise fusions with their index spaces, each body walked once.
  SmallVector<std::pair<FusionOp, ArrayRef<int64_t>>> fusions;
  for (Operation &op : block)
    if (auto f = dyn_cast<FusionOp>(op))
      if (std::optional<ArrayRef<int64_t>> shape = elementwiseShape(f))
        fusions.push_back({f, *shape});
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
  return false;
}

struct KilnMergeSiblingsPass
    : kiln::impl::KilnMergeSiblingsBase<KilnMergeSiblingsPass> {
  using Base::Base;
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      while (mergeOnePair(block)) {
      }
  }
};

} // namespace
